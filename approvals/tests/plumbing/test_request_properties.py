"""Property tests: whatever a browser, a bookmark or a fuzzer sends to the queue, history and decision
endpoints, the answer is a page or a refusal, never a server error.

Expected answers: 200 (a page, with unparseable filters dropped and named),
302/303 (after a decision, or to log in), 400 (a malformed page cursor), 404
(no such approval), 409 (decided by someone else first) and 422 (the decision
form's own errors).
"""

import uuid
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from approvals.models import Approval, ApprovalStatus, ArtifactKind
from approvals.selectors.filters import MediaFamily
from approvals.tests.factories import make_pending_review, make_project, make_reviewer

pytestmark = pytest.mark.django_db

PAGE_STATUSES = {200, 400}
DECISION_STATUSES = {303, 404, 409, 422}

# Any text a client can put in a URL or a form: every code point but lone surrogates
# (which cannot be encoded in UTF-8 at all), NUL included, plus the values the forms expect.
any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
long_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=250, max_size=12_000)
uuids = st.uuids().map(str)
cursor_like = st.one_of(
    st.builds(lambda n, u: f"{n}_{u}", st.integers(), uuids),
    st.builds(lambda n, u: f"{n}_{u}", any_text, any_text),
    st.text(alphabet="0123456789_-", max_size=5000),
)


def choice_or_junk(values) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(list(values)), any_text)


queue_params = st.fixed_dictionaries(
    {},
    optional={
        "q": st.one_of(any_text, long_text, st.sampled_from(["launch", "%", "_", "\\", "' or 1=1 --"])),
        "project": st.one_of(uuids, any_text),
        "kind": choice_or_junk(["", *ArtifactKind.values]),
        "media": choice_or_junk(["", *MediaFamily.values]),
        "waited": choice_or_junk(["", "1h", "4h", "1d", "3d", "1w"]),
        "limit": st.one_of(st.integers(min_value=-(10**30), max_value=10**30).map(str), any_text),
        "after": cursor_like,
    },
)

history_params = st.fixed_dictionaries(
    {},
    optional={
        "reviewer": any_text,
        "decision": choice_or_junk(["", "approved", "rejected", "pending"]),
        "project": st.one_of(uuids, any_text),
        "decided_from": st.one_of(st.dates().map(str), any_text),
        "decided_to": st.one_of(st.dates().map(str), any_text),
        "after": cursor_like,
    },
)

decision_form = st.fixed_dictionaries(
    {},
    optional={
        "decision": choice_or_junk(["approved", "rejected", "pending"]),
        "notes": st.one_of(any_text, long_text),
        "csrfmiddlewaretoken": any_text,
    },
)

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def queue_data(reviewer):
    project = make_project(name="Fuzz")
    approvals = [make_pending_review(project=project, name=f"launch-{n}") for n in range(3)]
    make_pending_review(name="json-thing", kind=ArtifactKind.JSON)
    return approvals


def answered(client: Client, method: str, url: str, data, **headers) -> int:
    response = getattr(client, method)(url, data, **headers)
    return response.status_code


