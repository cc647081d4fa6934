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

    @property
    def over(self) -> bool:
        return bool(self.problems)


# The review page counts its post twice (the platform preview and the editor's
# check), and the emoji scan of X's weighted count is most of a millisecond.
@lru_cache(maxsize=64)
def count_post(network: Network, text: str) -> PostCount:
    """The post's length against its network's limit, and what (if anything) is over."""
    if network.counted_in == WEIGHTED:
        # Imported on first use: compiling its emoji patterns took a quarter of
        # a second of every process start (each manage.py command, each worker).
        from twitter_text import parse_tweet

        length = parse_tweet(text).weightedLength
    else:
        length = graphemes(text)
    hashtags = len(HASHTAG.findall(text))
    problems = []
    if length > network.limit:
        problems.append(f"Over {network.name}'s limit by {length - network.limit:,}.")
    if network.max_hashtags is not None and hashtags > network.max_hashtags:
        problems.append(f"{hashtags} hashtags: {network.name} allows at most {network.max_hashtags}.")
    return PostCount(
        length=length,
        limit=network.limit,
        hashtags=hashtags,
        max_hashtags=network.max_hashtags,
        problems=tuple(problems),
    )
