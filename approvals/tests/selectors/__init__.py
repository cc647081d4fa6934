"""Tests of the reviewer pages' read side (approvals/selectors/)."""
