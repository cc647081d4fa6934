"""Every benchmark in bench/ runs end to end at a tiny size (`--smoke`), and docs/benchmarks.md's commands still run.

Each smoke run is a process of its own, as a person would start it, against
the test run's PostgreSQL server; it builds databases of its own there and
drops them at the end.
"""

import os
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from approvals.sql_runner.runner import connection_params
from approvals.tests.production_server import LEFT_OUT_OF_PRODUCTION
from approvals.tests.scratch_database import FILES, ScratchDatabase

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
# Where the benchmarks' commands are written down for people to copy.
COMMAND_DOCS = (ROOT / "docs" / "benchmarks.md", ROOT / "README.md")
# Modules in bench/ run with `python -m` that are not benchmarks, and why.
NOT_BENCHMARKS = {
    "bench.query_counts": "bench.load runs it in a process of its own to count queries",
    "bench.example_agent": "the example pipeline agent (issue 15) a developer runs beside the app",
}
SMOKE_MODULES = (
    "bench.load",
    "bench.serve_file",
    "bench.ops_console",
    "bench.explain",
    "bench.profile_pages",
    "bench.rollup_insert_rate",
    "bench.team_idle",
    "bench.team",
    "bench.live_migration",
)
LOAD_PAGES = {"floor", "queue", "queue_deep", "queue_filtered", "review", "admin_pending"}
NUMBER = r"[\d.,]+"


@pytest.fixture(scope="module")
def bench_env(django_db_setup) -> dict:
    """A shell's environment, pointed at the test run's PostgreSQL server (its `postgres` database)."""
    params = {key: value for key, value in connection_params(connections["default"]).items() if key != "dbname"}
    server = ScratchDatabase(alias="", name="postgres", params=params).url
    # Each benchmark chooses its own settings module, as when started from a shell.
    left_out = LEFT_OUT_OF_PRODUCTION | {"DJANGO_SETTINGS_MODULE"}
    env = {key: value for key, value in os.environ.items() if key not in left_out}
    return env | {"DATABASE_URL": server, "PYTHONUNBUFFERED": "1"}


def team_base_ref() -> str:
    """The team simulation's base, the last commit before claims, where the clone has it; else this commit."""
    from bench.team import BASE_BRANCH

    found = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{BASE_BRANCH}^{{commit}}"],
        cwd=settings.BASE_DIR,
        capture_output=True,
    )
    return BASE_BRANCH if found.returncode == 0 else "HEAD"


def smoke_arguments(module: str) -> list[str]:
    return ["--smoke", "--base", team_base_ref()] if module == "bench.team" else ["--smoke"]


