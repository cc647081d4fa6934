"""How long a post is by its network's rule, and why it is over."""

from dataclasses import dataclass
from functools import lru_cache

import regex

from approvals.networks.limits import WEIGHTED, Network

# Hashtags as the networks recognise them: # then letters, digits or _, not glued to a word before it.
HASHTAG = regex.compile(r"(?<![\w&])#(\w+)")


def graphemes(text: str) -> int:
    """Characters as a reader sees them: an emoji with a skin tone, or a flag, is one."""
    return len(regex.findall(r"\X", text))


@dataclass(frozen=True)
class PostCount:
    length: int
    limit: int
    hashtags: int
    max_hashtags: int | None
    problems: tuple[str, ...]
    # The whole post's characters, when only its first part was counted (approvals.networks.budget).
    whole_characters: int | None = None

    @property
    def over(self) -> bool:
        return bool(self.problems)

    @property
    def partial(self) -> bool:
        """Only the first part of the post was counted: its length and hashtags are "at least"."""
        return self.whole_characters is not None


# The review page counts its posts twice (the platform preview and the editor's
# check), and the emoji scan of X's weighted count is most of a millisecond;
# 64 holds a whole card (approvals.networks.budget.CARD_POSTS and a caption).
@lru_cache(maxsize=64)
def count_post(network: Network, text: str, whole_characters: int | None = None) -> PostCount:
    """The post's length against its network's limit, and what (if anything) is over.

    With `whole_characters`, `text` is the first part of a longer post: what is
    said of it is said as "at least".
    """
    if network.counted_in == WEIGHTED:
        # Imported on first use: compiling its emoji patterns took a quarter of
        # a second of every process start (each manage.py command, each worker).
        from twitter_text import parse_tweet

        length = parse_tweet(text).weightedLength
    else:
        length = graphemes(text)
    hashtags = len(HASHTAG.findall(text))
    return PostCount(
        length=length,
        limit=network.limit,
        hashtags=hashtags,
        max_hashtags=network.max_hashtags,
        problems=tuple(_problems(network, length=length, hashtags=hashtags, text=text, whole=whole_characters)),
        whole_characters=whole_characters,
    )


def _problems(network: Network, *, length: int, hashtags: int, text: str, whole: int | None) -> list[str]:
    problems = []
    counted = f"counted the first {len(text):,} of {whole:,} characters" if whole is not None else ""
    if length > network.limit:
        by = f"by at least {length - network.limit:,}: {counted}" if counted else f"by {length - network.limit:,}"
        problems.append(f"Over {network.name}'s limit {by}.")
    elif counted:
        problems.append(f"Only the first {len(text):,} of {whole:,} characters were counted: the rest is not.")
    if network.max_hashtags is not None and hashtags > network.max_hashtags:
        at_least = "At least " if counted else ""
        problems.append(f"{at_least}{hashtags} hashtags: {network.name} allows at most {network.max_hashtags}.")
    return problems
