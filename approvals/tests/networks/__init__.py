"""Tests of social networks: limits, counting, the platform card (approvals/networks/)."""
