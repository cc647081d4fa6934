"""The networks' limits table against known examples, the layout of a post, and the platform card."""

import pytest
from django.urls import reverse

from approvals.models import ArtifactKind
from approvals.networks.counting import count_post, graphemes
from approvals.networks.layout import lay_out
from approvals.networks.limits import NETWORKS, network_for
from approvals.networks.preview import CAROUSEL, THREAD, UNRECOGNISED, preview_of
from approvals.tests.factories import make_pending_review
from approvals.tests.sample_files import png_bytes

LONG_URL = "https://example.com/blog/2026/11/29/" + "the-launch-announcement-with-every-detail-" * 4
CODER = "👩🏽‍💻"  # woman technologist, medium skin tone: five code points, one character to a reader


def test_the_table_has_the_five_networks_with_their_published_limits_and_sources():
    limits = {key: network.limit for key, network in NETWORKS.items()}

    assert limits == {"x": 280, "linkedin": 3000, "instagram": 2200, "threads": 500, "facebook": 63206}
    assert NETWORKS["instagram"].max_hashtags == 30
    assert all(network.source for network in NETWORKS.values())


def test_networks_md_example_weighs_40_on_x():
    text = "Hello 🌸 https://example.com/very/long/path/that/is/long #launch"

    assert count_post(NETWORKS["x"], text).length == 40


def test_an_x_post_with_a_long_link_and_emoji_is_under_280_by_xs_count_though_over_by_len():
    text = f"Big news 🎉🚀 our launch is live! Read it all at {LONG_URL} {CODER * 10} #launch"

    count = count_post(NETWORKS["x"], text)

    assert len(text) > 280
    assert count.length < 280
    assert not count.over


def test_an_x_post_over_280_says_by_how_much():
    count = count_post(NETWORKS["x"], "a" * 290)

    assert (count.length, count.over, count.problems) == (290, True, ("Over X's limit by 10.",))


def test_other_networks_count_what_a_reader_sees_as_one_character():
    assert graphemes(CODER) == 1
    assert count_post(NETWORKS["threads"], CODER * 500).length == 500
    assert not count_post(NETWORKS["threads"], CODER * 500).over
    assert count_post(NETWORKS["threads"], CODER * 501).over


def test_instagram_allows_at_most_30_hashtags():
    count = count_post(NETWORKS["instagram"], " ".join(f"#tag{n}" for n in range(31)))

    assert count.problems == ("31 hashtags: Instagram allows at most 30.",)


def test_platform_is_read_from_metadata_in_any_case_and_unknown_ones_are_ignored():
    assert network_for({"platform": " LinkedIn "}).key == "linkedin"
    assert network_for({"platform": "myspace"}) is None
    assert network_for(["x"]) is None


def test_a_post_is_cut_at_a_space_before_the_networks_fold():
    text = "word " * 24 + "#launchday and the rest"  # the fold (125) falls inside the hashtag

    post = lay_out(NETWORKS["instagram"], text)

    assert "".join(piece.text for piece in post.shown) == text[:119]
    assert [(piece.kind, piece.text) for piece in post.folded[:2]] == [("text", " "), ("hashtag", "#launchday")]


def test_a_hashtag_the_fold_cuts_goes_whole_behind_it():
    tag = "#" + "a" * 40
    text = "word " * 20 + tag + " end"  # no space in the 20 characters before the fold

    post = lay_out(NETWORKS["instagram"], text)

    assert (post.shown[-1].kind, post.folded[0].kind, post.folded[0].text) == ("text", "hashtag", tag)
    assert "".join(piece.text for piece in post.shown + post.folded) == text


def test_links_hashtags_and_mentions_are_styled_pieces():
    post = lay_out(NETWORKS["x"], "Hi @flow, see https://flow.example/x. #ship")

    assert [(piece.kind, piece.text) for piece in post.shown] == [
        ("text", "Hi "),
        ("mention", "@flow"),
        ("text", ", see "),
        ("link", "https://flow.example/x"),
        ("text", ". "),
        ("hashtag", "#ship"),
    ]
    assert post.folded == []


def test_a_thread_shows_each_post_counted_alone():
    preview = preview_of(network=NETWORKS["x"], value={"thread": ["one", "a" * 281]}, artifact_id=None, author="Flow")

    assert preview.shape == THREAD
    assert [post.count.over for post in preview.posts] == [False, True]


def test_a_carousel_over_20_slides_is_flagged_and_json_we_do_not_know_is_said_so():
    slides = [{"image": f"proj/1/slide-{n}.png", "alt": ""} for n in range(21)]
    carousel = preview_of(
        network=NETWORKS["instagram"], value={"caption": "Hi", "slides": slides}, artifact_id=None, author="Flow"
    )
    other = preview_of(network=NETWORKS["x"], value={"hashtags": ["#a"]}, artifact_id=None, author="Flow")

    assert carousel.shape == CAROUSEL
    assert carousel.problems == ["21 slides: Instagram allows at most 20."]
    assert other.shape == UNRECOGNISED


@pytest.mark.django_db
def test_the_review_page_shows_the_card_with_the_count_in_red_when_over(reviewer_client):
    approval = make_pending_review(body_text="a" * 290 + " #launch", metadata={"platform": "x"})

    page = reviewer_client.get(reverse("approval-detail", args=[approval.id])).content.decode()

    assert "Preview: X" in page
    assert '<p class="post-count over">' in page
    assert "Over X&#x27;s limit by 18." in page
    assert '<span class="post-hashtag">#launch</span>' in page


@pytest.mark.django_db
def test_pipeline_markup_in_a_post_is_escaped_in_the_card(reviewer_client):
    approval = make_pending_review(body_text="<script>alert(1)</script> #x", metadata={"platform": "threads"})

    page = reviewer_client.get(reverse("approval-detail", args=[approval.id])).content.decode()

    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.django_db
def test_a_carousel_slide_image_is_served_only_from_a_path_the_artifact_names(reviewer_client, local_bucket):
    png = png_bytes()
    local_bucket.put("proj/1/slide.png", png)
    approval = make_pending_review(
        kind=ArtifactKind.JSON,
        body_json={"caption": "Hi", "slides": [{"image": "proj/1/slide.png"}, {"image": "../../etc/passwd"}]},
        metadata={"platform": "instagram"},
    )
    artifact_id = approval.artifact_id

    page = reviewer_client.get(reverse("approval-detail", args=[approval.id])).content.decode()
    image = reviewer_client.get(reverse("slide-image", args=[artifact_id, 0]))
    escaping = reviewer_client.get(reverse("slide-image", args=[artifact_id, 1]))
    beyond = reviewer_client.get(reverse("slide-image", args=[artifact_id, 2]))

    assert f'src="{reverse("slide-image", args=[artifact_id, 0])}"' in page
    assert (image.status_code, image["Content-Type"]) == (200, "image/png")
    assert b"".join(image.streaming_content) == png
    assert (escaping.status_code, b"not a valid key" in escaping.content) == (404, True)
    assert beyond.status_code == 404


def test_the_example_agent_fits_its_revision_to_xs_limit_by_xs_count():
    from bench.example_agent import revise_text

    revised = revise_text("🌸" * 139, notes="Add the date: 1 May.", network=NETWORKS["x"])

    assert count_post(NETWORKS["x"], revised).length <= 280
    assert revised.endswith("…")
