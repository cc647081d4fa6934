"""What every console action shares: who may run it, a bound on how many rows one request touches, and a report.

The actions themselves call the decision service once per row (one
transaction each), so an action over many rows is as safe as that many
clicks in the reviewer UI, and as slow: hence the bound.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib import admin, messages

from approvals import permissions

ACTION_LIMIT = 500
NAMES_SHOWN = 10


class ActionPermissions:
    """The permissions an action names (`@admin.action(permissions=["reopen"])`), asked of the same
    predicates as the reviewer pages: reopening here and from History is one rule."""

    def has_review_permission(self, request) -> bool:
        return permissions.may_review(user=request.user)

    def has_reopen_permission(self, request) -> bool:
        return permissions.may_reopen(user=request.user)

    def has_requeue_permission(self, request) -> bool:
        return permissions.may_requeue(user=request.user)


def selected_within_limit(model_admin: admin.ModelAdmin, request, queryset, *, related: tuple[str, ...] = ()):
    """The selected rows, or None (with an error message) when there are more than ACTION_LIMIT."""
    rows = list(queryset.select_related(*related)[: ACTION_LIMIT + 1])
    if len(rows) > ACTION_LIMIT:
        model_admin.message_user(
            request,
            f"More than {ACTION_LIMIT:,} rows selected: nothing was changed. "
            "Narrow the selection with the filters and run the action again.",
            messages.ERROR,
        )
        return None
    return rows


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN:,} more" if len(names) > NAMES_SHOWN else "")


@dataclass
class ActionReport:
    """What an action changed and what it left alone, and why, as admin messages."""

    done_verb: str
    noun: str
    changed: list[str] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def change(self, name: str) -> None:
        self.changed.append(name)

    def skip(self, name: str, reason: str) -> None:
        self.skipped[reason].append(name)

    def _count(self, n: int) -> str:
        return f"{n:,} {self.noun}" + ("" if n == 1 else "s")

    def send(self, model_admin: admin.ModelAdmin, request) -> None:
        if self.changed:
            model_admin.message_user(
                request, f"{self.done_verb} {self._count(len(self.changed))}: {_names(self.changed)}.", messages.SUCCESS
            )
        for reason, names in self.skipped.items():
            model_admin.message_user(
                request, f"Skipped {self._count(len(names))} ({_names(names)}): {reason}", messages.WARNING
            )
        if not self.changed and not self.skipped:
            model_admin.message_user(request, "Nothing was selected.", messages.WARNING)
