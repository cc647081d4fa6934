"""Admin edit forms refuse, as form errors, what the tables' CHECK constraints and PostgreSQL would refuse."""

import pytest
from django.urls import reverse

from approvals.models import Artifact, Job, Project, Run

pytestmark = pytest.mark.django_db


def current_form_data(client, url: str) -> dict:
    """What the change page's form would post unchanged, inline management forms included."""
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for inline_form in inline.formset.forms:
            data[inline_form.add_prefix("id")] = inline_form.instance.pk
    return data


def post_change(client, obj, **changes):
    url = reverse(f"admin:approvals_{obj._meta.model_name}_change", args=[obj.pk])
    return client.post(url, current_form_data(client, url) | changes)


def form_errors(response) -> dict:
    assert response.status_code == 200, response.status_code
    return response.context["adminform"].form.errors


def test_a_negative_attempts_count_is_a_form_error(ops_client, ops_dataset):
    job = ops_dataset["broken_job"]

    errors = form_errors(post_change(ops_client, job, attempts="-1"))

    assert "attempts" in errors
    assert Job.objects.get(pk=job.pk).attempts == 0


def test_a_project_name_over_its_limit_is_a_form_error(ops_client, ops_dataset):
    project = ops_dataset["project"]

    errors = form_errors(post_change(ops_client, project, name="x" * 201))

    assert "name" in errors
    assert Project.objects.get(pk=project.pk).name == project.name


def test_a_job_kind_over_its_limit_is_a_form_error(ops_client, ops_dataset):
    errors = form_errors(post_change(ops_client, ops_dataset["broken_job"], kind="k" * 101))

    assert "kind" in errors


def test_a_nul_in_artifact_metadata_is_a_form_error(ops_client, ops_dataset):
    artifact = ops_dataset["approved"].artifact

    errors = form_errors(post_change(ops_client, artifact, metadata='{"note": "a\\u0000b"}'))

    assert "metadata" in errors
    assert Artifact.objects.get(pk=artifact.pk).metadata == artifact.metadata


def test_a_nul_in_a_metadata_key_is_a_form_error(ops_client, ops_dataset):
    errors = form_errors(post_change(ops_client, ops_dataset["approved"].artifact, metadata='{"a\\u0000": 1}'))

    assert "metadata" in errors


def test_a_nul_in_job_params_or_text_is_a_form_error(ops_client, ops_dataset):
    job = ops_dataset["broken_job"]

    errors = form_errors(post_change(ops_client, job, params='{"x": ["\\u0000"]}', error="bad\x00text"))

    assert {"params", "error"} <= set(errors)


def test_job_params_that_are_not_an_object_are_a_form_error(ops_client, ops_dataset):
    errors = form_errors(post_change(ops_client, ops_dataset["broken_job"], params="[1, 2]"))

    assert "params" in errors


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("prompt_tokens", "-5"),
        ("completion_tokens", "-1"),
        ("duration_ms", "-1"),
        ("cost_usd", "-0.01"),
        ("model", "m" * 201),
    ],
)
def test_run_values_the_table_refuses_are_form_errors(ops_client, ops_dataset, field, value):
    run = Run.objects.filter(job=ops_dataset["approved_job"]).get()

    errors = form_errors(post_change(ops_client, run, **{field: value}))

    assert field in errors


def test_a_valid_edit_still_saves(ops_client, ops_dataset):
    job = ops_dataset["broken_job"]

    response = post_change(ops_client, job, attempts="3", params='{"retry": true}')

    assert response.status_code == 302
    saved = Job.objects.get(pk=job.pk)
    assert (saved.attempts, saved.params) == (3, {"retry": True})
