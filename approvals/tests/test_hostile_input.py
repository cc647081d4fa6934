"""Hostile text from the pipeline and from reviewers is shown as text, never run, on every page.

The pipeline may write anything its constraints allow into names, bodies, JSON,
metadata, storage paths, job errors and run models; reviewers type notes and
filters. Each page is parsed for anything that could run the payloads (see
hostile_data.py) and checked to show them escaped. test_browser_xss.py opens
the same pages in Chromium.
"""

import json

import pytest
from django.contrib.auth.models import User
from django.db import DataError, connection, transaction
from django.urls import reverse

from approvals.models import Approval, ApprovalStatus, Artifact, Job, Project, Run
from approvals.tests.hostile_data import (
    ALL,
    BREAKOUT,
    IMG,
    MEGABYTE_TEXT,
    PAYLOADS,
    SCRIPT,
    SQL,
    SVG,
    TEMPLATE,
    active_payloads,
    make_hostile_site,
    shown_as_text,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(local_bucket):
    site = make_hostile_site()
    for key, data in site.files.items():
        local_bucket.put(key, data)
    return site


@pytest.fixture
def staff_client(client):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("ops", password="ops-pass-123"))
    return client


def get_inert(client, url: str, params: dict | None = None, **headers) -> str:
    response = client.get(url, params or {}, **headers)
    assert response.status_code == 200, (url, response.status_code)
    html = response.content.decode()
    assert active_payloads(html) == [], url
    return html


def test_the_check_finds_a_payload_that_would_run():
    # The pages below are judged by active_payloads(): it must see each way a payload can run.
    unsafe = [
        f"<p>{SCRIPT}</p>",
        '<img src=x onerror="window.__xss=2">',
        '<a href=" JavaScript:window.__xss=4">x</a>',
        '<iframe srcdoc="&lt;script&gt;window.__xss=1&lt;/script&gt;"></iframe>',
    ]
    assert all(active_payloads(html) for html in unsafe)
    assert active_payloads("<p>&lt;script&gt;window.__xss=1&lt;/script&gt;</p>") == []


def test_the_queue_shows_hostile_names_as_text(reviewer_client, site):
    html = get_inert(reviewer_client, reverse("queue"))

    assert shown_as_text(html, f"text {SCRIPT}")
    assert shown_as_text(html, f"json {IMG}")
    assert shown_as_text(html, f"P {SCRIPT}")  # the project's name


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_hostile_search_is_echoed_as_text(reviewer_client, site, payload):
    html = get_inert(reviewer_client, reverse("queue"), {"q": payload, "kind": payload, "project": payload})
    get_inert(reviewer_client, reverse("queue"), {"q": payload}, HTTP_HX_REQUEST="true")
    assert shown_as_text(html, payload) or payload == SQL  # the SQL fragment has nothing to escape


def test_a_search_with_sql_finds_nothing_and_drops_nothing(reviewer_client, site):
    html = get_inert(reviewer_client, reverse("queue"), {"q": SQL})
    assert "<strong>0</strong> pending match these filters" in html
    assert Approval.objects.count() == len(site.pending) + len(site.decided)


def test_every_review_page_shows_the_payloads_as_text(reviewer_client, site):
    for approval in site.pending:
        html = get_inert(reviewer_client, reverse("approval-detail", args=[approval.id]))
        assert shown_as_text(html, approval.artifact.name), approval.artifact.name
        assert shown_as_text(html, f"model {SCRIPT}")


def test_text_json_and_metadata_are_escaped_and_template_syntax_stays_literal(reviewer_client, site):
    text, json_artifact = site.pending[0], site.pending[1]

    text_html = get_inert(reviewer_client, reverse("approval-detail", args=[text.id]))
    json_html = get_inert(reviewer_client, reverse("approval-detail", args=[json_artifact.id]))

    assert shown_as_text(text_html, BREAKOUT)  # the body
    assert "{{ 7|add:7 }}" in text_html and "{% debug %}" in text_html  # never evaluated
    assert shown_as_text(text_html, f"eve {SCRIPT}")  # the earlier decision's reviewer
    for payload in (SCRIPT, IMG, SVG):
        assert shown_as_text(json_html, payload), payload  # JSON keys and values
    assert shown_as_text(json_html, TEMPLATE)


