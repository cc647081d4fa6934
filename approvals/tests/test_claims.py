"""Claims: taking, racing, expiring (on the database's clock), renewing, releasing, and how "Next" steers by them."""

import threading

import psycopg
import pytest
from django.db import connection, connections

from approvals import claims
from approvals.decisions import decide
from approvals.models import Approval, ReviewClaim
from approvals.selectors.filters import QueueFilters
from approvals.selectors.queue import next_pending_id
from approvals.sql_runner.session import connection_params
from approvals.tests.factories import make_pending_review, make_queue


def expire(approval: Approval) -> None:
    """Move the claim's end into the past on the database's clock (no sleeping)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "update review_claims set claimed_at = now() - interval '10 minutes',"
            " expires_at = now() - interval '1 second' where approval_id = %s",
            [approval.id],
        )


def seconds_left(approval: Approval) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "select extract(epoch from expires_at - now()) from review_claims where approval_id = %s", [approval.id]
        )
        return float(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_of_two_reviewers_racing_for_one_item_exactly_one_gets_it(transactional_pipeline_db):
    approval = make_pending_review()
    outcome = {}

    # Ana's claim is taken on a connection of its own and left uncommitted, so
    # Ben's (the service, on this thread's own Django connection) has to wait on it.
    with psycopg.connect(**connection_params(connections["default"])) as ana:
        with ana.transaction():
            row = ana.execute(
                claims._TAKE_SQL.format(release_others=""),
                {"approval_id": approval.id, "claimant": "ana", "seconds": 300},
            ).fetchone()
            assert row[0] == "ana"

            def ben_claims():
                outcome["ben"] = claims.claim(approval_id=approval.id, claimant="ben")
                connections.close_all()

            ben = threading.Thread(target=ben_claims)
            ben.start()
            ben.join(timeout=1)
            assert ben.is_alive(), "Ben's claim should wait for Ana's transaction"
        ben.join(timeout=10)

    assert outcome["ben"].claimant == "ana"
    assert outcome["ben"].held_by_other_than("ben")
    assert list(ReviewClaim.objects.values_list("approval_id", "claimant")) == [(approval.id, "ana")]


@pytest.mark.django_db(transaction=True)
def test_many_reviewers_claiming_at_once_leave_one_claimant(transactional_pipeline_db):
    approval = make_pending_review()
    start = threading.Barrier(6)
    holders = []

    def reviewer(name: str):
        start.wait()
        holders.append(claims.claim(approval_id=approval.id, claimant=name).claimant)
        connections.close_all()

    threads = [threading.Thread(target=reviewer, args=(f"reviewer-{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    winner = ReviewClaim.objects.get(approval_id=approval.id).claimant
    assert holders == [winner] * 6


@pytest.mark.django_db
def test_an_unexpired_claim_stays_with_its_reviewer():
    approval = make_pending_review()
    claims.claim(approval_id=approval.id, claimant="ana")

    state = claims.claim(approval_id=approval.id, claimant="ben")

    assert state.claimant == "ana"
    assert ReviewClaim.objects.get(approval_id=approval.id).claimant == "ana"


@pytest.mark.django_db
def test_an_expired_claim_goes_to_the_next_reviewer_who_opens_the_item():
    approval = make_pending_review()
    claims.claim(approval_id=approval.id, claimant="ana")
    expire(approval)

    state = claims.claim(approval_id=approval.id, claimant="ben")

    assert state.claimant == "ben"
    assert seconds_left(approval) > 290


@pytest.mark.django_db
def test_renewal_extends_the_claim_from_the_database_clock(settings):
    settings.REVIEW_CLAIM_SECONDS = 300
    approval = make_pending_review()
    claims.claim(approval_id=approval.id, claimant="ana")
    with connection.cursor() as cursor:
        cursor.execute(
            "update review_claims set expires_at = now() + interval '3 seconds' where approval_id = %s", [approval.id]
        )

    state = claims.renew(approval_id=approval.id, claimant="ana")

    assert state.claimant == "ana"
    assert 290 < seconds_left(approval) <= 300


@pytest.mark.django_db
def test_renewal_after_someone_else_took_the_lapsed_claim_leaves_it_with_them():
    approval = make_pending_review()
    claims.claim(approval_id=approval.id, claimant="ana")
    expire(approval)
    claims.claim(approval_id=approval.id, claimant="ben")

    state = claims.renew(approval_id=approval.id, claimant="ana")

    assert state.claimant == "ben"


@pytest.mark.django_db
def test_opening_another_item_releases_the_reviewers_previous_claim():
    first, second = make_queue(count=2)
    claims.claim(approval_id=first.id, claimant="ana")

    claims.claim(approval_id=second.id, claimant="ana")

    assert list(ReviewClaim.objects.values_list("approval_id", flat=True)) == [second.id]


@pytest.mark.django_db
def test_renewal_keeps_the_reviewers_other_claims():
    first, second = make_queue(count=2)
    claims.claim(approval_id=first.id, claimant="ana")
    claims.renew(approval_id=second.id, claimant="ana")

    assert set(ReviewClaim.objects.values_list("approval_id", flat=True)) == {first.id, second.id}


@pytest.mark.django_db
def test_a_decided_item_cannot_be_claimed():
    approval = make_pending_review()
    decide(approval_id=approval.id, decision="approved", notes="", decided_by="ana")

    state = claims.claim(approval_id=approval.id, claimant="ben")

    assert state.claimant is None
    assert not ReviewClaim.objects.exists()


@pytest.mark.django_db
def test_the_decision_ends_the_claim_whoever_held_it():
    approval = make_pending_review()
    claims.claim(approval_id=approval.id, claimant="ana")

    result = decide(approval_id=approval.id, decision="approved", notes="", decided_by="ben")

    assert result.decided_by == "ben"  # claims steer, they never block
    assert not ReviewClaim.objects.exists()


@pytest.mark.django_db
def test_release_ends_only_the_reviewers_own_claim():
    approval = make_pending_review()
    claims.claim(approval_id=approval.id, claimant="ana")

    assert not claims.release(approval_id=approval.id, claimant="ben")
    assert ReviewClaim.objects.filter(approval_id=approval.id).exists()
    assert claims.release(approval_id=approval.id, claimant="ana")
    assert not ReviewClaim.objects.exists()


@pytest.mark.django_db
def test_staff_release_ends_anyones_claim():
    approval = make_pending_review()
    claims.claim(approval_id=approval.id, claimant="ana")

    assert claims.release(approval_id=approval.id, claimant=None)
    assert not ReviewClaim.objects.exists()


# --- "Next" steers by claims ------------------------------------------------------------------------


@pytest.mark.django_db
def test_next_passes_over_items_others_are_reviewing():
    first, second, third = make_queue(count=3)
    claims.claim(approval_id=second.id, claimant="ana")

    assert next_pending_id(after_approval_id=first.id, filters=QueueFilters(), viewer="ben") == third.id


@pytest.mark.django_db
def test_next_keeps_the_viewers_own_claim_and_expired_ones():
    first, second, third = make_queue(count=3)
    claims.claim(approval_id=second.id, claimant="ben")
    claims.claim(approval_id=third.id, claimant="ana")
    expire(third)

    assert next_pending_id(after_approval_id=first.id, filters=QueueFilters(), viewer="ben") == second.id
    assert next_pending_id(after_approval_id=second.id, filters=QueueFilters(), viewer="ben") == third.id


@pytest.mark.django_db
def test_next_from_the_last_item_wraps_to_the_oldest_nobody_else_reviews():
    first, second, third = make_queue(count=3)
    claims.claim(approval_id=first.id, claimant="ana")

    assert next_pending_id(after_approval_id=third.id, filters=QueueFilters(), viewer="ben") == second.id


@pytest.mark.django_db
def test_opening_ones_own_fresh_claim_again_writes_nothing():
    approval = make_pending_review()
    claims.claim(approval_id=approval.id, claimant="ana")

    def row_version():
        with connection.cursor() as cursor:
            cursor.execute("select ctid from review_claims where approval_id = %s", [approval.id])
            return cursor.fetchone()[0]

    before = row_version()
    state = claims.claim(approval_id=approval.id, claimant="ana")

    assert state.claimant == "ana"
    assert row_version() == before  # the same tuple: no update, no row lock
