"""The team simulation's smoke mode: both checkouts run, the table is complete, every item is decided exactly once."""

import subprocess

import pytest
from django.conf import settings

from bench.team import BASE_BRANCH

pytestmark = pytest.mark.slow


def base_ref() -> str:
    """The last commit before claims where the clone has it; else this commit, to run the machinery."""
    found = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{BASE_BRANCH}^{{commit}}"],
        cwd=settings.BASE_DIR,
        capture_output=True,
    )
    return BASE_BRANCH if found.returncode == 0 else "HEAD"


def test_the_team_simulation_smoke_run_decides_every_item_exactly_once():
    from bench.team import main

    report = main(["--smoke", "--base", base_ref()])

    rows = [line for line in report.splitlines() if line.startswith("| ") and not line.startswith("| checkout")]
    assert len(rows) == 2, report
    base, claims = ([cell.strip() for cell in row.strip("|").split("|")] for row in rows)
    for cells in (base, claims):
        assert len(cells) == 11 and all(cells), cells
        assert cells[2] == "40" and cells[10] == "yes", cells  # 40 items, each decided exactly once
    assert claims[0] == "this checkout (claims)"
    assert claims[9] == "none", claims  # nothing but 303s and 409s
