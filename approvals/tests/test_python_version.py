"""The Python version the project claims is the one its code needs and CI runs (3.11: datetime.UTC, tomllib)."""

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLAIMED = (3, 11)


def test_pyproject_requires_the_version_the_code_needs():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())

    assert pyproject["project"]["requires-python"] == ">=3.11"
    assert pyproject["tool"]["ruff"]["target-version"] == "py311"


def test_the_makefile_and_readme_claim_the_same_version():
    makefile = (ROOT / "Makefile").read_text()
    readme = (ROOT / "README.md").read_text()

    assert "sys.version_info < (3, 11)" in makefile
    assert not re.search(r"3\.10\+|3, 10\)", makefile + readme)
    assert "Python 3.11+" in readme


def test_this_run_is_on_a_version_the_project_claims():
    assert sys.version_info[:2] >= CLAIMED
