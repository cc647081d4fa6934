"""Social networks as a post will appear on them: the limits table, counting, the layout of a post, and the
review page's platform preview."""
