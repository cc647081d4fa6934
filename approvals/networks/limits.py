"""The networks' limits: ONE table, each row saying where its figures come from.

Hard limits are the networks' published maxima. A "fold" is where the feed cuts a
post behind "…more"; it depends on device and layout, so it is approximate.
Sources: each row's `source`, from the networks' own help pages and developer docs.
"""

from dataclasses import dataclass

WEIGHTED = "weighted"  # X's own rule: twitter-text's weighted length (links 23, most emoji and CJK 2)
GRAPHEMES = "graphemes"  # what a reader sees as one character: extended grapheme clusters (regex's \X)


@dataclass(frozen=True)
class Network:
    key: str  # metadata.platform
    name: str  # shown as "Preview: <name>"
    limit: int
    counted_in: str  # WEIGHTED or GRAPHEMES
    fold_characters: int | None  # None: the feed shows the whole post
    fold_lines: int | None
    max_hashtags: int | None
    max_slides: int | None
    source: str


NETWORKS: dict[str, Network] = {
    network.key: network
    for network in (
        Network(
            key="x",
            name="X",
            limit=280,
            counted_in=WEIGHTED,
            fold_characters=None,
            fold_lines=None,
            max_hashtags=None,
            max_slides=None,
            source="X developer docs, 'Counting characters' (280 weighted; 4,000 for paid accounts is not our "
            "default); counted with twitter-text-parser, X's published rules. A thread: each post counted alone.",
        ),
        Network(
            key="linkedin",
            name="LinkedIn",
            limit=3000,
            counted_in=GRAPHEMES,
            fold_characters=210,
            fold_lines=3,
            max_hashtags=None,
            max_slides=None,
            source="LinkedIn Help, post character limit 3,000; the desktop feed folds at about 210 characters "
            "or three lines (sources say 140-210).",
        ),
        Network(
            key="instagram",
            name="Instagram",
            limit=2200,
            counted_in=GRAPHEMES,
            fold_characters=125,
            fold_lines=2,
            max_hashtags=30,
            max_slides=20,
            source="Instagram Help: captions up to 2,200 characters and 30 hashtags; a carousel holds up to 20 "
            "slides with one caption; the feed folds at about 125 characters.",
        ),
        Network(
            key="threads",
            name="Threads",
            limit=500,
            counted_in=GRAPHEMES,
            fold_characters=None,
            fold_lines=None,
            max_hashtags=None,
            max_slides=None,
            source="Threads Help: posts up to 500 characters; the feed shows them whole.",
        ),
        Network(
            key="facebook",
            name="Facebook",
            limit=63206,
            counted_in=GRAPHEMES,
            fold_characters=480,
            fold_lines=5,
            max_hashtags=None,
            max_slides=None,
            source="Facebook's published maximum of 63,206 characters; the feed folds after a few lines "
            "(sources vary: we take 5 lines or about 480 characters).",
        ),
    )
}


def network_for(metadata) -> Network | None:
    """The network an artifact is written for (metadata.platform, any case), or None."""
    platform = metadata.get("platform") if isinstance(metadata, dict) else None
    return NETWORKS.get(platform.strip().lower()) if isinstance(platform, str) else None
