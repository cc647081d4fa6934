"""The one writer of review state: decide (all four outcomes), reopen, undo, requeue (claims: approvals/claims.py).

Each is one transaction. Views, admin actions and tests all call these; there
is no second code path. Who wins a race is settled by PostgreSQL (a
conditional UPDATE), never by a check made in Python beforehand. A decision is
three steps (deciding.py): close the pending approval, the outcome's own step,
and the shared ending (results.announce: one notify, one log line); reopen and
undo open a new pending approval and end the same way (reopening.py).
docs/pipeline.md lists the rows each writes and the payloads.
"""

from approvals.decisions.deciding import approve_with_edits, decide, record_decision, request_changes
from approvals.decisions.errors import (
    AlreadyDecided,
    DecisionError,
    InvalidDecision,
    NotFound,
    NotReopenable,
    NotRequeueable,
    NotUndoable,
)
from approvals.decisions.inputs import clean_notes, clean_reasons, clean_rejection, rejection_needs_a_reason
from approvals.decisions.reopening import reopen, requeue, undo
from approvals.decisions.results import NOTIFY_CHANNEL, DecisionResult, ReopenResult, RequeueResult, notify_payload

__all__ = [
    "NOTIFY_CHANNEL",
    "AlreadyDecided",
    "DecisionError",
    "DecisionResult",
    "InvalidDecision",
    "NotFound",
    "NotReopenable",
    "NotRequeueable",
    "NotUndoable",
    "ReopenResult",
    "RequeueResult",
    "approve_with_edits",
    "clean_notes",
    "clean_reasons",
    "clean_rejection",
    "decide",
    "notify_payload",
    "record_decision",
    "rejection_needs_a_reason",
    "reopen",
    "request_changes",
    "requeue",
    "undo",
]
