"""The queue and History filters' menus as values their templates print: choices marked selected, the project menu.

Django renders a form widget through templates of its own, about 0.3 ms a
menu, on every page; the queue's four small menus are printed by the queue's
template from these values instead (the same markup Django's Select writes).

The project menu holds every project (1,000 at the benchmark's large scale):
a thousand <option>s through Django's template engine cost more than the rest
of the queue page (about 9 ms). Each worker reads the projects once every
PROJECT_MENU_SECONDS and escapes their names then; a page joins the options,
marking the chosen project by its id.
"""

import html
import threading
import time
import uuid
from dataclasses import dataclass

from django import forms
from django.utils.safestring import SafeString, mark_safe

from approvals.selectors.projects import project_choices

# How long a worker reuses the project list: a project added or renamed shows
# in the menu at most this late (the rows are never late).
PROJECT_MENU_SECONDS = 10


@dataclass(frozen=True, slots=True)
class MenuChoice:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class ChoiceMenu:
    """One <select> of a filter form: its field's name, label and choices, the submitted one selected."""

    name: str
    label: str
    choices: tuple[MenuChoice, ...]

    @property
    def html_id(self) -> str:
        return f"id_{self.name}"


def choice_menus(form: forms.Form, names: tuple[str, ...]) -> list[ChoiceMenu]:
    """The named ChoiceFields of a bound form as menus; a value that is not a choice selects none (as Django's)."""
    menus = []
    for name in names:
        field = form.fields[name]
        value = form[name].value()
        chosen = "" if value is None else str(value)
        choices = tuple(MenuChoice(str(key), str(label), str(key) == chosen) for key, label in field.choices)
        menus.append(ChoiceMenu(name=name, label=str(field.label), choices=choices))
    return menus


@dataclass(frozen=True)
class ProjectMenu:
    """Every project as (id, name escaped for HTML), in menu order."""

    options: tuple[tuple[str, str], ...]

    def options_html(self, selected: uuid.UUID | None) -> SafeString:
        chosen = str(selected) if selected else None
        options = [
            f'<option value="{value}"{" selected" if value == chosen else ""}>{name}</option>\n'
            for value, name in self.options
        ]
        # Escaped here: ids are UUIDs, names went through html.escape when the menu was read.
        return mark_safe('<option value="">All projects</option>\n' + "".join(options))  # noqa: S308


class _ProjectMenuMemo:
    """This worker's project menu and when it was read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._menu: ProjectMenu | None = None
        self._read_at = 0.0

    def get(self) -> ProjectMenu:
        with self._lock:
            if self._menu is None or time.monotonic() - self._read_at > PROJECT_MENU_SECONDS:
                options = tuple((str(project_id), html.escape(name)) for project_id, name in project_choices())
                self._menu, self._read_at = ProjectMenu(options=options), time.monotonic()
            return self._menu

    def forget(self) -> None:
        with self._lock:
            self._menu = None


_project_menu = _ProjectMenuMemo()


def project_options(selected: uuid.UUID | None) -> SafeString:
    """The project menu's <option>s, `selected` chosen (at most PROJECT_MENU_SECONDS old)."""
    return _project_menu.get().options_html(selected)


def forget_project_menu() -> None:
    """Read the projects afresh on the next page (as when PROJECT_MENU_SECONDS have passed)."""
    _project_menu.forget()