def test_a_markdown_file_is_rendered_without_scripts_handlers_or_javascript_links(reviewer_client, site):
    markdown = next(a for a in site.pending if a.artifact.name.startswith("markdown"))
    html = get_inert(reviewer_client, reverse("approval-detail", args=[markdown.id]))
    assert "<h1>Launch" in html  # rendered as markdown, not shown as source
    assert "click me" in html  # the link's text stays; its javascript: target does not (active_payloads)


def test_html_and_svg_files_are_never_served_inline(reviewer_client, site):
    for name in ("html", "svg"):
        approval = next(a for a in site.pending if a.artifact.name.startswith(name))
        get_inert(reviewer_client, reverse("approval-detail", args=[approval.id]))
        response = reviewer_client.get(reverse("artifact-file", args=[approval.artifact_id]))
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert response["Content-Security-Policy"].startswith("sandbox")
        assert response["X-Content-Type-Options"] == "nosniff"
        b"".join(response.streaming_content)


def test_a_megabyte_text_body_is_shown_in_part(reviewer_client, site):
    approval = next(a for a in site.pending if a.artifact.name == "one megabyte")
    html = get_inert(reviewer_client, reverse("approval-detail", args=[approval.id]))
    assert "Showing the first 256 KB of 1,048,576 characters." in html
    assert len(html) < 400_000


def test_a_megabyte_json_body_renders_inert(reviewer_client, site):
    approval = next(a for a in site.pending if a.artifact.name == "one megabyte json")
    html = get_inert(reviewer_client, reverse("approval-detail", args=[approval.id]))
    assert html.count("A" * 1023) >= 250  # its first 256 KB, escaped inside one <pre>
    formatted = json.dumps({"text": MEGABYTE_TEXT}, indent=2, ensure_ascii=False)
    assert f"Showing the first 262,144 of {len(formatted):,} characters (2 of 3 lines)." in html
    assert len(html) < 400 * 1024


def test_history_shows_hostile_notes_and_reviewers_as_text(reviewer_client, site):
    html = get_inert(reviewer_client, reverse("history"))
    assert shown_as_text(html, f"eve {SCRIPT}")
    assert shown_as_text(html, BREAKOUT)  # the notes
    for payload in PAYLOADS:
        get_inert(reviewer_client, reverse("history"), {"reviewer": payload, "decision": payload})


def test_a_decision_with_hostile_notes_is_stored_as_typed_and_shown_as_text(reviewer_client, site):
    approval = site.pending[0]

    response = reviewer_client.post(
        reverse("approval-decide", args=[approval.id]), {"decision": "rejected", "notes": ALL}
    )

    assert response.status_code == 303
    approval.refresh_from_db()
    assert (approval.status, approval.notes) == (ApprovalStatus.REJECTED, ALL)
    assert (
        ALL in Job.objects.get(output_artifact=approval.artifact_id, status="failed", kind__startswith="draft ").error
    )
    html = get_inert(reviewer_client, reverse("history"))
    assert shown_as_text(html, SCRIPT)


# --- The admin ------------------------------------------------------------------


def admin_urls(site) -> list[str]:
    pending = site.pending[0]
    artifact = pending.artifact
    job = Job.objects.filter(output_artifact=artifact).first()
    run = Run.objects.filter(job=job).first()
    urls = [
        reverse(f"admin:approvals_{model}_changelist") for model in ("project", "artifact", "job", "approval", "run")
    ]
    urls += [
        reverse("admin:approvals_project_change", args=[artifact.project_id]),
        reverse("admin:approvals_artifact_change", args=[artifact.id]),
        reverse("admin:approvals_job_change", args=[job.id]),
        reverse("admin:approvals_approval_change", args=[pending.id]),
        reverse("admin:approvals_approval_change", args=[site.decided[0].id]),
        reverse("admin:approvals_run_change", args=[run.id]),
        reverse("admin:approvals_run_costs"),
        reverse("admin:index"),
    ]
    return urls


