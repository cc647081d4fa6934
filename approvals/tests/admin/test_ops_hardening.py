"""The ops pages at their edges: analytics keep no copy and show costs only to whom the costs dashboard would,
and the review-target form answers a malformed project with a form error."""

import uuid

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from approvals.decisions import decide
from approvals.models import Approval, ReviewTarget
from approvals.tests.factories import make_artifact, make_job, make_project, make_run

ANALYTICS_PAGES = ["analytics-queue", "analytics-reviewers", "analytics-time-to-decision", "analytics-outcomes"]


def _permission(codename: str) -> Permission:
    return Permission.objects.get(codename=codename, content_type__app_label="approvals")


def _client_of(client, user: User):
    client.force_login(user)
    return client


@pytest.fixture
def decisions_with_costs(db):
    """Two approved drafts and a rejected one, each with a model run that cost something."""
    project = make_project(name="Costed")
    for decision, amount in [("approved", "1.250000"), ("approved", "0.750000"), ("rejected", "0.500000")]:
        artifact = make_artifact(project=project)
        make_run(job=make_job(output_artifact=artifact), model="gpt-4o", cost_usd=amount)
        decide(
            approval_id=Approval.objects.create(artifact=artifact).pk,
            decision=decision,
            notes="Off brand",
            decided_by="alice",
        )


@pytest.fixture
def lead_without_costs(client, db):
    """A Lead: analytics granted, no staff rights, so no costs dashboard."""
    user = User.objects.create_user("lead", password="lead-pass-123")
    user.user_permissions.add(_permission("view_analytics"))
    return _client_of(client, user)


@pytest.fixture
def staff_without_permissions(client, db):
    """Staff see analytics; without approvals.view_run the costs dashboard refuses them."""
    return _client_of(client, User.objects.create_user("staff", password="staff-pass-123", is_staff=True))


@pytest.fixture
def staff_with_costs(client, db):
    user = User.objects.create_user("costs", password="costs-pass-123", is_staff=True)
    user.user_permissions.add(_permission("view_run"))
    return _client_of(client, user)


def _keeps_no_copy(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"private", "no-store"} <= directives


@pytest.mark.django_db
@pytest.mark.parametrize("page", ANALYTICS_PAGES)
def test_every_analytics_page_keeps_no_copy(lead_without_costs, page):
    response = lead_without_costs.get(reverse(page))

    assert response.status_code == 200
    assert _keeps_no_copy(response), response.get("Cache-Control")


@pytest.mark.parametrize("who", ["lead_without_costs", "staff_without_permissions"])
def test_analytics_show_no_cost_figure_to_whom_the_costs_dashboard_refuses(request, decisions_with_costs, who):
    viewer = request.getfixturevalue(who)
    assert viewer.get(reverse("admin:approvals_run_costs")).status_code in (302, 403)

    for page in ANALYTICS_PAGES:
        body = viewer.get(reverse(page)).content.decode()

        assert "$" not in body, page
        assert "Cost per approved" not in body and "Spent on rejected" not in body, page
    outcomes = viewer.get(reverse("analytics-outcomes")).content.decode()
    assert "Costs are not shown: they are for staff who may view the costs dashboard" in outcomes


def test_analytics_show_the_cost_figures_to_whom_the_costs_dashboard_shows_them(staff_with_costs, decisions_with_costs):
    assert staff_with_costs.get(reverse("admin:approvals_run_costs")).status_code == 200

    outcomes = staff_with_costs.get(reverse("analytics-outcomes")).content.decode()

    assert 'data-figure="cost-per-approved">$1.00<' in outcomes
    assert 'data-figure="rejected-spend">$0.50<' in outcomes
    assert '<th scope="col" class="num">Spent on rejected</th>' in outcomes
    assert "Costs are not shown" not in outcomes


# --- The review-target form, given a project that is none. ---

MALFORMED_PROJECTS = {"not a uuid": "not-a-uuid", "a uuid of no project": str(uuid.uuid4()), "a NUL byte": "a\x00b"}
FORM_ERRORS = {
    "not a uuid": "“not-a-uuid” is not a valid UUID.",
    "a uuid of no project": "Select a valid choice. That choice is not one of the available choices.",
    "a NUL byte": "Null characters are not allowed.",
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", MALFORMED_PROJECTS)
def test_the_review_target_form_answers_a_malformed_project_with_a_form_error(ops_client, case):
    response = ops_client.post(
        reverse("admin:approvals_reviewtarget_add"), {"project": MALFORMED_PROJECTS[case], "target_hours": "24"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["project"] == [FORM_ERRORS[case]]
    assert "errornote" in response.content.decode()
    assert not ReviewTarget.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("project", MALFORMED_PROJECTS.values(), ids=MALFORMED_PROJECTS.keys())
def test_the_review_target_form_opened_with_a_malformed_project_shows_no_choice(ops_client, project):
    response = ops_client.get(reverse("admin:approvals_reviewtarget_add"), {"project": project})

    assert response.status_code == 200
    assert "selected>" not in response.content.decode().split('name="project"', 1)[1].split("</select>", 1)[0]


@pytest.mark.django_db
def test_the_review_target_form_still_takes_a_real_project(ops_client):
    project = make_project(name="Targeted")

    response = ops_client.post(
        reverse("admin:approvals_reviewtarget_add"), {"project": str(project.pk), "target_hours": "24"}
    )

    assert response.status_code == 302
    assert ReviewTarget.objects.get().project == project


@pytest.mark.django_db
def test_the_project_search_of_the_review_target_form_answers_a_nul_byte_with_no_projects(ops_client):
    make_project(name="Northwind")

    response = ops_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "approvals", "model_name": "reviewtarget", "field_name": "project", "term": "a\x00b"},
    )

    assert response.status_code == 200
    assert response.json()["results"] == []
