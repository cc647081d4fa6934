"""Tests of the ops console and the costs dashboard (approvals/admin/)."""