def test_admin_pages_show_hostile_rows_as_text(staff_client, site):
    password_hash = User.objects.get(username="ops").password
    for url in admin_urls(site):
        html = get_inert(staff_client, url)
        # Evaluated, the payload would print the user's password hash, the context and 14.
        assert password_hash not in html, url
    urls = admin_urls(site)
    for url in (urls[5], urls[6], urls[9]):  # the change pages of the project, the artifact and a decided approval
        assert TEMPLATE in get_inert(staff_client, url), url


@pytest.mark.parametrize("payload", PAYLOADS)
def test_admin_search_with_a_payload_is_inert(staff_client, site, payload):
    for model in ("project", "artifact", "job", "approval", "run"):
        get_inert(staff_client, reverse(f"admin:approvals_{model}_changelist"), {"q": payload})


# --- NUL bytes and oversized input ------------------------------------------------


def test_postgresql_refuses_nul_in_text_and_json_so_the_pipeline_cannot_store_it():
    for statement in (
        "insert into projects (name) values (E'a\\x00b')",
        "insert into projects (name) values (convert_from('\\x6100'::bytea, 'UTF8'))",
        "select '\"a\\u0000b\"'::jsonb",
    ):
        with pytest.raises(DataError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    with pytest.raises(DataError, match="NUL"), transaction.atomic():
        Project.objects.create(name="a\x00b")  # psycopg refuses it before sending


def test_nul_in_filters_is_dropped_with_a_notice(reviewer_client, site):
    queue = reviewer_client.get(reverse("queue"), {"q": "launch\x00", "waited": "\x00"})
    history = reviewer_client.get(reverse("history"), {"reviewer": "eve\x00"})

    assert queue.status_code == 200 and history.status_code == 200
    assert "Null characters are not allowed." in queue.content.decode()


def test_nul_in_a_page_cursor_is_a_bad_request(reviewer_client, site):
    assert reviewer_client.get(reverse("queue"), {"after": "1_\x00"}).status_code == 400


def test_notes_with_nul_are_refused_with_a_message_and_nothing_changes(reviewer_client, site):
    approval = site.pending[0]

    response = reviewer_client.post(
        reverse("approval-decide", args=[approval.id]), {"decision": "approved", "notes": "fine\x00"}
    )

    assert response.status_code == 422
    assert "Null characters are not allowed." in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING


def test_a_megabyte_of_notes_is_refused_with_the_limit(reviewer_client, site):
    approval = site.pending[0]

    response = reviewer_client.post(
        reverse("approval-decide", args=[approval.id]), {"decision": "rejected", "notes": "x" * 1_048_576}
    )

    assert response.status_code == 422
    assert "Notes are limited to 10,000 characters" in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING


def test_a_megabyte_search_is_dropped_not_run(reviewer_client, site):
    response = reviewer_client.get(reverse("queue"), {"q": "x" * 1_048_576})
    assert response.status_code == 200
    assert f"<strong>{len(site.pending)}</strong> pending" in response.content.decode()


def test_nul_in_a_login_is_a_wrong_login_not_an_error(client, site):
    response = client.post(reverse("login"), {"username": "ops\x00", "password": "x\x00"})
    assert response.status_code == 200


def test_nul_in_an_admin_search_is_not_a_server_error(staff_client, site):
    for model in ("project", "artifact", "job", "approval", "run"):
        response = staff_client.get(reverse(f"admin:approvals_{model}_changelist"), {"q": "a\x00b"})
        assert response.status_code in (200, 400), (model, response.status_code)


def test_artifacts_keep_their_hostile_names_byte_for_byte(site):
    names = set(Artifact.objects.values_list("name", flat=True))
    assert f"text {SCRIPT}" in names and f"html {PAYLOADS[-1]}" in names
