"""The docs say what the code does: every test docs/security.md cites as proof is defined in approvals/tests,
every test file named exists, and each load-bearing fact (the gunicorn workers, the notify payloads, what is
cached, the environment, the commands, the admin's tables) is read from the doc and from the code alike."""

import ast
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.management import get_commands

from approvals.decisions import approve_with_edits, decide, notify_payload, reopen, request_changes, undo
from approvals.models import Approval
from approvals.tests.doc_sources import (
    DOCS,
    README_MD,
    GunicornConfigFile,
    all_variables_read,
    cache_uses,
    code_spans,
    doc_texts,
    documented_caches,
    documented_payloads,
    documented_variables,
    makefile_targets,
    paragraphs,
    section,
    sql_tables,
    variables_read,
)
from approvals.tests.factories import make_pending_review

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


def module_named(name: str) -> Path | None:
    """The test module of that file name, wherever it sits in the suite's folders (names are unique)."""
    found = sorted(TESTS.rglob(name))
    return found[0] if found else None


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
        if module_named(file) is None or name not in defined_tests(module_named(file))
    ]
    assert len(cited) > 50  # the table is still there and still parsed
    assert missing == []


def test_every_test_file_named_in_the_docs_and_the_tests_exists():
    texts = [*ROOT.glob("docs/*.md"), ROOT / "README.md", *(p for p in TESTS.rglob("*.py") if p.name != "test_docs.py")]
    named = {
        (path.relative_to(ROOT).as_posix(), name)
        for path in texts
        for name in re.findall(r"\btest_\w+\.py\b", path.read_text())
    }
    assert named  # the docs do name test files
    assert sorted((where, name) for where, name in named if module_named(name) is None) == []


# --- Load-bearing facts: each test reads the doc and the code, and fails when either changes alone ---


# (a) The web server: what docs/deploy.md (and every doc naming workers × threads) says gunicorn runs.

GUNICORN_SETTINGS = {
    "WEB_CONCURRENCY": "workers",
    "GUNICORN_THREADS": "threads",
    "GUNICORN_TIMEOUT": "timeout",
    "GUNICORN_GRACEFUL_TIMEOUT": "graceful_timeout",
    "GUNICORN_KEEPALIVE": "keepalive",
    "GUNICORN_MAX_REQUESTS": "max_requests",
}


