"""Previews for every kind of artifact, from real files in a real bucket, rendered as the review page includes them."""

import json
import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from approvals.files.previews import TEXT_PREVIEW_LIMIT, preview_for
from approvals.models import ArtifactKind
from approvals.tests import sample_files
from approvals.tests.factories import make_artifact, make_pending_review, make_reviewer
from approvals.tests.storage_fixtures import use_s3_bucket

pytestmark = pytest.mark.django_db


def stored_artifact(bucket, data: bytes, *, name: str, mime=None, path: str | None = None):
    path = path or f"proj/7/{name}"
    bucket.put(path, data)
    return make_artifact(kind=ArtifactKind.FILE, storage_path=path, name=name, mime_type=mime, size_bytes=len(data))


def shown(artifact) -> tuple[str, str]:
    """(template name, HTML) of the artifact's preview."""
    preview = preview_for(artifact)
    return preview.template_name, render_to_string(preview.template_name, preview.context)


def test_png_is_an_image_pointing_at_the_file_view(bucket):
    artifact = stored_artifact(bucket, sample_files.png_bytes(), name="hero.png", mime="image/png")
    template, html = shown(artifact)
    assert template == "approvals/previews/file_image.html"
    assert f'<img class="preview-media" src="{reverse("artifact-file", args=[artifact.id])}"' in html
    assert f'href="{reverse("artifact-file", args=[artifact.id])}?download=1" download' in html


def test_an_image_without_a_declared_type_is_still_an_image(local_bucket):
    artifact = stored_artifact(local_bucket, sample_files.png_bytes(), name="no-extension", mime=None)
    assert shown(artifact)[0] == "approvals/previews/file_image.html"


def test_webm_is_a_native_video_player(bucket):
    artifact = stored_artifact(bucket, sample_files.webm_bytes(), name="clip.webm", mime="video/webm")
    template, html = shown(artifact)
    assert template == "approvals/previews/file_video.html"
    assert re.search(r"<video [^>]*controls", html)
    assert reverse("artifact-file", args=[artifact.id]) in html


def test_wav_is_a_native_audio_player(local_bucket):
    artifact = stored_artifact(local_bucket, sample_files.wav_bytes(), name="voiceover.wav", mime=None)
    template, html = shown(artifact)
    assert template == "approvals/previews/file_audio.html"
    assert re.search(r"<audio [^>]*controls", html)


def test_pdf_is_shown_in_a_frame_of_the_file_view(bucket):
    """The frame's document is sandboxed by the file response's CSP (test_file_view checks it)."""
    artifact = stored_artifact(bucket, sample_files.pdf_bytes(), name="brief.pdf", mime="application/pdf")
    template, html = shown(artifact)
    assert template == "approvals/previews/file_pdf.html"
    frame = re.search(r"<iframe [^>]*>", html).group(0)
    assert f'src="{reverse("artifact-file", args=[artifact.id])}"' in frame


def test_a_pdf_declared_as_an_image_is_shown_as_a_pdf_with_a_notice(local_bucket):
    artifact = stored_artifact(local_bucket, sample_files.pdf_bytes(), name="hero.png", mime="image/png")
    template, html = shown(artifact)
    assert template == "approvals/previews/file_pdf.html"
    assert "Declared as image/png, but the stored bytes are application/pdf" in html


def test_text_named_like_an_image_is_text(local_bucket):
    artifact = stored_artifact(local_bucket, b"not a picture at all", name="photo.jpg", mime="image/jpeg")
    template, html = shown(artifact)
    assert template == "approvals/previews/file_text.html"
    assert "not a picture at all" in html


def test_csv_shows_its_first_rows_as_an_escaped_table(bucket):
    artifact = stored_artifact(bucket, sample_files.CSV_TEXT.encode(), name="clicks.csv", mime="text/csv")
    template, html = shown(artifact)
    assert template == "approvals/previews/file_csv.html"
    assert '<th scope="col">headline</th>' in html
    assert "<td>Your calendar handled</td>" in html
    assert "&lt;b&gt;Spring&lt;/b&gt;" in html
    assert "<b>Spring" not in html
    assert "3 rows" in html


