"""Team review around the reviewer pages: claims, live updates, undo, reopen from History.

The queue and review pages call the helpers at the top; the views below are
the small endpoints their htmx attributes (and plain forms) talk to.
"""

import json
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from approvals import claims, decisions
from approvals.decisions import DecisionResult
from approvals.forms import QueueFilterForm
from approvals.models import ApprovalStatus
from approvals.selectors.filters import QueueFilters
from approvals.selectors.live import MAX_LIVE_ROWS, queue_row_state, queue_state, review_status, version_of
from approvals.selectors.queue import QueuePage, next_pending_id, pending_rows_of_artifacts
from approvals.selectors.review import ReviewContext

can_review = permission_required("approvals.can_review", raise_exception=True)
can_reopen = permission_required("approvals.can_reopen", raise_exception=True)

# How many items "Next" tries to claim before giving up on a burst of reviewers racing for the same ones.
NEXT_ATTEMPTS = 5
UNDO_COOKIE = "undo_offer"


# --- what the reviewer pages call ------------------------------------------------------------------


def next_claimed_id(*, after: uuid.UUID, filters: QueueFilters, username: str) -> uuid.UUID | None:
    """The next item nobody else is reviewing, claimed for `username`; None when none is left.

    Picking and claiming are two statements: a reviewer who loses the claim
    in between moves on to the next one instead of opening a taken item.
    """
    for _ in range(NEXT_ATTEMPTS):
        next_id = next_pending_id(after_approval_id=after, filters=filters, viewer=username)
        if next_id is None:
            return None
        if not claims.claim(approval_id=next_id, claimant=username).held_by_other_than(username):
            return next_id
        after = next_id
    return next_id


def remember_decision(request: HttpRequest, result: DecisionResult) -> dict:
    """The "Undo" offer for this decision: shown on this response's page, and on the pages that follow."""
    verb = "approval" if result.status == ApprovalStatus.APPROVED else "rejection"
    request.undo_offer = {
        "approval_id": str(result.approval_id),
        "label": f"the {verb} of {result.artifact_name} v{result.artifact_version}",
    }
    return request.undo_offer


