"""The queue and history filters, the keyset cursor, and the decision form.

Filters are forgiving: a value that does not parse is dropped and the page says
so (a hand-edited URL never produces an error page). A cursor is not typed by
people, so a malformed one is a bad request.
"""

from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import BadRequest

from approvals.models import NOTES_MAX_LENGTH, ApprovalStatus, ArtifactKind
from approvals.selectors.filters import HistoryFilters, MediaFamily, QueueFilters
from approvals.selectors.keyset import MAX_PAGE_SIZE, Cursor

WAITED = {
    "1h": ("1 hour", timedelta(hours=1)),
    "4h": ("4 hours", timedelta(hours=4)),
    "1d": ("1 day", timedelta(days=1)),
    "3d": ("3 days", timedelta(days=3)),
    "1w": ("1 week", timedelta(weeks=1)),
}


def parse_cursor(value: str | None) -> Cursor | None:
    if not value:
        return None
    try:
        return Cursor.decode(value)
    except ValueError as exc:
        raise BadRequest("Malformed page cursor.") from exc


class FilterForm(forms.Form):
    """A GET form whose valid fields become filters and whose invalid ones are ignored."""

    query_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def valid_data(self) -> dict:
        self.is_valid()  # fills cleaned_data with the fields that parsed
        return self.cleaned_data

    def ignored(self) -> list[str]:
        """One line per dropped value, for the page to show."""
        self.is_valid()
        return [f"{self.fields[name].label}: {' '.join(errors)}" for name, errors in self.errors.items()]

    def querystring(self, **extra) -> str:
        """The valid, non-empty filters as a query string, to carry into links."""
        data = self.valid_data()
        pairs = [(name, self.data[name]) for name in self.query_fields if data.get(name) not in (None, "")]
        pairs += [(name, value) for name, value in extra.items() if value not in (None, "")]
        return urlencode(pairs)


class QueueFilterForm(FilterForm):
    q = forms.CharField(
        label="Name",
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search names", "autocomplete": "off"}),
    )
    project = forms.UUIDField(label="Project", required=False)
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "Any kind"), *ArtifactKind.choices])
    media = forms.ChoiceField(label="Media", required=False, choices=[("", "Any media"), *MediaFamily.choices])
    waited = forms.ChoiceField(
        label="Waited longer than",
        required=False,
        choices=[("", "Any wait"), *((key, label) for key, (label, _) in WAITED.items())],
    )
    sla = forms.ChoiceField(label="Review target", required=False, choices=[("", "Any"), ("overdue", "Overdue")])
    limit = forms.IntegerField(label="Page size", required=False, min_value=1, max_value=MAX_PAGE_SIZE)

    query_fields = ("q", "project", "kind", "media", "waited", "sla")

    def filters(self) -> QueueFilters:
        data = self.valid_data()
        waited = data.get("waited")
        return QueueFilters(
            project_id=data.get("project"),
            kind=data.get("kind") or None,
            media=data.get("media") or None,
            waited=WAITED[waited][1] if waited else None,
            search=data.get("q") or "",
            overdue=data.get("sla") == "overdue",
        )

    def page_size(self, default: int) -> int:
        return self.valid_data().get("limit") or default

    @property
    def is_filtered(self) -> bool:
        return self.filters() != QueueFilters()


class HistoryFilterForm(FilterForm):
    reviewer = forms.CharField(label="Reviewer", required=False, max_length=150)
    decision = forms.ChoiceField(
        label="Decision",
        required=False,
        choices=[("", "Any decision"), (ApprovalStatus.APPROVED, "Approved"), (ApprovalStatus.REJECTED, "Rejected")],
    )
    project = forms.UUIDField(label="Project", required=False)
    decided_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    decided_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    query_fields = ("reviewer", "decision", "project", "decided_from", "decided_to")

    def filters(self) -> HistoryFilters:
        data = self.valid_data()
        return HistoryFilters(
            reviewer=data.get("reviewer") or "",
            decision=data.get("decision") or None,
            project_id=data.get("project"),
            decided_from=data.get("decided_from"),
            decided_to=data.get("decided_to"),
        )


class NotesField(forms.CharField):
    def to_python(self, value):
        # Browsers send textarea line breaks as CRLF; count and store them as one character each.
        return super().to_python(value).replace("\r\n", "\n")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[(ApprovalStatus.APPROVED, "Approve"), (ApprovalStatus.REJECTED, "Reject")],
        error_messages={"required": "Choose Approve or Reject.", "invalid_choice": "Choose Approve or Reject."},
    )
    notes = NotesField(
        label="Notes",
        required=False,
        max_length=NOTES_MAX_LENGTH,
        error_messages={
            "max_length": f"Notes are limited to {NOTES_MAX_LENGTH:,} characters (these have %(show_value)s)."
        },
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "Optional to approve; what should change, to reject"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == ApprovalStatus.REJECTED and "notes" in cleaned and not cleaned["notes"]:
            self.add_error("notes", "A reason is required to reject: say what should change.")
        return cleaned