def test_a_long_csv_shows_only_the_first_rows(local_bucket):
    rows = "n,square\n" + "".join(f"{n},{n * n}\n" for n in range(500))
    artifact = stored_artifact(local_bucket, rows.encode(), name="squares.csv")
    html = shown(artifact)[1]
    assert "First 50 of 500 rows" in html
    assert "<td>49</td>" in html
    assert "<td>50</td>" not in html


@pytest.mark.parametrize(
    ("data", "name", "mime", "family"),
    [
        (sample_files.SVG_WITH_SCRIPT, "logo.svg", "image/svg+xml", "SVG"),
        (sample_files.SVG_WITH_SCRIPT, "logo.png", None, "SVG"),
        (sample_files.HTML_WITH_SCRIPT, "landing.html", "text/html", "HTML"),
        (sample_files.HTML_WITH_SCRIPT, "landing.txt", "text/plain", "HTML"),
    ],
)
def test_svg_and_html_are_shown_as_escaped_source(bucket, data, name, mime, family):
    artifact = stored_artifact(bucket, data.encode(), name=name, mime=mime)
    template, html = shown(artifact)
    assert template == "approvals/previews/file_source.html"
    assert f"{family} is shown as source and never rendered here" in html
    assert "&lt;script&gt;document.title=" in html
    assert "<script" not in html
    assert "<svg" not in html


def test_markdown_is_rendered_and_sanitised(local_bucket):
    artifact = stored_artifact(local_bucket, sample_files.MARKDOWN_TEXT.encode(), name="plan.md")
    template, html = shown(artifact)
    assert template == "approvals/previews/file_markdown.html"
    rendered = re.search(r'<div class="preview-rendered">(.*?)</div>', html, re.S).group(1)
    assert "<h1>Launch plan</h1>" in rendered
    assert "<strong>three</strong>" in rendered
    assert "<td>LinkedIn</td>" in rendered
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">safe link</a>' in rendered
    assert "raw link</a>" in rendered
    for forbidden in ("<script", "<img", "onerror", "onclick", 'href="javascript'):
        assert forbidden not in rendered


def test_a_json_file_is_pretty_printed(bucket):
    value = {"platform": "instagram", "slides": [{"headline": "Plan"}, {"headline": "<Ship>"}]}
    artifact = stored_artifact(bucket, json.dumps(value).encode(), name="spec.json", mime="application/json")
    template, html = shown(artifact)
    assert template == "approvals/previews/file_json.html"
    assert "&quot;headline&quot;: &quot;&lt;Ship&gt;&quot;" in html
    assert "<Ship>" not in html
    assert "JSON dict" in html


def test_invalid_json_is_shown_as_text_with_the_reason(local_bucket):
    artifact = stored_artifact(local_bucket, b'{"unclosed": ', name="broken.json", mime="application/json")
    template, html = shown(artifact)
    assert template == "approvals/previews/file_text.html"
    assert "Not valid JSON" in html


