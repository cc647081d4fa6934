"""What the review page's platform card shows: a post, an X thread, or an Instagram carousel, laid out.

The pipeline may write any JSON: shapes we do not recognise get a card that says
what we expected, never an error. However long the thread, the carousel or the
post, the card lays out and counts only what approvals.networks.budget allows,
and says what it left out.
"""

import uuid
from dataclasses import dataclass, field

from django.urls import reverse

from approvals.models import Artifact, ArtifactKind
from approvals.networks.budget import CARD_POSTS, CARD_SLIDES, card_characters, post_characters
from approvals.networks.layout import LaidOutPost, lay_out
from approvals.networks.limits import Network, network_for

POST, THREAD, CAROUSEL, UNRECOGNISED = "post", "thread", "carousel", "unrecognised"
# Keys a JSON post may keep its text under, in the order we look.
_TEXT_KEYS = ("text", "body", "caption")


@dataclass(frozen=True)
class Slide:
    number: int
    image_url: str | None
    storage_path: str
    alt: str


@dataclass(frozen=True)
class PlatformPreview:
    network: Network
    shape: str
    author: str
    posts: list[LaidOutPost] = field(default_factory=list)
    slides: list[Slide] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    post_total: int = 1  # the thread's posts, of which `posts` are the first
    slide_total: int = 0  # the carousel's slides, of which `slides` are the first

    @property
    def notices(self) -> list[str]:
        """What the card leaves out, in words."""
        notices = []
        rest = self.post_total - len(self.posts)
        if rest > 0:
            notices.append(
                f"Showing and counting the first {len(self.posts):,} of {self.post_total:,} posts; "
                f"the other {rest:,} {'is' if rest == 1 else 'are'} not counted."
            )
        if self.slide_total > len(self.slides):
            notices.append(f"Showing the first {len(self.slides):,} of {self.slide_total:,} slides.")
        return notices

    @property
    def handle(self) -> str:
        """The @name under which X, Threads and Instagram show the author (LinkedIn and Facebook show none)."""
        if self.network.key not in {"x", "threads", "instagram"}:
            return ""
        return "@" + ("".join(character for character in self.author.lower() if character.isalnum()) or "account")[:15]

    @property
    def over(self) -> bool:
        return bool(self.problems) or any(post.count.over for post in self.posts)


def platform_preview(artifact: Artifact) -> PlatformPreview | None:
    """The card for an artifact written for a network (metadata.platform), or None."""
    network = network_for(artifact.metadata)
    if network is None or artifact.kind == ArtifactKind.FILE:
        return None
    value = artifact.body_json if artifact.kind == ArtifactKind.JSON else artifact.body_text or ""
    return preview_of(network=network, value=value, artifact_id=artifact.id, author=author_of(artifact))


def author_of(artifact: Artifact) -> str:
    metadata = artifact.metadata if isinstance(artifact.metadata, dict) else {}
    for key in ("author", "account", "handle"):
        if isinstance(metadata.get(key), str) and metadata[key].strip():
            return metadata[key].strip()[:80]
    return artifact.project.name[:80]


def preview_of(*, network: Network, value, artifact_id: uuid.UUID | None, author: str) -> PlatformPreview:
    """Lay out a text body or a JSON value (also an edit not yet saved: then artifact_id is None, no images)."""
    if isinstance(value, str):
        return PlatformPreview(network=network, shape=POST, author=author, posts=[_one_post(network, value)])
    thread = value.get("thread") if isinstance(value, dict) else value
    if isinstance(thread, list) and thread and all(isinstance(post, str) for post in thread):
        posts = _thread_posts(network, thread)
        return PlatformPreview(network=network, shape=THREAD, author=author, posts=posts, post_total=len(thread))
    if isinstance(value, dict) and isinstance(value.get("slides"), list):
        return _carousel(network=network, value=value, artifact_id=artifact_id, author=author)
    if isinstance(value, dict):
        for key in _TEXT_KEYS:
            if isinstance(value.get(key), str):
                posts = [_one_post(network, value[key])]
                return PlatformPreview(network=network, shape=POST, author=author, posts=posts)
    return PlatformPreview(network=network, shape=UNRECOGNISED, author=author, post_total=0)


def _one_post(network: Network, text: str) -> LaidOutPost:
    return lay_out(network, text, characters=post_characters(network))


def _thread_posts(network: Network, thread: list[str]) -> list[LaidOutPost]:
    """The thread's first posts, while the card's posts and characters last: the first post that would
    not fit (as far as a post is counted) ends the card. The first always fits: a post counts fewer
    characters than a card."""
    left = card_characters(network)
    posts = []
    for text in thread[:CARD_POSTS]:
        characters = min(len(text), post_characters(network))
        if characters > left:
            break
        posts.append(lay_out(network, text, characters=characters))
        left -= characters
    return posts


def _carousel(*, network: Network, value: dict, artifact_id: uuid.UUID | None, author: str) -> PlatformPreview:
    slides, problems = [], []
    for index, slide in enumerate(value["slides"][:CARD_SLIDES]):
        slide = slide if isinstance(slide, dict) else {}
        path = slide.get("image") if isinstance(slide.get("image"), str) else ""
        alt = slide.get("alt") if isinstance(slide.get("alt"), str) else ""
        url = reverse("slide-image", args=[artifact_id, index]) if path and artifact_id else None
        slides.append(Slide(number=index + 1, image_url=url, storage_path=path, alt=alt))
    slide_total = len(value["slides"])
    if network.max_slides is not None and slide_total > network.max_slides:
        problems.append(f"{slide_total:,} slides: {network.name} allows at most {network.max_slides}.")
    caption = value.get("caption") if isinstance(value.get("caption"), str) else ""
    return PlatformPreview(
        network=network,
        shape=CAROUSEL,
        author=author,
        posts=[_one_post(network, caption)],
        slides=slides,
        problems=problems,
        slide_total=slide_total,
    )


def slide_path(artifact: Artifact, index: int) -> str | None:
    """The storage path the carousel's slide names (what the slide image view may serve), or None."""
    value = artifact.body_json if artifact.kind == ArtifactKind.JSON else None
    slides = value.get("slides") if isinstance(value, dict) else None
    if not isinstance(slides, list) or not 0 <= index < len(slides) or not isinstance(slides[index], dict):
        return None
    path = slides[index].get("image")
    return path if isinstance(path, str) and path else None
