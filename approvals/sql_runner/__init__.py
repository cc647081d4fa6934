"""The runner behind `manage.py apply_sql`: files, ledger, lock, reports, rollback."""
