"""How much of a post, a thread or a carousel a platform card lays out and counts: the review page's card
and the editor's live check share this budget, so neither costs more than a page may whatever the
pipeline wrote (before it, a 100,000-post thread took 120 s and 57 MB per review page on gunicorn).

What is past the budget is not shown and not counted, and the card says so.
"""

from approvals.networks.limits import WEIGHTED, Network

# The posts of a thread on the card. Threads the pipeline drafts run to a
# dozen posts; 25 keeps a long one whole and the card a few screens long.
CARD_POSTS = 25
# The slides of a carousel on the card: Instagram's own maximum, so a carousel
# past it is already flagged as over, and its first 20 are what would be posted.
CARD_SLIDES = 20
# A post is counted and shown up to this many times its network's limit
# (X: 2,800 characters for a 280 limit). Past that it is over by far, and says
# "by at least": twitter-text takes some 7 µs a character, 7 s of CPU for a
# 1 MB post (18.6 s on a busy gunicorn), 20 ms for 2,800 characters.
POST_CHARACTERS_PER_LIMIT = 10
# Characters the whole card lays out and counts, over all its posts: twice
# Facebook's 63,206, so a real post is never cut (counting them as graphemes
# takes about 30 ms).
CARD_CHARACTERS = 128 * 1024
# X's weighted count costs about 25 times a grapheme count: 16,384 characters
# hold 25 posts at twice X's limit (14,000), and cost about 0.12 s at worst.
WEIGHTED_CARD_CHARACTERS = 16 * 1024


def post_characters(network: Network) -> int:
    """The characters of one post counted and shown on `network`."""
    return min(network.limit * POST_CHARACTERS_PER_LIMIT, card_characters(network))


def card_characters(network: Network) -> int:
    """The characters one card counts and shows on `network`, over all its posts."""
    return WEIGHTED_CARD_CHARACTERS if network.counted_in == WEIGHTED else CARD_CHARACTERS
