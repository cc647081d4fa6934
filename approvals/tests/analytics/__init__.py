"""Tests of review analytics (approvals/analytics/)."""
