"""Tests of the SQL schema and the runner behind apply_sql (migrations_sql/, approvals/sql_runner/)."""
