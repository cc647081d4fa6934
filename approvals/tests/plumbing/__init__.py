"""Tests of site plumbing: requests, logs, headers, login, settings, servers (approvals/plumbing/, flowsite/)."""