def test_large_text_shows_the_first_256_kb_and_links_to_the_whole(bucket):
    line = "Launch day copy, draft line.\n"
    data = (line * (TEXT_PREVIEW_LIMIT // len(line) * 3)).encode()
    artifact = stored_artifact(bucket, data, name="long.txt", mime="text/plain")
    preview = preview_for(artifact)
    assert preview.context["truncated"]
    assert len(preview.context["text"].encode()) <= TEXT_PREVIEW_LIMIT
    html = render_to_string(preview.template_name, preview.context)
    assert "Showing the first 256 KB of" in html
    assert f'<a href="{reverse("artifact-file", args=[artifact.id])}"' in html


def test_a_multibyte_character_cut_at_the_limit_is_left_out(local_bucket):
    data = ("é" * (TEXT_PREVIEW_LIMIT // 2 + 10)).encode()
    artifact = stored_artifact(local_bucket, b"x" + data, name="accents.txt")
    text = preview_for(artifact).context["text"]
    assert "\ufffd" not in text
    assert set(text[1:]) == {"é"}


def test_unknown_binary_offers_name_type_size_and_download(local_bucket):
    artifact = stored_artifact(local_bucket, bytes(range(256)) * 8, name="weights.bin", mime=None)
    template, html = shown(artifact)
    assert template == "approvals/previews/file.html"
    assert "weights.bin" in html
    assert "application/octet-stream" in html
    assert "2.0" in html and "KB" in html
    assert ">Download</a>" in html


def test_a_missing_object_shows_a_notice_with_its_path(bucket):
    artifact = make_artifact(kind=ArtifactKind.FILE, storage_path="proj/9/gone.png", mime_type="image/png")
    template, html = shown(artifact)
    assert template == "approvals/previews/file_problem.html"
    assert "File missing from storage." in html
    assert "<code>proj/9/gone.png</code>" in html


def test_an_invalid_path_shows_a_notice_and_reads_nothing(local_bucket, tmp_path):
    (tmp_path / "storage" / "secret.txt").write_text("outside the bucket")
    artifact = make_artifact(kind=ArtifactKind.FILE, storage_path="../secret.txt", mime_type="text/plain")
    template, html = shown(artifact)
    assert template == "approvals/previews/file_problem.html"
    assert "Invalid storage path." in html
    assert "outside the bucket" not in html


def test_a_storage_outage_shows_a_notice_not_an_error(settings, private_moto_server):
    bucket = use_s3_bucket(settings, private_moto_server.endpoint_url)
    artifact = stored_artifact(bucket, sample_files.png_bytes(), name="hero.png", mime="image/png")
    assert shown(artifact)[0] == "approvals/previews/file_image.html"
    private_moto_server.stop()
    template, html = shown(artifact)
    assert template == "approvals/previews/file_problem.html"
    assert "File storage is unavailable right now" in html
    assert "<code>proj/7/hero.png</code>" in html


def test_text_and_json_artifacts_keep_their_previews():
    text = make_artifact(kind=ArtifactKind.TEXT, body_text="Hello <world> launch")
    template, html = shown(text)
    assert template == "approvals/previews/text.html"
    assert "Hello &lt;world&gt; launch" in html
    assert "3 words" in html
    data = make_artifact(kind=ArtifactKind.JSON, body_json=[1, 2, 3])
    assert shown(data)[0] == "approvals/previews/json.html"


def test_a_json_artifact_of_megabytes_is_cut_at_a_line_end_and_says_so():
    value = [{"index": index, "caption": "x" * 200} for index in range(20_000)]  # about 4.6 MB formatted
    template, html = shown(make_artifact(kind=ArtifactKind.JSON, body_json=value))

    assert template == "approvals/previews/json.html"
    assert len(html) < 300 * 1024
    body = html.split('<pre class="preview-body" tabindex="0">')[1].split("</pre>")[0]
    assert body.endswith(",") or body.endswith("{")  # a whole line, not half of one
    assert "of 80,002 lines)." in html


def test_a_json_artifact_that_is_one_huge_string_shows_its_first_256_kb():
    template, html = shown(make_artifact(kind=ArtifactKind.JSON, body_json="y" * 1_000_000))
    assert html.count("y") >= 256 * 1024 - 10
    assert "Showing the first 262,144 of 1,000,002 characters (1 of 1 lines)." in html


def test_a_small_json_artifact_is_shown_whole_without_a_notice():
    template, html = shown(make_artifact(kind=ArtifactKind.JSON, body_json={"a": 1}))
    assert "Showing the first" not in html
    assert "&quot;a&quot;: 1" in html


# --- On the review page -----------------------------------------------------------------------------------


@pytest.fixture
def logged_in_reviewer(client):
    client.force_login(make_reviewer())
    return client


def test_review_page_shows_a_missing_file_as_a_notice(logged_in_reviewer, local_bucket):
    artifact = make_artifact(kind=ArtifactKind.FILE, storage_path="proj/9/gone.mp4", mime_type="video/mp4")
    approval = make_pending_review(artifact=artifact)
    response = logged_in_reviewer.get(reverse("approval-detail", args=[approval.id]))
    assert response.status_code == 200
    assert "File missing from storage." in response.content.decode()
    assert "<code>proj/9/gone.mp4</code>" in response.content.decode()


def test_review_page_during_a_storage_outage_says_so_instead_of_failing(
    logged_in_reviewer, settings, private_moto_server
):
    bucket = use_s3_bucket(settings, private_moto_server.endpoint_url)
    artifact = stored_artifact(bucket, sample_files.png_bytes(), name="hero.png", mime="image/png")
    approval = make_pending_review(artifact=artifact)
    private_moto_server.stop()
    response = logged_in_reviewer.get(reverse("approval-detail", args=[approval.id]))
    assert response.status_code == 200
    assert "File storage is unavailable right now" in response.content.decode()
    assert 'name="decision" value="approved"' in response.content.decode()
