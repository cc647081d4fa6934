"""The runner behind `manage.py apply_sql`: files, ledger, lock, replacements, rehearsal, reports, rollback."""
