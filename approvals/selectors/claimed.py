"""How the read side tells that someone else is reviewing an item (claims are taken in approvals/claims.py)."""

# Claim `c` on pending approval `p` is held by someone other than %(viewer)s
# and has not expired: the one place the queue, "Next" and the live polls
# (selectors/queue.py, selectors/live.py) say "someone else is reviewing it".
CLAIMED_BY_OTHER_SQL = "c.approval_id = p.id and c.expires_at > now() and c.claimant <> %(viewer)s"
