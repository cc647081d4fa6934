"""Any review page renders in bounded server time whatever the rows and files hold.

The worst cases an outside test found: Markdown of nothing but `![`, a CSV of
nothing but quoted newlines, and twenty earlier versions of a 100 KB JSON
body that each differ from the last. Each page is rendered in-process and its
server time measured as the CPU time of this process (the app's own work:
on a shared 2-core machine wall time mostly measures the other processes);
both are printed, and the CPU time must stay under PAGE_BUDGET_SECONDS.
"""

import json
import random
import time

import pytest
from django.urls import reverse

from approvals.models import ArtifactKind
from approvals.tests.factories import make_artifact, make_pending_review, make_project

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

PAGE_BUDGET_SECONDS = 0.300


def server_seconds(client, url: str) -> float:
    """The best CPU time of three renders (the first also warms caches)."""
    cpu, wall = [], []
    for _ in range(3):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
        assert response.status_code == 200
    print(f"{url}: cpu {[round(t * 1000) for t in cpu]} ms, wall {[round(t * 1000) for t in wall]} ms")
    return min(cpu)


def file_review(bucket, *, name: str, data: bytes, mime: str):
    key = f"proj/worst/{name}"
    bucket.put(key, data)
    artifact = make_artifact(kind=ArtifactKind.FILE, storage_path=key, name=name, mime_type=mime, size_bytes=len(data))
    return make_pending_review(artifact=artifact)


@pytest.mark.parametrize("kilobytes", [256, 60])  # over the render limit, and under it (the time limit then)
def test_a_markdown_file_of_unclosed_image_brackets_renders_in_budget(reviewer_client, local_bucket, kilobytes):
    review = file_review(local_bucket, name="worst.md", data=b"![" * (kilobytes * 512), mime="text/markdown")
    url = reverse("approval-detail", args=[review.id])

    seconds = server_seconds(reviewer_client, url)

    assert seconds < PAGE_BUDGET_SECONDS, f"{seconds * 1000:.0f} ms"
    assert "shown as text" in reviewer_client.get(url).content.decode()


def test_a_csv_of_quoted_newlines_renders_in_budget(reviewer_client, local_bucket):
    review = file_review(local_bucket, name="worst.csv", data=b'"\n' * 4096, mime="text/csv")

    seconds = server_seconds(reviewer_client, reverse("approval-detail", args=[review.id]))

    assert seconds < PAGE_BUDGET_SECONDS, f"{seconds * 1000:.0f} ms"


def json_body(seed: int) -> dict:
    """About 100 KB of JSON, a different random shuffle per version: diffs as bad as they get."""
    rng = random.Random(seed)
    return {f"key-{n}": [rng.randrange(10**6) for _ in range(12)] for n in range(1100)}


def test_twenty_versions_of_a_100_kb_json_render_in_budget(reviewer_client):
    project = make_project()
    previous = None
    for version in range(1, 22):
        previous = make_artifact(
            project=project,
            name="spec.json",
            kind=ArtifactKind.JSON,
            body_json=json_body(version),
            version=version,
            previous_version=previous,
        )
    assert len(json.dumps(previous.body_json)) > 90_000
    review = make_pending_review(artifact=previous)

    seconds = server_seconds(reviewer_client, reverse("approval-detail", args=[review.id]))

    assert seconds < PAGE_BUDGET_SECONDS, f"{seconds * 1000:.0f} ms"
