"""The demo shows every kind a reviewer meets, made offline, and `seed_demo --reset` replaces only the demo."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.utils import timezone

from approvals.files.previews import TEXT_PREVIEW_LIMIT, preview_for
from approvals.models import Approval, ApprovalStatus, Artifact
from approvals.seeding.demo import NESTED_JSON_DEPTH
from approvals.tests.factories import make_pending_review, make_project

pytestmark = pytest.mark.django_db

NETWORKS = {"x", "linkedin", "instagram", "threads", "facebook"}


@pytest.fixture
def demo(settings, tmp_path, monkeypatch):
    """seed_demo into a bucket under tmp_path, with no ffmpeg (nor anything else) on PATH."""
    settings.VAR_DIR = tmp_path
    default = settings.STORAGES["default"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**default, "OPTIONS": {**default.get("OPTIONS", {}), "location": str(tmp_path / "storage")}},
    }
    monkeypatch.setenv("PATH", "")
    call_command("seed_demo", stdout=_Discard())
    return tmp_path


def pending(name: str) -> Artifact:
    return Approval.objects.get(artifact__name=name, status=ApprovalStatus.PENDING).artifact


def test_every_preview_kind_waits_in_the_demo(demo):
    shown = {
        preview_for(approval.artifact).template_name.rsplit("/", 1)[1]
        for approval in Approval.objects.filter(status=ApprovalStatus.PENDING).select_related("artifact")
    }
    assert shown == {
        "text.html",
        "json.html",
        "file_image.html",
        "file_video.html",
        "file_audio.html",
        "file_pdf.html",
        "file_csv.html",
        "file_markdown.html",
        "file_source.html",  # the SVG and the HTML page, as source
        "file.html",  # an unknown binary
        "file_problem.html",  # a file missing from storage
    }
    assert preview_for(pending("webinar-transcript")).context["truncated"] is True
    assert len(pending("webinar-transcript").body_text) > TEXT_PREVIEW_LIMIT
    assert {preview_for(pending(name)).context["family"] for name in ("logo-mark.svg", "landing-page.html")} == {
        "svg",
        "html",
    }


def test_the_demo_video_is_a_shipped_webm_with_cues_so_it_seeks(demo):
    with storages["default"].open(pending("spring-teaser.webm").storage_path) as stored:
        data = stored.read()
    assert data.startswith(b"\x1a\x45\xdf\xa3")  # EBML header
    assert b"\x1c\x53\xbb\x6b" in data  # the Cues element: players seek without reading the whole file
    assert len(data) < 100_000


def test_the_deep_json_is_nested_fifty_levels(demo):
    value, depth = pending("campaign-brief-nested").body_json, 1
    while "detail" in value:
        value, depth = value["detail"], depth + 1
    assert depth == NESTED_JSON_DEPTH == 50


def test_social_posts_cover_every_network_and_one_x_post_is_over_280(demo):
    platforms = set(Artifact.objects.filter(metadata__has_key="platform").values_list("metadata__platform", flat=True))
    assert platforms >= NETWORKS
    x_texts = Artifact.objects.filter(metadata__platform="x", kind="text").values_list("body_text", flat=True)
    assert any(len(text) > 280 for text in x_texts)


def test_the_x_thread_and_the_instagram_carousel_name_their_parts(demo):
    thread = pending("x-launch-thread")
    assert thread.metadata == {"platform": "x"}
    assert len(thread.body_json["thread"]) >= 3 and all(isinstance(post, str) for post in thread.body_json["thread"])

    carousel = pending("spring-carousel")
    assert carousel.metadata == {"platform": "instagram"}
    assert carousel.body_json["caption"]
    for slide in carousel.body_json["slides"]:
        assert slide["alt"]
        with storages["default"].open(slide["image"]) as stored:
            assert stored.read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_third_version_waits_after_two_rejections(demo):
    v3 = pending("teaser-video-script")
    earlier = Approval.objects.filter(artifact__name="teaser-video-script").exclude(artifact=v3)
    assert v3.version == 3
    assert list(earlier.order_by("artifact__version").values_list("artifact__version", "status")) == [
        (1, "rejected"),
        (2, "rejected"),
    ]
    assert all(earlier.values_list("notes", flat=True))


def test_reset_replaces_the_demo_and_leaves_other_data_alone(demo):
    pending_before = Approval.objects.filter(status=ApprovalStatus.PENDING).count()
    Approval.objects.filter(status=ApprovalStatus.PENDING).update(
        status=ApprovalStatus.APPROVED, decided_by="demo", decided_at=timezone.now()
    )
    own = make_pending_review(project=make_project(name="Real work"), name="real-post")
    storages["default"].save("proj/real/keep.txt", ContentFile(b"keep me"))

    call_command("seed_demo", "--reset", stdout=_Discard())

    own.refresh_from_db()
    assert own.status == ApprovalStatus.PENDING and own.artifact.name == "real-post"
    assert storages["default"].exists("proj/real/keep.txt")
    assert Approval.objects.filter(status=ApprovalStatus.PENDING).count() == pending_before + 1
    assert not Approval.objects.filter(decided_by="demo").exists()
    assert Artifact.objects.filter(name="launch-announcement").count() == 2  # replaced, not added


def test_the_demo_files_left_after_a_reset_are_only_the_new_ones(demo):
    def demo_files() -> set[str]:
        root = demo / "storage" / "demo"
        return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}

    before = demo_files()
    call_command("seed_demo", "--reset", stdout=_Discard())
    after = demo_files()
    assert len(after) == len(before)
    stored = set(Artifact.objects.exclude(storage_path=None).values_list("storage_path", flat=True))
    slides = {slide["image"] for slide in pending("spring-carousel").body_json["slides"]}
    assert {f"demo/{name}" for name in after} == (stored | slides) - {pending("press-release-final.pdf").storage_path}


class _Discard:
    def write(self, text):
        pass

    def flush(self):
        pass


def test_reset_also_replaces_a_demo_seeded_before_its_projects_had_fixed_ids(demo):
    old = make_project(name="Spring launch")
    old.description = "Posts and visuals for the spring launch."
    old.save()
    make_pending_review(project=old, name="old-demo-post")

    call_command("seed_demo", "--reset", stdout=_Discard())

    assert not Artifact.objects.filter(name="old-demo-post").exists()
    assert sorted(Artifact.objects.filter(name="launch-announcement").values_list("version", flat=True)) == [1, 2]
