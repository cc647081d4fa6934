"""What the docs and the code say, read for test_docs.py: Markdown tables and sections, gunicorn.conf.py as
gunicorn loads it, the environment variables the settings read, the caches the app uses, the Makefile."""

import ast
import re
from pathlib import Path

from gunicorn.app.base import Application

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README_MD = ROOT / "README.md"
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]+$")


def tables(markdown: str) -> list[list[list[str]]]:
    """Every table of a Markdown text as rows of stripped cells, the header row first, the |---| row left out."""
    found, rows = [], []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            if not set(line) <= set("|-: "):
                rows.append(cells)
        elif rows:
            found.append(rows)
            rows = []
    return found


def section(markdown: str, heading: str) -> str:
    """From the heading (`## Name`) up to the next heading of the same or a higher level."""
    level = heading.split(" ")[0]
    start = markdown.index(f"\n{heading}\n")
    following = re.compile(rf"^#{{1,{len(level)}}} ", re.MULTILINE).search(markdown, start + len(heading) + 2)
    return markdown[start : following.start() if following else len(markdown)]


def code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


class GunicornConfigFile(Application):
    """gunicorn.conf.py read by gunicorn's own loader, as `gunicorn -c gunicorn.conf.py` reads it; no app."""

    def load_config(self):
        self.load_config_from_module_name_or_filename(str(ROOT / "gunicorn.conf.py"))

    def load(self):
        raise AssertionError("only the configuration is read")


def documented_variables(path: Path) -> dict[str, list[str]]:
    """The `variable | default | what` tables of a doc: each variable named in a first cell, with the values
    its default cell gives (its own, when a row names several and gives one each: "`30`, `30`, `5`")."""
    documented = {}
    for table in tables(path.read_text()):
        if table[0][0] != "variable":
            continue
        for row in table[1:]:
            names = [name for name in code_spans(row[0]) if ENV_NAME.match(name)]
            values = code_spans(row[1])
            for index, name in enumerate(names):
                documented[name] = [values[index]] if len(names) > 1 and len(values) == len(names) else values
    return documented


def paragraphs(text: str) -> list[str]:
    """Blocks between blank lines; each table row is a block of its own."""
    blocks = []
    for block in re.split(r"\n\s*\n", text):
        blocks.extend(block.splitlines() if block.startswith("|") else [block])
    return blocks


def documented_payloads() -> dict[str, str]:
    """Row name → the payload written in docs/pipeline.md's "The notify payload" tables."""
    payload_section = section((DOCS / "pipeline.md").read_text(), "## The notify payload")
    return {
        row[0]: row[1].strip("`") for table in tables(payload_section) if table[0][1] == "payload" for row in table[1:]
    }


APP = ROOT / "approvals"


_FRAGMENT_TAG = re.compile(r"{%\s*cache\s+(?!%})\S+\s+([\w-]+)")


_NAMED_CACHE_CALL = re.compile(r"""caches\[["'](\w+)["']\]\.\w+\(\s*["']([^"']+)["']""")


_DEFAULT_CACHE_KEY = re.compile(r"""["']([\w-]+:[\w:-]*)["']""")


def cache_uses() -> dict[str, dict[str, set[str]]]:
    """cache alias → {"keys": the fragment names and keys it is given, "files": where}, from the app's code."""
    uses: dict[str, dict[str, set[str]]] = {}

    def use(alias: str, key: str, path: Path) -> None:
        entry = uses.setdefault(alias, {"keys": set(), "files": set()})
        entry["keys"].add(key)
        entry["files"].add(path.relative_to(ROOT).as_posix())

    for path in sorted(APP.rglob("*")):
        if "tests" in path.relative_to(APP).parts or path.suffix not in {".py", ".html", ".txt"}:
            continue
        text = path.read_text()
        # Django's {% cache %} tag uses the cache "template_fragments" when there is one.
        for name in _FRAGMENT_TAG.findall(text) if path.suffix == ".html" else []:
            use("template_fragments", name, path)
        for alias, key in _NAMED_CACHE_CALL.findall(text):
            use(alias, key, path)
        if re.search(r"^from django\.core\.cache import .*\bcache\b", text, re.MULTILINE):
            for key in _DEFAULT_CACHE_KEY.findall(text):
                use("default", key, path)
    return uses


def documented_caches() -> dict[str, dict]:
    [table] = [table for table in tables((DOCS / "deploy.md").read_text()) if table[0][0] == "cache"]
    return {
        row[0].strip("`"): {
            "keys": set(code_spans(row[1])),
            "files": set(code_spans(row[2])),
            "max_entries": int(re.search(r"at most ([\d,]+) entries", row[1])[1].replace(",", "")),
        }
        for row in table[1:]
    }


# How the two files read a variable: environs' env.<type>(NAME, default), the settings' own range and
# required helpers, S3's required()/seconds(), and os.environ.get(NAME, default) or os.environ[NAME].
_READERS = {"env_number", "env_required", "required", "seconds", "get"}


def variables_read(path: Path) -> dict[str, list]:
    """Variable name → the literal default of each place that reads it (None where there is none)."""
    read: dict[str, list] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            name, default = node.slice, None
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            by_env = isinstance(func, ast.Attribute) and ast.unparse(func.value) == "env"
            reader = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if not (by_env or reader in _READERS):
                continue
            name = node.args[0]
            default = node.args[1] if len(node.args) > 1 else None
        else:
            continue
        if isinstance(name, ast.Constant) and isinstance(name.value, str) and ENV_NAME.match(name.value):
            literal = default.value if isinstance(default, ast.Constant) else None
            read.setdefault(name.value, []).append(literal)
    return read


def all_variables_read() -> dict[str, list]:
    read: dict[str, list] = {}
    for path in (ROOT / "flowsite" / "settings.py", ROOT / "gunicorn.conf.py"):
        for name, defaults in variables_read(path).items():
            read.setdefault(name, []).extend(defaults)
    return read


def doc_texts() -> dict[str, str]:
    return {path.name: path.read_text() for path in [README_MD, *sorted(DOCS.glob("*.md"))]}


def makefile_targets() -> dict[str, tuple[list[str], list[str]]]:
    """Target → (its prerequisites, its recipe lines), from the Makefile."""
    targets, current = {}, None
    for line in (ROOT / "Makefile").read_text().splitlines():
        rule = re.match(r"^([\w-]+):(?!=)\s*([^|]*)", line)
        if rule:
            current = rule[1]
            targets[current] = (rule[2].split(), [])
        elif line.startswith("\t") and current:
            targets[current][1].append(line.strip())
        elif not line.startswith("\t"):
            current = None
    return targets


def sql_tables() -> set[str]:
    return {
        name
        for path in (ROOT / "migrations_sql").glob("[0-9][0-9][0-9]_*.sql")
        for name in re.findall(r"create table if not exists public\.(\w+)", path.read_text())
    }
