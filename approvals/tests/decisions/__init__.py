"""Tests of the decision service (approvals/decisions/, revisions.py) and the pipeline contract."""
