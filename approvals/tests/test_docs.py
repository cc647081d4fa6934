"""The docs name real tests: every test docs/security.md cites as proof is defined in approvals/tests,
and every test file named in the docs or in the tests themselves exists."""

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parents[1]
SECURITY_MD = ROOT / "docs" / "security.md"

# `test_file.py::test_name`, or `::test_name` for another test of the file named last before it.
_CITATION = re.compile(r"`(?P<file>test_\w+\.py)?::(?P<test>test_\w+)`")


def cited_tests(markdown: str) -> list[tuple[str, str]]:
    cited, current = [], None
    for line in markdown.splitlines():
        for match in _CITATION.finditer(line):
            current = match["file"] or current
            assert current, f"{match[0]} follows no test file on its line: {line[:80]}"
            cited.append((current, match["test"]))
        current = None  # a `::name` never reaches back into another row
    return cited


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test")}


def test_the_citation_parser_reads_files_and_continuations():
    row = "| a | b | `test_x.py::test_one`, `::test_two`, `test_y.py::test_three` |"
    assert cited_tests(row) == [("test_x.py", "test_one"), ("test_x.py", "test_two"), ("test_y.py", "test_three")]


def test_every_test_named_in_security_md_exists():
    cited = cited_tests(SECURITY_MD.read_text())
    missing = [
        f"{file}::{name}"
        for file, name in cited
        if not (TESTS / file).exists() or name not in defined_tests(TESTS / file)
    ]
    assert len(cited) > 50  # the table is still there and still parsed
    assert missing == []


def test_every_test_file_named_in_the_docs_and_the_tests_exists():
    texts = [*ROOT.glob("docs/*.md"), ROOT / "README.md", *(p for p in TESTS.glob("*.py") if p.name != "test_docs.py")]
    named = {
        (path.relative_to(ROOT).as_posix(), name)
        for path in texts
        for name in re.findall(r"\btest_\w+\.py\b", path.read_text())
    }
    assert named  # the docs do name test files
    assert sorted((where, name) for where, name in named if not (TESTS / name).exists()) == []
