"""The queue and History filters' menus as values their templates print: the <option>s of each <select>.

Django renders a form widget through templates of its own, about 0.3 ms a
menu, on every page; and a thousand <option>s (the project menu at the
benchmark's large scale) through Django's template engine cost more than the
rest of the queue page (about 9 ms). So a menu's options are joined here from
(value, label) pairs escaped as Django's autoescape would, the chosen one
marked by its value: the markup Django's Select writes, at a hundredth of the
cost (docs/benchmarks.md, "One engine for the reviewer pages").

Each worker reads the projects once every PROJECT_MENU_SECONDS and escapes
their names then: the data is kept, never rendered HTML.
"""

import html
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django import forms
from django.utils.safestring import SafeString

from approvals.selectors.projects import project_choices

# How long a worker reuses the project list: a project added or renamed shows
# in the menu at most this late (the rows are never late).
PROJECT_MENU_SECONDS = 10


def option_html(value: str, label: str, *, selected: bool = False) -> str:
    """One <option> of a value and label already escaped."""
    return f'<option value="{value}"{" selected" if selected else ""}>{label}</option>\n'


def options_html(options: Iterable[tuple[str, str]], chosen: str | None) -> SafeString:
    """<option>s of (value, label) pairs already escaped, the one whose value is `chosen` selected."""
    return SafeString("".join([option_html(value, label, selected=value == chosen) for value, label in options]))


def _escaped_pairs(pairs) -> tuple[tuple[str, str], ...]:
    return tuple((html.escape(str(value)), html.escape(str(label))) for value, label in pairs)


@dataclass(frozen=True)
class ChoiceMenu:
    """One <select> of a filter form: its field's name and label, and its options with the submitted one selected."""

    name: str
    label: str
    options_html: SafeString

    @property
    def html_id(self) -> str:
        return f"id_{self.name}"


def choice_menus(form: forms.Form, names: tuple[str, ...]) -> list[ChoiceMenu]:
    """The named ChoiceFields of a bound form as menus; a value that is not a choice selects none (as Django's)."""
    menus = []
    for name in names:
        field = form.fields[name]
        value = form[name].value()
        chosen = html.escape("" if value is None else str(value))
        options = options_html(_escaped_pairs(field.choices), chosen)
        menus.append(ChoiceMenu(name=name, label=str(field.label), options_html=options))
    return menus


class ProjectMenu:
    """Every project as (id, name escaped for HTML), in menu order, each also as its unselected <option>.

    The menu is a thousand options at the benchmark's large scale: formatting
    each on every page cost 0.12 ms, joining the ones formatted when the list
    was read costs a tenth of that. Only the selected project's option is
    formatted per page.
    """

    def __init__(self, options: tuple[tuple[str, str], ...]) -> None:
        self.options = (("", "All projects"), *options)
        self._lines = [option_html(value, label) for value, label in self.options]
        self._position = {value: index for index, (value, _) in enumerate(self.options)}

    def options_html(self, selected: uuid.UUID | None) -> SafeString:
        index = self._position.get(str(selected)) if selected else None
        if index is None:
            return SafeString("".join(self._lines))
        lines = self._lines.copy()
        lines[index] = option_html(*self.options[index], selected=True)
        return SafeString("".join(lines))


class _ProjectMenuMemo:
    """This worker's project menu and when it was read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._menu: ProjectMenu | None = None
        self._read_at = 0.0

    def get(self) -> ProjectMenu:
        with self._lock:
            if self._menu is None or time.monotonic() - self._read_at > PROJECT_MENU_SECONDS:
                options = _escaped_pairs(project_choices())
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
