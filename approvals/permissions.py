"""Who may do what, asked in one place: every door to an action (a reviewer page, a live poll, a file,
History, analytics, an admin action) calls the same predicate, so the doors cannot disagree.

The predicates take the user as a keyword argument, as the services do; the
view decorators below turn a refusal into a 403 that says what is missing.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

REVIEW = "approvals.can_review"
REOPEN = "approvals.can_reopen"
VIEW_ANALYTICS = "approvals.view_analytics"
REQUEUE = "approvals.change_job"
VIEW_RUNS = ("approvals.view_run", "approvals.change_run")

# What request.user holds: an account, or nobody signed in (who may do nothing).
RequestUser = AbstractUser | AnonymousUser

REVIEW_REFUSAL = (
    "This account cannot review artifacts yet: it needs the permission approvals.can_review "
    "(the Reviewers group). Ask an administrator to add it, then reload this page."
)
REOPEN_REFUSAL = (
    "Reopening a decision needs the permission approvals.can_reopen (the Leads group, and superusers). "
    "Ask a lead to reopen it, or an administrator to add this account to Leads."
)
ANALYTICS_REFUSAL = (
    "Review analytics are for staff and for accounts with the permission approvals.view_analytics "
    "(the Leads group). Ask an administrator for access."
)

COSTS_REFUSAL = "The costs dashboard is for staff who may view runs (the permission approvals.view_run)."


def may_review(*, user: RequestUser) -> bool:
    """Read drafts, their files and History, and decide: the reviewer pages, their live polls, the admin's
    approve and reject actions."""
    return user.is_active and user.has_perm(REVIEW)


def may_reopen(*, user: RequestUser) -> bool:
    """Reopen a decided approval, from History or from the admin's action: Leads and superusers."""
    return user.is_active and user.has_perm(REOPEN)


def may_view_analytics(*, user: RequestUser) -> bool:
    """The review analytics pages: every reviewer's throughput and the costs of rejected drafts."""
    return user.is_active and (user.is_staff or user.has_perm(VIEW_ANALYTICS))


def may_view_costs(*, user: RequestUser) -> bool:
    """The ops console's costs dashboard: staff who may see runs (it sums their costs and tokens)."""
    return user.is_active and user.is_staff and any(user.has_perm(name) for name in VIEW_RUNS)


def may_requeue(*, user: RequestUser) -> bool:
    """Put failed jobs back in the pipeline's queue (the admin's action): staff who may change jobs."""
    return user.is_active and user.is_staff and user.has_perm(REQUEUE)


def _door(may: Callable[..., bool], refusal: str):
    """A view decorator: anonymous users go to the login page, signed-in users without `may` get a 403
    saying `refusal`. The check sits on the view itself, so no partial or poll bypasses it."""

    def decorator(view):
        @wraps(view)
        def guarded(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not may(user=request.user):
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return guarded

    return decorator


review_required = _door(may_review, REVIEW_REFUSAL)
reopen_required = _door(may_reopen, REOPEN_REFUSAL)
analytics_required = _door(may_view_analytics, ANALYTICS_REFUSAL)
