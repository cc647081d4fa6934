"""Review claims: who has a pending item open, so that "Next" steers reviewers apart.

A claim is taken, renewed and released here. Taking one is a single
statement (insert ... on conflict ... where), so of two reviewers racing for
the same item exactly one gets it; times come from the database's clock, so
app servers whose clocks differ still agree on what has expired. Claims steer,
they never block: decide() ignores them, and ends the claim on what it decides.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

# Raw SQL: the ORM has no INSERT ... ON CONFLICT DO UPDATE ... WHERE, and the
# WHERE is what settles a race between two reviewers. The statement answers
# who holds the claim afterwards: the claim it took, else the one it found.
_TAKE_SQL = """
with {release_others}
taken as (
  insert into review_claims as held (approval_id, claimant, claimed_at, expires_at)
  select p.id, %(claimant)s, now(), now() + make_interval(secs => %(seconds)s)
    from approvals p
   where p.id = %(approval_id)s and p.status = 'pending'
     -- The reviewer's own claim with over half its time left stands as it is:
     -- opening the same page again writes nothing (no row lock, no commit to flush).
     and not exists (select 1 from review_claims fresh
                      where fresh.approval_id = p.id and fresh.claimant = %(claimant)s
                        and fresh.expires_at > now() + make_interval(secs => %(seconds)s / 2.0))
  on conflict (approval_id) do update
     set claimant = excluded.claimant,
         claimed_at = case when held.claimant = excluded.claimant and held.expires_at > now()
                           then held.claimed_at else excluded.claimed_at end,
         expires_at = excluded.expires_at
   where held.expires_at <= now() or held.claimant = excluded.claimant
  returning claimant, expires_at
)
select claimant, expires_at from taken
union all
select claimant, expires_at from review_claims
 where approval_id = %(approval_id)s and expires_at > now() and not exists (select 1 from taken)
"""

# When an item is opened, the same statement lets go of the reviewer's other items.
_RELEASE_OTHERS = """released as (
  delete from review_claims where claimant = %(claimant)s and approval_id <> %(approval_id)s
),"""

# Claim `c` on pending approval `p` is held by someone other than %(viewer)s
# and has not expired: the one place the queue, "Next" and the live polls
# (selectors/queue.py, selectors/live.py) say "someone else is reviewing it".
CLAIMED_BY_OTHER_SQL = "c.approval_id = p.id and c.expires_at > now() and c.claimant <> %(viewer)s"

# A claim lost to a racing reviewer is invisible to the statement that lost it
# (it was committed after that statement began): a second look sees it.
_HOLDER_SQL = "select claimant, expires_at from review_claims where approval_id = %s and expires_at > now()"


@dataclass(frozen=True)
class ClaimState:
    """Who holds the claim on one approval now; claimant None when nobody does (or it is not pending)."""

    approval_id: uuid.UUID
    claimant: str | None
    expires_at: datetime | None

    def held_by_other_than(self, username: str) -> bool:
        return self.claimant is not None and self.claimant != username


def claim_seconds() -> int:
    return settings.REVIEW_CLAIM_SECONDS


def _take(cursor, *, approval_id: uuid.UUID, claimant: str, release_others: bool = False) -> ClaimState:
    sql = _TAKE_SQL.format(release_others=_RELEASE_OTHERS if release_others else "")
    cursor.execute(sql, {"approval_id": approval_id, "claimant": claimant, "seconds": claim_seconds()})
    row = cursor.fetchone()
    if row is None:  # nobody holds it (it is no longer pending), or a racing reviewer just took it
        cursor.execute(_HOLDER_SQL, [approval_id])
        row = cursor.fetchone() or (None, None)
    return ClaimState(approval_id=approval_id, claimant=row[0], expires_at=row[1])


def claim(*, approval_id: uuid.UUID, claimant: str) -> ClaimState:
    """Open an item: take (or keep) its claim, and let go of the other items this reviewer held.

    Returns who holds it afterwards: the claimant, or the reviewer who got there first.
    """
    with connection.cursor() as cursor:
        return _take(cursor, approval_id=approval_id, claimant=claimant, release_others=True)


def renew(*, approval_id: uuid.UUID, claimant: str) -> ClaimState:
    """The open page's heartbeat: extend this reviewer's claim, or take it if it has lapsed meanwhile.

    Unlike claim(), other claims of the reviewer are left alone (a second tab keeps its own).
    """
    with connection.cursor() as cursor:
        return _take(cursor, approval_id=approval_id, claimant=claimant)


def release(*, approval_id: uuid.UUID, claimant: str | None) -> bool:
    """End a claim: the reviewer's own (leaving the page), or whoever holds it (claimant None: staff)."""
    with connection.cursor() as cursor:
        if claimant is None:
            cursor.execute("delete from review_claims where approval_id = %s", [approval_id])
        else:
            cursor.execute(
                "delete from review_claims where approval_id = %s and claimant = %s", [approval_id, claimant]
            )
        released = cursor.rowcount > 0
    if released:
        logger.info("claim on approval %s released (%s)", approval_id, claimant or "by staff")
    return released