@PROPERTY
@given(params=queue_params, htmx=st.booleans())
def test_the_queue_never_fails_whatever_the_filters(reviewer_client, queue_data, params, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    assert answered(reviewer_client, "get", reverse("queue"), params, **headers) in PAGE_STATUSES


@PROPERTY
@given(params=queue_params)
def test_a_review_page_never_fails_whatever_the_filters_it_carries(reviewer_client, queue_data, params):
    params.pop("after", None)  # the review page ignores the cursor
    status = answered(reviewer_client, "get", reverse("approval-detail", args=[queue_data[0].id]), params)
    assert status == 200


@PROPERTY
@given(params=history_params, htmx=st.booleans())
def test_history_never_fails_whatever_the_filters(reviewer_client, queue_data, params, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    assert answered(reviewer_client, "get", reverse("history"), params, **headers) in PAGE_STATUSES


@PROPERTY
@given(form=decision_form, filters=queue_params, target=st.sampled_from(["pending", "decided", "missing"]))
def test_a_decision_post_never_fails_and_only_a_valid_one_changes_anything(
    reviewer_client, queue_data, form, filters, target
):
    filters.pop("after", None)
    approval = queue_data[0]
    with transaction.atomic():
        savepoint = transaction.savepoint()
        if target == "decided":
            Approval.objects.filter(pk=approval.pk).update(
                status=ApprovalStatus.APPROVED, decided_by="someone", decided_at="2026-01-01T00:00:00Z"
            )
        approval_id = approval.id if target != "missing" else uuid.uuid4()
        url = reverse("approval-decide", args=[approval_id])
        if filters:
            url = f"{url}?{urlencode(filters)}"

        status = answered(reviewer_client, "post", url, form)

        assert status in DECISION_STATUSES
        approval.refresh_from_db()
        notes = form.get("notes", "").strip().replace("\r\n", "\n")  # as the form cleans them
        valid = (
            form.get("decision") in ("approved", "rejected")
            and "\x00" not in notes
            and len(notes) <= 10_000
            and (form.get("decision") == "approved" or bool(notes))
        )
        if target == "pending":
            assert (status == 303) == valid
            assert (approval.status != ApprovalStatus.PENDING) == valid
        elif target == "missing":
            assert status in ({404} if valid else {404, 422})
        else:
            assert status in ({409} if valid else {409, 422})
            assert approval.decided_by == "someone"
        transaction.savepoint_rollback(savepoint)


@PROPERTY
@given(method=st.sampled_from(["get", "post", "put", "patch", "delete", "options"]), data=queue_params)
def test_other_methods_on_reviewer_urls_are_refused_cleanly(reviewer_client, queue_data, method, data):
    for url in (reverse("queue"), reverse("history"), reverse("approval-detail", args=[queue_data[0].id])):
        expected = PAGE_STATUSES if method == "get" else {405}
        assert answered(reviewer_client, method, url, data) in expected


def test_the_reviewer_fixture_is_a_plain_reviewer(reviewer):
    # The properties above run as a reviewer without staff or superuser rights.
    assert not reviewer.is_staff and not reviewer.is_superuser
    assert User.objects.get(pk=reviewer.pk).has_perm("approvals.can_review")


def test_an_anonymous_fuzzer_is_sent_to_log_in(client):
    make_reviewer("someone")
    assert answered(client, "get", reverse("queue"), {"q": "\x00<script>"}) == 302
    assert answered(client, "post", reverse("approval-decide", args=[uuid.uuid4()]), {"decision": "x"}) == 302


ADMIN_LISTS = ("project", "artifact", "approval", "job", "run")
numbers_or_junk = st.one_of(st.integers(min_value=-(10**6), max_value=10**6).map(str), any_text)
admin_params = st.fixed_dictionaries(
    {},
    optional={
        "q": st.one_of(any_text, uuids),
        "o": st.one_of(st.sampled_from(["1", "-1", "2.1", "-9"]), any_text),
        "p": numbers_or_junk,
        "project": st.one_of(uuids, any_text),
        "status": choice_or_junk(["pending", "approved", "rejected", "queued", "failed", "needs_approval"]),
        "kind": choice_or_junk(ArtifactKind.values),
        "model": any_text,
        "mime": choice_or_junk(MediaFamily.values),
        "revision": choice_or_junk(["first", "later"]),
        "decided_within": choice_or_junk(["1h", "1d", "7d"]),
        "created_at__year": st.one_of(st.integers(min_value=0, max_value=10_001).map(str), any_text),
        "created_at__month": numbers_or_junk,
        "created_at__day": numbers_or_junk,
        "e": any_text,
    },
)


@PROPERTY
@given(table=st.sampled_from(ADMIN_LISTS), params=admin_params)
def test_admin_lists_never_fail_whatever_the_query_string(ops_client, ops_dataset, table, params):
    status = answered(ops_client, "get", reverse(f"admin:approvals_{table}_changelist"), params)
    assert status < 500


@PROPERTY
@given(start=st.one_of(st.dates().map(str), any_text), end=st.one_of(st.dates().map(str), any_text))
@example(start="9999-12-31", end="9999-12-31")
def test_the_costs_dashboard_never_fails_whatever_the_period(ops_client, ops_dataset, start, end):
    assert answered(ops_client, "get", reverse("admin:approvals_run_costs"), {"start": start, "end": end}) == 200
