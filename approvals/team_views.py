"""Team review around the reviewer pages: claims, live updates, undo, reopen from History.

The queue and review pages call the helpers at the top; the views below are
the small endpoints their htmx attributes (and plain forms) talk to.
"""

import json
import uuid

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from approvals import claims, decisions
from approvals.decisions import DecisionResult
from approvals.forms import QueueFilterForm
from approvals.models import ApprovalOutcome
from approvals.permissions import reopen_required, review_required
from approvals.selectors.live import MAX_LIVE_ROWS, fingerprint_of, queue_row_state, queue_state, review_status
from approvals.selectors.queue import QueuePage, pending_rows_of_artifacts
from approvals.selectors.review import ReviewContext

UNDO_COOKIE = "undo_offer"


# --- what the reviewer pages call ------------------------------------------------------------------


# What the Undo offer names, by the decision's outcome: "You can take back <label> <name> v<version>".
UNDO_LABELS = {
    ApprovalOutcome.APPROVED: "the approval of",
    ApprovalOutcome.REJECTED: "the rejection of",
    ApprovalOutcome.CHANGES_REQUESTED: "the request for changes to",
    ApprovalOutcome.APPROVED_WITH_EDITS: "the approval with edits of",
}


def remember_decision(request: HttpRequest, result: DecisionResult) -> dict:
    """The "Undo" offer for this decision: shown on this response's page, and on the pages that follow."""
    request.undo_offer = {
        "user": request.user.pk,
        "approval_id": str(result.approval_id),
        "label": f"{UNDO_LABELS[result.outcome]} {result.artifact_name} v{result.artifact_version}",
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
    offer = json.loads(signed) if signed else None
    # The browser keeps the cookie across a logout: the next person to log in there is not offered it.
    return offer if offer and offer.get("user") == request.user.pk else None


def queue_extras(request: HttpRequest, page: QueuePage) -> dict:
    return {
        "live_fingerprint": fingerprint_of(queue_row_state(row) for row in page.rows),
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
        "opened_token": review and opened_token(approval_id=review.approval.id, username=request.user.get_username()),
        "undo_offer": _undo_offer(request),
    }


# --- claims: the open page's heartbeat, and leaving -------------------------------------------------


# How long an open review page's heartbeat may keep its claim alive: a working day.
OPENED_TOKEN_MAX_AGE = 12 * 3600


def opened_token(*, approval_id: uuid.UUID, username: str) -> str:
    """Signed proof, carried by the review page's heartbeat, that this reviewer opened this item."""
    return signing.dumps([str(approval_id), username], salt="approval-opened", compress=True)


def _opened_by(token: str | None, *, approval_id: uuid.UUID, username: str) -> bool:
    try:
        opened = signing.loads(token or "", salt="approval-opened", max_age=OPENED_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return False
    return opened == [str(approval_id), username]


@review_required
@require_POST
@never_cache
def approval_claim(request: HttpRequest, approval_id: uuid.UUID) -> HttpResponse:
    """The open review page's heartbeat. It renews only an item its page opened: else one reviewer
    could claim the whole queue without opening anything, and everyone else's "Next" would find nothing."""
    username = request.user.get_username()
    if not _opened_by(request.POST.get("opened"), approval_id=approval_id, username=username):
        return HttpResponse("Open the item to claim it: this heartbeat is not from its page.", status=403)
    claims.renew(approval_id=approval_id, claimant=username)
    return HttpResponse(status=204)


@review_required
@require_POST
@never_cache
def approval_release(request: HttpRequest, approval_id: uuid.UUID) -> HttpResponse:
    """Leaving the page (navigator.sendBeacon): best effort, expiry covers the rest."""
    claims.release(approval_id=approval_id, claimant=request.user.get_username())
    return HttpResponse(status=204)


# --- live: conditional polls ------------------------------------------------------------------------


@review_required
@require_GET
@never_cache
def approval_live(request: HttpRequest, approval_id: uuid.UUID) -> HttpResponse:
    """The review page's status banner, or 204 while it would show what the page already shows."""
    live = review_status(approval_id=approval_id, viewer=request.user.get_username())
    if live is None:
        raise Http404("No such approval.")
    if request.GET.get("fingerprint") == live.fingerprint:
        return HttpResponse(status=204)
    context = {
        "live": live,
        "rendered_pending": request.GET.get("pending") == "1",
        "poll_seconds": settings.LIVE_POLL_SECONDS,
    }
    return render(request, "approvals/review.html#live-status", context)


def _artifact_ids(values: list[str]) -> list[uuid.UUID] | None:
    try:
        return [uuid.UUID(value) for value in values[:MAX_LIVE_ROWS]]
    except ValueError:
        return None


@review_required
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
    fingerprint = fingerprint_of(state)
    if request.POST.get("fingerprint") == fingerprint:
        return HttpResponse(status=204)
    pending = [artifact_id for artifact_id, approval_id, _ in state if approval_id]
    rows = {row.artifact_id: row for row in pending_rows_of_artifacts(artifact_ids=pending, viewer=username)}
    filter_form = QueueFilterForm(request.GET)
    context = {
        "shown": [(artifact_id, rows.get(artifact_id)) for artifact_id, _, _ in state],
        "live_fingerprint": fingerprint,
        "filter_query": filter_form.querystring(),
        "poll_seconds": settings.LIVE_POLL_SECONDS,
        "oob": True,
    }
    return render(request, "approvals/queue.html#queue-live-update", context)


# --- undo and reopen --------------------------------------------------------------------------------


@review_required
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


@reopen_required
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
