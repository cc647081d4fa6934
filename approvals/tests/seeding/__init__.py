"""Tests of demo and bulk data (approvals/seeding/)."""
