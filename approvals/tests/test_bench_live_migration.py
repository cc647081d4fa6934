"""bench/live_migration.py at its smoke size: every pending file gets a row, and this checkout's scenarios
neither deadlock nor fail a pipeline writer (docs/apply-sql.md, "Measured")."""

from pathlib import Path

import pytest
from django.conf import settings

from approvals.tests.test_benchmarks import bench_env, smoke, table_rows  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow

FILES = sorted(path.name for path in Path(settings.SQL_MIGRATIONS_DIR).glob("[0-9][0-9][0-9]_*.sql"))


@pytest.mark.bench
def test_live_migration_smoke_reports_every_file_and_no_deadlock(smoke):  # noqa: F811
    output = smoke("bench.live_migration")
    rows = table_rows(output)
    by_scenario: dict[str, dict[str, list[str]]] = {}
    for cells in rows:
        by_scenario.setdefault(cells[0], {})[cells[1]] = cells[2:]

    pending_at_008 = [name for name in FILES if int(name[:3]) > 8]
    assert list(by_scenario["after"]) == ["(traffic alone)", *pending_at_008]
    assert by_scenario["after"]["010_ops_rollups.sql"][0] == "superseded"
    assert list(by_scenario["after, from 010"]) == ["(traffic alone)", *(n for n in pending_at_008 if n[:3] > "010")]
    assert "--rehearse, every file" in by_scenario["rehearse"]
    assert "--rehearse, every file" in by_scenario["rehearse, from 010"]
    for scenario in ("after", "after, from 010", "rehearse", "rehearse, from 010"):
        for file, cells in by_scenario[scenario].items():
            assert cells[-2:] == ["0", "0"], (scenario, file)  # no deadlock, no failed operation
        assert f"{scenario}: apply_sql exit 0;" in output
