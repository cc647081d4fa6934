"""Review analytics: who decides how much, how long items wait, what gets approved and what drafts cost."""
