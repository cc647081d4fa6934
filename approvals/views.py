"""Reviewer pages: thin views that parse the request, call a selector or the decision service, and render."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url
from django_htmx.middleware import HtmxDetails

from approvals import claims
from approvals.decisions import AlreadyDecided, DecisionError, NotFound, record_decision
from approvals.filter_menus import choice_menus, project_options
from approvals.forms import DecisionForm, HistoryFilterForm, QueueFilterForm, parse_cursor
from approvals.models import ApprovalOutcome
from approvals.permissions import review_required
from approvals.plumbing.security_headers import keeps_no_copy
from approvals.selectors.history import decided_history
from approvals.selectors.keyset import PAGE_SIZE
from approvals.selectors.queue import pending_queue
from approvals.selectors.review import ReviewContext, review_context
from approvals.selectors.revision_panels import revision_panels
from approvals.team_views import queue_extras, remember_decision, review_extras, with_undo_offer


@login_not_required
@require_safe  # GET and HEAD: load balancers probe with either
@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("select 1")
    except DatabaseError:
        return JsonResponse({"database": "unavailable"}, status=503)
    return JsonResponse({"database": "ok"})


# --- Reviewer pages -----------------------------------------------------------
# Every view below checks the permission itself: a check living only around a
# partial in a template could be bypassed by requesting the partial.


# The confirmation after each decision: "<verb> <name> v<version>."
CONFIRMATION_VERBS = {
    ApprovalOutcome.APPROVED: "Approved",
    ApprovalOutcome.REJECTED: "Rejected",
    ApprovalOutcome.CHANGES_REQUESTED: "Requested changes to",
    ApprovalOutcome.APPROVED_WITH_EDITS: "Approved with edits:",
}


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _wants_partial(request: HtmxHttpRequest) -> bool:
    # A history restore after a cache miss needs the whole page.
    return bool(request.htmx) and not request.htmx.history_restore_request


def _with_query(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url


def _join(*queries: str) -> str:
    return "&".join(query for query in queries if query)


@keeps_no_copy
@review_required
@require_GET
@vary_on_headers("HX-Request")
def queue(request: HtmxHttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET)
    filters = form.filters()
    after = parse_cursor(request.GET.get("after"))
    limit = form.page_size(PAGE_SIZE)
    page = pending_queue(filters=filters, after=after, limit=limit, viewer=request.user.get_username())
    context = {
        **queue_extras(request, page),
        "form": form,
        "page": page,
        "after": after,
        "filter_query": form.querystring(),
        "more_query": form.querystring(
            limit=limit if limit != PAGE_SIZE else None,
            after=page.next_cursor.encode() if page.next_cursor else None,
        ),
    }
    if _wants_partial(request):
        # "Load more" appends rows; a change of filters replaces the results.
        partial = "queue-rows" if after else "queue-results"
        return render(request, f"approvals/queue.html#{partial}", context)
    context["project_options"] = project_options(filters.project_id)
    context["filter_menus"] = choice_menus(form, ("kind", "media", "waited", "sla"))
    return render(request, "approvals/queue.html", context)


def _review_response(
    request: HtmxHttpRequest,
    *,
    review: ReviewContext | None,
    filter_form: QueueFilterForm,
    decision_form: DecisionForm,
    status: int = 200,
) -> HttpResponse:
    context = {
        **review_extras(request, review),
        **revision_panels(review=review, typed_edit=_refused_edit(decision_form)),
        "review": review,
        "decision_form": decision_form,
        "filter_query": filter_form.querystring(),
        "queue_url": _with_query(reverse("queue"), filter_form.querystring()),
    }
    template = "approvals/review.html#review-swap" if _wants_partial(request) else "approvals/review.html"
    return render(request, template, context, status=status)


def _refused_edit(form: DecisionForm) -> str | None:
    """What a refused "Approve with edits" held, so that the editor opens again holding it."""
    if not form.is_bound or form.data.get("decision") != "approved_with_edits":
        return None
    return form.data.get("edited_body")


def _review_or_404(approval_id: uuid.UUID, filters, viewer: str) -> ReviewContext:
    review = review_context(approval_id=approval_id, filters=filters, viewer=viewer)
    if review is None:
        raise Http404("No such approval.")
    return review


@keeps_no_copy
@review_required
@require_GET
@vary_on_headers("HX-Request")
def approval_detail(request: HtmxHttpRequest, approval_id: uuid.UUID) -> HttpResponse:
    filter_form = QueueFilterForm(request.GET)
    # Opening an item claims it (before reading, so "Next" on this page passes over others' claims).
    claims.claim(approval_id=approval_id, claimant=request.user.get_username())
    review = _review_or_404(approval_id, filter_form.filters(), request.user.get_username())
    return _review_response(request, review=review, filter_form=filter_form, decision_form=DecisionForm())


@keeps_no_copy
@review_required
@require_POST
def approval_decide(request: HtmxHttpRequest, approval_id: uuid.UUID) -> HttpResponse:
    """Record a decision, then show the next pending item (htmx swap, or a redirect without JavaScript)."""
    filter_form = QueueFilterForm(request.GET)  # the queue's filters ride along in the form's action URL
    filters = filter_form.filters()
    form = DecisionForm(request.POST)
    if not form.is_valid():
        review = _review_or_404(approval_id, filters, request.user.get_username())
        return _review_response(request, review=review, filter_form=filter_form, decision_form=form, status=422)
    try:
        result = record_decision(
            approval_id=approval_id,
            decision=form.cleaned_data["decision"],
            notes=form.cleaned_data["notes"],
            reasons=form.cleaned_data["reasons"],
            edited_body=form.cleaned_data["edited_body"],
            decided_by=request.user.get_username(),
        )
    except NotFound as error:
        raise Http404(error.message) from error
    except DecisionError as error:
        # Someone else decided first (or the service refused): show this item as it now stands.
        messages.error(request, error.message)
        review = _review_or_404(approval_id, filters, request.user.get_username())
        status = 409 if isinstance(error, AlreadyDecided) else 422
        return _review_response(request, review=review, filter_form=filter_form, decision_form=form, status=status)

    messages.success(
        request, f"{CONFIRMATION_VERBS[result.outcome]} {result.artifact_name} v{result.artifact_version}."
    )
    offer = remember_decision(request, result)
    query = filter_form.querystring()
    if not _wants_partial(request):
        # The POST only records: the next item is picked when the browser asks
        # for it, so decisions others make meanwhile are taken into account.
        response = HttpResponseRedirect(
            _with_query(reverse("approval-next"), _join(f"after={approval_id}", query)), status=303
        )
    else:
        response = _next_item_response(request, after=approval_id, filter_form=filter_form)
    return with_undo_offer(response, offer)


def _next_item_response(request: HtmxHttpRequest, *, after: uuid.UUID, filter_form: QueueFilterForm) -> HttpResponse:
    """The next item nobody else is reviewing, claimed for this reviewer, swapped in (htmx)."""
    username = request.user.get_username()
    filters = filter_form.filters()
    next_id = claims.next_claimed_id(after=after, filters=filters, username=username)
    query = filter_form.querystring()
    next_url = _with_query(reverse("approval-detail", args=[next_id]) if next_id else reverse("queue"), query)
    review = review_context(approval_id=next_id, filters=filters, viewer=username) if next_id else None
    response = _review_response(request, review=review, filter_form=filter_form, decision_form=DecisionForm())
    return push_url(response, next_url)


@keeps_no_copy
@review_required
@require_GET
def approval_next(request: HttpRequest) -> HttpResponse:
    """The pending item after `after` in queue order (else the oldest left) that nobody else is reviewing,
    claimed for this reviewer; or the queue when none is left. Picked when asked, so it is never stale."""
    filter_form = QueueFilterForm(request.GET)
    try:
        after = uuid.UUID(request.GET.get("after", ""))
    except ValueError:
        raise Http404("No such approval.") from None
    next_id = claims.next_claimed_id(after=after, filters=filter_form.filters(), username=request.user.get_username())
    target = reverse("approval-detail", args=[next_id]) if next_id else reverse("queue")
    return HttpResponseRedirect(_with_query(target, filter_form.querystring()))


@keeps_no_copy
@review_required
@require_GET
@vary_on_headers("HX-Request")
def history(request: HtmxHttpRequest) -> HttpResponse:
    form = HistoryFilterForm(request.GET)
    filters = form.filters()
    after = parse_cursor(request.GET.get("after"))
    page = decided_history(filters=filters, after=after)
    context = {
        "form": form,
        "page": page,
        "after": after,
        "filter_query": form.querystring(),
        "more_query": form.querystring(after=page.next_cursor.encode() if page.next_cursor else None),
    }
    if _wants_partial(request) and after:
        return render(request, "approvals/history.html#history-rows", context)
    context["project_options"] = project_options(filters.project_id)
    return render(request, "approvals/history.html", context)
