"""A post laid out as its network shows it: styled pieces (text, hashtags, @mentions, links) and the fold.

Pieces are plain strings for the template to escape; nothing here builds HTML.
"""

from dataclasses import dataclass

import regex

from approvals.networks.counting import PostCount, count_post
from approvals.networks.limits import Network

# Links, hashtags and @mentions, in one pass; a link runs to the next space.
_PIECE = regex.compile(
    r"(?P<link>\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]'])"
    r"|(?P<hashtag>(?<![\w&])#\w+)"
    r"|(?P<mention>(?<![\w@])@\w{1,30})"
)
# How far back from a fold falling mid-word we look for a space to cut at instead.
_WORD_BACKTRACK = 20


@dataclass(frozen=True)
class Piece:
    kind: str  # "text", "link", "hashtag" or "mention": the CSS class
    text: str


@dataclass(frozen=True)
class LaidOutPost:
    shown: list[Piece]
    folded: list[Piece]  # behind "…more"; empty when the feed shows the whole post
    count: PostCount


def pieces(text: str) -> list[Piece]:
    found, at = [], 0
    for match in _PIECE.finditer(text):
        if match.start() > at:
            found.append(Piece("text", text[at : match.start()]))
        found.append(Piece(match.lastgroup, match.group()))
        at = match.end()
    if at < len(text):
        found.append(Piece("text", text[at:]))
    return found


def fold_at(network: Network, text: str) -> int:
    """The offset where the feed cuts the post (len(text) when it shows it whole)."""
    cut = len(text)
    if network.fold_lines is not None:
        line_ends = [index for index, character in enumerate(text) if character == "\n"]
        if len(line_ends) >= network.fold_lines:
            cut = line_ends[network.fold_lines - 1]
    if network.fold_characters is not None:
        clusters = regex.findall(r"\X", text[:cut])
        if len(clusters) > network.fold_characters:
            cut = len("".join(clusters[: network.fold_characters]))
            space = text.rfind(" ", max(0, cut - _WORD_BACKTRACK), cut)
            cut = space if space > 0 else cut
    return cut


def lay_out(network: Network, text: str, *, characters: int | None = None) -> LaidOutPost:
    """The post as its network shows it; with `characters`, only that many of its first characters
    are laid out and counted (the card's budget, approvals.networks.budget), and its count says so."""
    whole = len(text) if characters is not None and len(text) > characters else None
    if whole is not None:
        text = text[:characters]
    cut = fold_at(network, text)
    shown, folded = pieces(text[:cut]), pieces(text[cut:])
    # A link, hashtag or mention cut in two would not be one on the network: keep it whole, behind the fold.
    if shown and folded and shown[-1].kind != "text" and folded[0].kind == "text" and not folded[0].text[:1].isspace():
        folded = pieces(shown.pop().text + text[cut:])
    return LaidOutPost(shown=shown, folded=folded, count=count_post(network, text, whole))
