"""What the open queue and review pages poll for: the state of what they show, and a fingerprint of it.

A page carries the fingerprint of what it rendered; a poll whose fingerprint still
matches costs one small indexed query and gets an empty answer. Everything
is read from the database, so any number of app servers answer alike.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from approvals.selectors.claimed import CLAIMED_BY_OTHER_SQL

# The most queue rows one poll follows (a page holds 50 by default; "Load more" adds pages).
MAX_LIVE_ROWS = 1_000


def fingerprint_of(parts) -> str:
    """A short hash of what a page shows: equal state, equal fingerprint."""
    text = "\n".join("|".join("" if value is None else str(value) for value in part) for part in parts)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def queue_row_state(row) -> tuple:
    """The part of a QueueRow that others change: its pending approval and who else is reviewing it."""
    return (row.artifact_id, row.id, row.reviewing)


# One index probe per row: the pending approval of each artifact (the unique
# partial index) and its live claim (the claims' primary key).
_QUEUE_STATE_SQL = f"""
select shown.artifact_id, p.id, c.claimant
  from unnest(%(artifact_ids)s::uuid[]) with ordinality as shown(artifact_id, position)
  left join approvals p on p.artifact_id = shown.artifact_id and p.status = 'pending'
  left join review_claims c on {CLAIMED_BY_OTHER_SQL}
 order by shown.position
"""  # noqa: S608 (fixed SQL)


def queue_state(*, artifact_ids: list[uuid.UUID], viewer: str) -> list[tuple]:
    """(artifact id, its pending approval id or None, who else reviews it or None), in the order given."""
    with connection.cursor() as cursor:
        cursor.execute(_QUEUE_STATE_SQL, {"artifact_ids": artifact_ids[:MAX_LIVE_ROWS], "viewer": viewer})
        return [tuple(row) for row in cursor.fetchall()]


@dataclass(frozen=True)
class ReviewStatus:
    """One approval as others may have changed it since its page was rendered."""

    approval_id: uuid.UUID
    status: str
    decided_by: str | None
    decided_at: datetime | None
    reviewing: str | None  # who else has it open now
    pending_id: uuid.UUID | None  # a newer pending approval of the same artifact (reopened or undone)

    @property
    def is_pending(self) -> bool:
        return self.status == "pending"

    @property
    def fingerprint(self) -> str:
        return fingerprint_of([(self.status, self.decided_by, self.reviewing, self.pending_id)])


_REVIEW_STATUS_SQL = f"""
select p.id, p.status, p.decided_by, p.decided_at,
       (select c.claimant from review_claims c where {CLAIMED_BY_OTHER_SQL}),
       (select q.id from approvals q
         where q.artifact_id = p.artifact_id and q.status = 'pending' and q.id <> p.id)
  from approvals p
 where p.id = %(approval_id)s
"""  # noqa: S608 (fixed SQL)


def review_status(*, approval_id: uuid.UUID, viewer: str) -> ReviewStatus | None:
    with connection.cursor() as cursor:
        cursor.execute(_REVIEW_STATUS_SQL, {"viewer": viewer, "approval_id": approval_id})
        row = cursor.fetchone()
    return ReviewStatus(*row) if row else None