def with_undo_offer(response: HttpResponse, offer: dict) -> HttpResponse:
    """Carry the offer in a signed cookie that lapses with the undo window: no session write per decision."""
    response.set_signed_cookie(
        UNDO_COOKIE,
        json.dumps(offer),
        salt=UNDO_COOKIE,
        max_age=settings.UNDO_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def _undo_offer(request: HttpRequest) -> dict | None:
    offer = getattr(request, "undo_offer", None)
    if offer is not None:
        return offer
    # The signature's timestamp bounds it too, whatever the browser does with max_age.
    signed = request.get_signed_cookie(UNDO_COOKIE, default=None, salt=UNDO_COOKIE, max_age=settings.UNDO_SECONDS)
    return json.loads(signed) if signed else None


def queue_extras(request: HttpRequest, page: QueuePage) -> dict:
    return {
        "live_version": version_of(queue_row_state(row) for row in page.rows),
        "poll_seconds": settings.LIVE_POLL_SECONDS,
        "undo_offer": _undo_offer(request),
    }


def review_extras(request: HttpRequest, review: ReviewContext | None) -> dict:
    live = review and review_status(approval_id=review.approval.id, viewer=request.user.get_username())
    return {
        "live": live,
        "rendered_pending": bool(review and review.approval.is_pending),
        "poll_seconds": settings.LIVE_POLL_SECONDS,
        # Renewed well before it lapses, so one lost request does not end it.
        "renew_seconds": max(5, claims.claim_seconds() // 5),
        "undo_offer": _undo_offer(request),
    }


# --- claims: the open page's heartbeat, and leaving -------------------------------------------------


@can_review
@require_POST
@never_cache
def approval_claim(request: HttpRequest, approval_id: uuid.UUID) -> HttpResponse:
    claims.renew(approval_id=approval_id, claimant=request.user.get_username())
    return HttpResponse(status=204)


@can_review
@require_POST
@never_cache
def approval_release(request: HttpRequest, approval_id: uuid.UUID) -> HttpResponse:
    """Leaving the page (navigator.sendBeacon): best effort, expiry covers the rest."""
    claims.release(approval_id=approval_id, claimant=request.user.get_username())
    return HttpResponse(status=204)


# --- live: conditional polls ------------------------------------------------------------------------


@can_review
@require_GET
@never_cache
def approval_live(request: HttpRequest, approval_id: uuid.UUID) -> HttpResponse:
    """The review page's status banner, or 204 while it would show what the page already shows."""
    live = review_status(approval_id=approval_id, viewer=request.user.get_username())
    if live is None:
        raise Http404("No such approval.")
    if request.GET.get("v") == live.version:
        return HttpResponse(status=204)
    context = {
        "live": live,
        "rendered_pending": request.GET.get("pending") == "1",
        "poll_seconds": settings.LIVE_POLL_SECONDS,
    }
    return render(request, "approvals/team/live_status.html", context)


def _artifact_ids(values: list[str]) -> list[uuid.UUID] | None:
    try:
        return [uuid.UUID(value) for value in values[:MAX_LIVE_ROWS]]
    except ValueError:
        return None


@can_review
@require_POST
@never_cache
def queue_live(request: HttpRequest) -> HttpResponse:
    """The queue rows whose state others changed (out-of-band swaps), or 204 when none did.

    POST because a page with "Load more" pressed a few times shows more ids than a URL holds.
    """
    artifact_ids = _artifact_ids(request.POST.getlist("live"))
    if artifact_ids is None:
        return HttpResponseBadRequest("live must list artifact ids.", content_type="text/plain")
    username = request.user.get_username()
    state = queue_state(artifact_ids=artifact_ids, viewer=username) if artifact_ids else []
    version = version_of(state)
    if request.POST.get("v") == version:
        return HttpResponse(status=204)
    pending = [artifact_id for artifact_id, approval_id, _ in state if approval_id]
    rows = {row.artifact_id: row for row in pending_rows_of_artifacts(artifact_ids=pending, viewer=username)}
    filter_form = QueueFilterForm(request.GET)
    context = {
        "shown": [(artifact_id, rows.get(artifact_id)) for artifact_id, _, _ in state],
        "live_version": version,
        "filter_query": filter_form.querystring(),
        "poll_seconds": settings.LIVE_POLL_SECONDS,
        "oob": True,
    }
    return render(request, "approvals/team/queue_live_update.html", context)


# --- undo and reopen --------------------------------------------------------------------------------


@can_review
@require_POST
def approval_undo(request: HttpRequest, approval_id: uuid.UUID) -> HttpResponse:
    """Undo one's own decision within UNDO_SECONDS; else say why not. A plain form: works without JavaScript."""
    try:
        result = decisions.undo(
            approval_id=approval_id, undone_by=request.user.get_username(), window_seconds=settings.UNDO_SECONDS
        )
    except decisions.NotFound as error:
        raise Http404(error.message) from error
    except decisions.DecisionError as error:
        messages.error(request, error.message)
        response = HttpResponseRedirect(reverse("approval-detail", args=[approval_id]), status=303)
    else:
        messages.success(request, "Undone: the item is pending again.")
        response = HttpResponseRedirect(reverse("approval-detail", args=[result.new_approval_id]), status=303)
    response.delete_cookie(UNDO_COOKIE, samesite="Lax")
    return response


@can_reopen
@require_POST
def approval_reopen(request: HttpRequest, approval_id: uuid.UUID) -> HttpResponse:
    """Reopen a decided item from History (the admin's reopen action, for leads)."""
    try:
        decisions.reopen(approval_id=approval_id, reopened_by=request.user.get_username())
    except decisions.NotFound as error:
        raise Http404(error.message) from error
    except decisions.DecisionError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(reverse("history"), status=303)
    messages.success(request, "Reopened: the item is pending again, at the end of the queue.")
    return HttpResponseRedirect(reverse("history"), status=303)