@pytest.fixture
def smoke(bench_env, tmp_path):
    """Runs `python -m MODULE --smoke` as a person would, with files of its own; returns what it printed.

    One at a time per test, so pytest-xdist spreads them over its workers
    beside the other tests; each builds and drops databases of its own.
    """

    def run(module: str) -> str:
        arguments = smoke_arguments(module)
        env = bench_env | {"STATIC_ROOT": str(tmp_path / "static")}
        done = subprocess.run(
            [sys.executable, "-m", module, *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        command = f"python -m {module} {' '.join(arguments)}"
        assert done.returncode == 0, f"{command} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        return done.stdout

    return run


def table_rows(output: str) -> list[list[str]]:
    """The cells of every Markdown table row in `output`, header and separator rows left out."""
    rows = []
    for line in output.splitlines():
        if not line.startswith("|") or line.startswith("|---"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] not in {"ratio", "page", "statement"}:
            rows.append(cells)
    return rows


@pytest.mark.bench
def test_load_smoke_fills_every_row_and_decides_each_item_exactly_once(smoke):
    output = smoke("bench.load")
    rows = table_rows(output)
    ratios = [row for row in rows if len(row) == 4]
    pages = {(row[0], row[1]) for row in rows if len(row) == 5 and all(re.fullmatch(NUMBER, c) for c in row[2:])}
    assert len(ratios) == 9
    assert all(re.fullmatch(NUMBER + r"( / " + NUMBER + ")*", row[1]) and row[3] in {"yes", "NO"} for row in ratios)
    assert pages == {(page, scale) for page in LOAD_PAGES for scale in ("small", "large")}
    assert re.search(
        r"^Decisions: HTTP \d+/s, raw SQL \d+/s .*100 decided, 0 pending, 100 redirects: OK$", output, re.M
    )
    assert re.search(r"^apply_sql on an empty database: [\d.]+ s", output, re.M)


@pytest.mark.bench
def test_serve_file_smoke_serves_the_files_bytes_to_a_reviewer_logged_in_through_the_form(smoke):
    output = smoke("bench.serve_file")
    for label in ("file view (gunicorn, 1 worker)", "python -m http.server"):
        assert re.search(rf"^{re.escape(label)} +median {NUMBER} MB/s$", output, re.M), label
    assert re.search(rf"^throughput ratio +{NUMBER} ", output, re.M)
    assert re.search(rf"^worker peak RSS growth +{NUMBER} MB", output, re.M)
    assert re.search(r"^bytes checked +the whole file and a 100 kB range, both equal: OK$", output, re.M)


@pytest.mark.bench
def test_ops_console_smoke_times_every_page_and_counts_its_queries(smoke):
    output = smoke("bench.ops_console")
    rows = table_rows(output)
    assert len(rows) >= 15
    for page, median, fastest, slowest, queries, sql_ms in rows:
        assert all(re.fullmatch(r"\d+", value) for value in (median, fastest, slowest, sql_ms)), page
        assert int(queries) > 0, page


@pytest.mark.bench
def test_explain_smoke_prints_every_plan_and_no_sequential_scan_of_the_big_tables(smoke):
    output = smoke("bench.explain")
    summary = table_rows(output)
    plans = re.findall(r"^## ([^\n]+)\n\n```sql\n.+?```\n\n```\n(.+?)```", output, re.M | re.S)
    assert len(summary) == 7
    assert [title for title, _ in plans] == [row[0] for row in summary]
    assert all("Execution Time:" in plan for _, plan in plans)
    assert "No plan reads approvals or artifacts sequentially." in output


@pytest.mark.bench
def test_profile_pages_smoke_times_each_page_in_process_with_its_database_share(smoke):
    output = smoke("bench.profile_pages")
    rows = {row[0]: row[1:] for row in table_rows(output)}
    assert set(rows) == {"floor", "queue", "review", "decision"}
    for page, (ms, ratio, db_ms, queries) in rows.items():
        assert float(ms) > float(db_ms) > 0 and float(ratio) > 0 and float(queries) >= 2, page  # session, user
    assert rows["floor"][1] == "1.0"
    assert re.search(r"^== decision\n.*Ordered by: internal time", output, re.M | re.S)  # each page's profile


@cache
@pytest.mark.bench
def test_live_migration_smoke_reports_every_file_and_no_deadlock(smoke):
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


def help_text(module: str) -> str:
    result = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"python -m {module} --help failed:\n{result.stderr[-2000:]}"
    return result.stdout


def documented_commands(doc: Path) -> list[tuple[str, list[str]]]:
    """(module, flags) of every `python -m bench.X ...` in `doc`, up to a redirect, a pipe or a comment."""
    commands = []
    for module, rest in re.findall(r"python -m (bench\.\w+)([^\n`]*)", doc.read_text()):
        words = shlex.split(re.split(r"[>|;#]|&&", rest)[0])
        commands.append((module, [word.split("=")[0] for word in words if word.startswith("--")]))
    return commands


@pytest.mark.parametrize("doc", COMMAND_DOCS, ids=lambda doc: doc.name)
def test_every_documented_benchmark_command_names_a_module_and_flags_that_exist(doc):
    commands = documented_commands(doc)
    assert {module for module, _ in commands} >= {"bench.load", "bench.serve_file", "bench.ops_console"}
    for module, flags in commands:
        offered = set(re.findall(r"(?<![\w-])--[\w-]+", help_text(module)))
        assert set(flags) <= offered, f"{doc.name} runs {module} with {flags}; it offers {sorted(offered)}"


def entry_points() -> list[str]:
    """bench/ modules run with `python -m`, the ones that are not benchmarks left out."""
    runnable = [path.stem for path in (ROOT / "bench").glob("*.py") if 'if __name__ == "__main__":' in path.read_text()]
    return sorted(f"bench.{stem}" for stem in runnable if f"bench.{stem}" not in NOT_BENCHMARKS)


def test_every_benchmark_entry_point_offers_a_smoke_mode():
    assert set(SMOKE_MODULES) <= set(entry_points())
    for module in entry_points():
        assert "--smoke" in help_text(module), module


@pytest.mark.bench
def test_rollup_insert_rate_smoke_measures_both_kinds_of_insert_with_and_without_the_triggers(smoke):
    rows = table_rows(smoke("bench.rollup_insert_rate"))[1:]  # after the header
    assert [row[0] for row in rows] == ["one row per statement and transaction", "500 rows per statement"]
    for _, with_triggers, without, _slower in rows:
        assert float(with_triggers.replace(",", "")) > 0 and float(without.replace(",", "")) > 0


@pytest.mark.bench
def test_team_idle_smoke_serves_polls_to_open_pages_and_times_the_queue(smoke):
    idle, busy = table_rows(smoke("bench.team_idle"))[1:]  # after the header
    assert idle[0] == "0" and busy[0] == "3"
    assert float(busy[2]) > 0 and float(busy[3]) > 0  # the queue page and the pages' polls answered
    assert "204:" in busy[4] or "200:" in busy[4]


@pytest.mark.bench
def test_team_smoke_decides_every_item_exactly_once_in_both_checkouts(smoke):
    report = smoke("bench.team")
    rows = [line for line in report.splitlines() if line.startswith("| ") and not line.startswith("| checkout")]
    assert len(rows) == 2, report
    base, claims = ([cell.strip() for cell in row.strip("|").split("|")] for row in rows)
    for cells in (base, claims):
        assert len(cells) == 11 and all(cells), cells
        assert cells[2] == "16" and cells[10] == "yes", cells  # 16 items, each decided exactly once
    assert claims[0] == "this checkout (claims)"
    assert claims[9] == "none", claims  # nothing but 303s and 409s