def gunicorn_config(monkeypatch, **environment: str):
    for name in [*GUNICORN_SETTINGS, "BIND", "PORT", "BEHIND_PROXY"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return GunicornConfigFile().cfg


def test_deploy_md_names_the_worker_class_gunicorn_runs(monkeypatch):
    stated = re.findall(r"gunicorn runs \*\*(\w+)\*\* workers", (DOCS / "deploy.md").read_text())
    assert stated == [gunicorn_config(monkeypatch).worker_class_str]


def test_the_web_servers_documented_defaults_are_gunicorns_and_each_variable_sets_its_value(monkeypatch):
    documented = documented_variables(DOCS / "deploy.md")
    defaults = gunicorn_config(monkeypatch)
    for variable, setting in GUNICORN_SETTINGS.items():
        assert (variable, documented[variable]) == (variable, [str(defaults.settings[setting].get())])
        assert gunicorn_config(monkeypatch, **{variable: "7"}).settings[setting].get() == 7, variable


def test_every_workers_times_threads_in_the_docs_is_the_configured_one(monkeypatch):
    config = gunicorn_config(monkeypatch)
    texts = [README_MD.read_text(), *(path.read_text() for path in DOCS.glob("*.md"))]
    stated = {pair for text in texts for pair in re.findall(r"(\d+) workers × (\d+) threads", text)}
    assert stated == {(str(config.workers), str(config.threads))}


def test_sync_workers_are_named_only_beside_the_worker_class_that_replaced_them(monkeypatch):
    worker_class = gunicorn_config(monkeypatch).worker_class_str
    assert worker_class != "sync"  # else this test guards nothing
    texts = {path.name: path.read_text() for path in [README_MD, *DOCS.glob("*.md")]}
    stale = [
        f"{name}: {block[:120]}"
        for name, text in texts.items()
        for block in paragraphs(text)
        if re.search(r"\bsync workers?\b", block) and worker_class not in block
    ]
    assert stale == []


# (b) The notify payload: docs/pipeline.md's payload tables against what each change of state sends.


def _post() -> Approval:
    return make_pending_review(metadata={"platform": "x"}, body_text="Launch day!")


def _approved():
    return decide(approval_id=_post().id, decision="approved", notes="", reasons=[], decided_by="ana")


def _approved_with_edits():
    return approve_with_edits(approval_id=_post().id, body="Launch day.", notes="", decided_by="ana")


# Each row of the payload tables, as the decision service makes it happen (the names the rows use).
CHANGES_OF_STATE = {
    "Approve": _approved,
    "Reject": lambda: decide(
        approval_id=_post().id, decision="rejected", notes="", reasons=["brand", "legal"], decided_by="ana"
    ),
    "Request changes": lambda: request_changes(
        approval_id=_post().id, notes="Shorter.", reasons=["tone", "length"], decided_by="ana"
    ),
    "Approve with edits": _approved_with_edits,
    "Reopen": lambda: reopen(approval_id=_approved().approval_id, reopened_by="lead"),
    "Undo": lambda: undo(approval_id=_approved().approval_id, undone_by="ana", window_seconds=30),
    "Undo of Approve with edits": lambda: undo(
        approval_id=_approved_with_edits().approval_id, undone_by="ana", window_seconds=30
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("change", CHANGES_OF_STATE)
def test_the_payload_documented_for_each_change_of_state_is_the_one_sent(change):
    documented = documented_payloads()[change]
    sent = json.loads(json.dumps(notify_payload(CHANGES_OF_STATE[change]()), default=str))

    assert sorted(re.findall(r'"(\w+)":', documented)) == sorted(sent)
    # Values written literally in the doc (a status, a decision, who): placeholders like D or "<new job>" aside.
    literal = dict(re.findall(r'"(\w+)": "([a-z_]+)"', documented))
    assert literal == {key: sent[key] for key in literal}


def test_the_payload_tables_have_a_row_for_each_change_of_state_and_no_other():
    assert list(documented_payloads()) == list(CHANGES_OF_STATE)


# (c) What is cached: docs/deploy.md's cache table against settings.CACHES and every cache use in approvals/.


def test_deploy_md_lists_the_caches_settings_configure():
    assert sorted(documented_caches()) == sorted(settings.CACHES)


def test_each_cache_holds_what_deploy_md_says_and_is_kept_where_it_says():
    documented = documented_caches()
    used = cache_uses()
    assert {alias: {"keys": doc["keys"], "files": doc["files"]} for alias, doc in documented.items()} == used


def test_each_caches_documented_size_is_its_configured_one():
    for alias, doc in documented_caches().items():
        # Django's local-memory cache keeps 300 entries unless OPTIONS say otherwise.
        assert (alias, doc["max_entries"]) == (alias, settings.CACHES[alias].get("OPTIONS", {}).get("MAX_ENTRIES", 300))


# (d) The environment: every variable settings.py or gunicorn.conf.py reads is documented, with its default.


def test_the_variable_reader_finds_each_way_of_reading(tmp_path):
    path = tmp_path / "sample.py"
    reads = ['env.int("A_B", 2)', 'env_number("C_D", 5, low=1)', 'os.environ.get("E_F")', 'os.environ["G_H"]']
    path.write_text("\n".join([*reads, 'print("X_Y")']))
    assert variables_read(path) == {"A_B": [2], "C_D": [5], "E_F": [None], "G_H": [None]}


def test_every_variable_the_settings_and_gunicorn_read_is_in_deploy_md_or_the_readme_and_only_those():
    documented = {**documented_variables(README_MD), **documented_variables(DOCS / "deploy.md")}
    assert sorted(documented) == sorted(all_variables_read())


def _as_documented(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return f"{value:g}" if isinstance(value, float) else str(value)


def test_each_documented_default_is_the_one_the_code_reads():
    compared = [
        (doc.name, name, _as_documented(default).lower(), [value.lower() for value in documented[name]])
        for doc in (README_MD, DOCS / "deploy.md", DOCS / "live-updates.md")
        for documented in [documented_variables(doc)]
        for name, defaults in all_variables_read().items()
        for default in defaults
        if default not in (None, "") and name in documented
    ]
    assert len(compared) > 20  # the tables are still there and still parsed
    assert [row for row in compared if row[2] not in row[3]] == []


# (e) Commands and the ops console: what the README and the docs tell a newcomer to type, and what /admin/ shows.


def test_every_make_target_the_docs_name_is_in_the_makefile():
    named = {
        (doc, target)
        for doc, text in doc_texts().items()
        for span in code_spans(text)
        for target in re.findall(r"(?:^|\s)make ([a-z][\w-]*)", span)
    }
    assert {target for _, target in named} >= {"run", "test", "test-fast", "stop", "demo-reset", "screenshots"}
    assert sorted((doc, target) for doc, target in named if target not in makefile_targets()) == []


def test_every_management_command_the_docs_name_exists():
    named = {
        (doc, command)
        for doc, text in doc_texts().items()
        for span in code_spans(text)
        for command in re.findall(r"manage\.py ([a-z_]+)", span)
    }
    assert len(named) > 10
    assert sorted((doc, command) for doc, command in named if command not in get_commands()) == []


# A path in the repository, not a URL (`/approvals/next/`) or a placeholder; `path.py::name` names a definition.
_REPOSITORY_PATH = re.compile(r"(?<![/\w<])((?:approvals|bench|flowsite|migrations_sql)/[\w./-]*[\w/])(?:::(\w+))?")


def test_every_path_and_definition_the_readme_and_docs_name_exists():
    # docs/apply-sql.md is the migration runner's own reference and is revised with approvals/sql_runner/.
    texts = {name: text for name, text in doc_texts().items() if name != "apply-sql.md"}
    named = {(doc, path, name) for doc, text in texts.items() for path, name in _REPOSITORY_PATH.findall(text)}
    assert len(named) > 40
    missing = [
        (doc, path, name)
        for doc, path, name in sorted(named)
        if not (ROOT / path).exists()
        or (name and not re.search(rf"^\s*(def|class) {name}\b|^{name} =", (ROOT / path).read_text(), re.M))
    ]
    assert missing == []


MAKE_RUN_STEPS = ("dev_banner --check", "seed_demo", "runserver")


def test_the_readme_says_what_make_run_has_done_when_the_port_is_taken():
    prerequisites, recipe = makefile_targets()["run"]
    steps = [next((i for i, line in enumerate(recipe) if marker in line), None) for marker in MAKE_RUN_STEPS]
    assert steps == sorted(steps) and None not in steps  # the port check, then the demo data, then the server
    [sentence] = re.findall(r"If the\s+port is taken.*?\.(?:\s|$)", README_MD.read_text(), re.DOTALL)
    assert "before loading demo data or serving" in sentence
    assert ("`make db` has run" in sentence) == ("db" in prerequisites)


def test_the_readme_says_which_tables_the_admin_shows_and_which_it_leaves_out():
    ops_console = section(README_MD.read_text(), "## Ops console")
    shown = {model._meta.db_table: model for model in admin.site._registry if model._meta.app_label == "approvals"}
    [left_out_sentence] = re.findall(r"Not in the admin:.*?\.(?:\s|$)", ops_console, re.DOTALL)
    left_out = set(code_spans(left_out_sentence)) & sql_tables()
    assert shown.keys() & left_out == set()
    assert shown.keys() | left_out == sql_tables()
    named = [str(model._meta.verbose_name_plural) for model in shown.values()]
    assert [name for name in named if name not in " ".join(ops_console.split())] == []


def test_the_team_review_durations_in_the_readme_are_the_settings_defaults():
    units = {"s": 1, "minutes": 60}
    stated = re.findall(r"(\d+) (s|minutes) \(`([A-Z_]+)`\)", " ".join(README_MD.read_text().split()))
    defaults = all_variables_read()
    assert {name for _, _, name in stated} == {"REVIEW_CLAIM_SECONDS", "LIVE_POLL_SECONDS", "UNDO_SECONDS"}
    assert [(name, int(number) * units[unit]) for number, unit, name in stated] == [
        (name, defaults[name][0]) for _, _, name in stated
    ]
