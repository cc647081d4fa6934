"""The queue and history filters, the keyset cursor, and the decision form.

Filters are forgiving: a value that does not parse is dropped and the page says
so (a hand-edited URL never produces an error page). A cursor is not typed by
people, so a malformed one is a bad request.
"""

from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import BadRequest

from approvals import decisions
from approvals.models import NOTES_MAX_LENGTH, ApprovalOutcome, ApprovalReason, ApprovalStatus, ArtifactKind
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
        choices=[
            ("", "Any decision"),
            (ApprovalStatus.APPROVED, "Approved (all)"),
            (ApprovalStatus.REJECTED, "Rejected (all)"),
            (ApprovalOutcome.APPROVED_WITH_EDITS, "Approved with edits"),
            (ApprovalOutcome.CHANGES_REQUESTED, "Changes requested"),
            (ApprovalOutcome.REPLACED_BY_EDIT, "Replaced by edit"),
        ],
    )
    reason = forms.ChoiceField(label="Reason", required=False, choices=[("", "Any reason"), *ApprovalReason.choices])
    project = forms.UUIDField(label="Project", required=False)
    decided_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    decided_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    query_fields = ("reviewer", "decision", "reason", "project", "decided_from", "decided_to")

    def filters(self) -> HistoryFilters:
        data = self.valid_data()
        return HistoryFilters(
            reviewer=data.get("reviewer") or "",
            decision=data.get("decision") or None,
            project_id=data.get("project"),
            decided_from=data.get("decided_from"),
            decided_to=data.get("decided_to"),
            reason=data.get("reason") or None,
        )


class NotesField(forms.CharField):
    def to_python(self, value):
        # Browsers send textarea line breaks as CRLF; count and store them as one character each.
        return super().to_python(value).replace("\r\n", "\n")


# What the decision buttons send; the last two are approvals.revisions' decisions.
DECISIONS = [
    (ApprovalStatus.APPROVED, "Approve"),
    (ApprovalStatus.REJECTED, "Reject"),
    (ApprovalOutcome.CHANGES_REQUESTED, "Request changes"),
    (ApprovalOutcome.APPROVED_WITH_EDITS, "Approve with edits"),
]
CHOOSE_A_DECISION = "Choose Approve, Request changes or Reject."
# Decisions that need a reason code or a note, and how their message names them.
NEEDS_A_REASON = {ApprovalStatus.REJECTED: "reject", ApprovalOutcome.CHANGES_REQUESTED: "request changes"}


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=DECISIONS,
        error_messages={"required": CHOOSE_A_DECISION, "invalid_choice": CHOOSE_A_DECISION},
    )
    reasons = forms.MultipleChoiceField(
        label="Reasons",
        required=False,
        choices=ApprovalReason.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Unknown reason code %(value)s."},
    )
    # The edited text or JSON; approvals.revisions.parse_edit says what is wrong with it.
    edited_body = forms.CharField(required=False, strip=False)
    notes = NotesField(
        label="Notes",
        required=False,
        max_length=NOTES_MAX_LENGTH,
        error_messages={
            "max_length": f"Notes are limited to {NOTES_MAX_LENGTH:,} characters (these have %(show_value)s)."
        },
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "Optional to approve; what should change, to reject"}),
    )

    def clean_notes(self) -> str:
        # The service's own rules (as in the admin's form), so the form and the service cannot disagree;
        # whether a note is needed depends on the reasons too, so clean() decides that.
        try:
            return decisions.clean_notes(self.cleaned_data["notes"], required=False)
        except decisions.InvalidDecision as refusal:
            raise forms.ValidationError(refusal.message) from refusal

    def clean(self):
        cleaned = super().clean()
        verb = NEEDS_A_REASON.get(cleaned.get("decision"))
        if verb and "notes" in cleaned and not cleaned["notes"] and not cleaned.get("reasons"):
            self.add_error("notes", decisions.rejection_needs_a_reason(verb))
        return cleaned
