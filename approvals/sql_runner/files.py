"""The files in migrations_sql/: discovery, checksums, and what can be checked without running them.

Files are never split to be run: the server parses each file whole. The
lexical scan here only reads them, to refuse what must not run in a
transaction, to point at a failing statement, and to list the objects a file
creates (for --baseline).
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = re.compile(r"^(?P<version>\d+)_(?P<slug>[A-Za-z0-9_]+)\.sql$")
NO_TRANSACTION_MARKER = "-- apply_sql: no-transaction"
# In a file's leading comments: the earlier files this one applies in their place
# (docs/apply-sql.md, "Files that replace earlier ones"), e.g. `-- apply_sql: replaces 009`.
REPLACES_DIRECTIVE = re.compile(r"^--\s*apply_sql:\s*replaces\s+(?P<versions>\d+(?:[\s,]+\d+)*)\s*$", re.I)

# Statements that manage the transaction themselves: apply_sql owns it.
TRANSACTION_CONTROL = re.compile(
    r"^(begin|commit|rollback|end|abort|savepoint|release|start\s+transaction|prepare\s+transaction)\b"
)
# Statements PostgreSQL refuses inside a transaction block.
NEEDS_NO_TRANSACTION = re.compile(
    r"\bconcurrently\b|^(vacuum|create\s+database|drop\s+database|alter\s+system|create\s+tablespace|drop\s+tablespace)\b"
)
IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
QUALIFIED = rf"(?:(?P<schema>{IDENT})\s*\.\s*)?(?P<name>{IDENT})"
CREATE_TABLE = re.compile(rf"^create\s+(?:unlogged\s+)?table\s+(?:if\s+not\s+exists\s+)?{QUALIFIED}\s*\(", re.I)
ADD_COLUMN = re.compile(
    rf"^alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?{QUALIFIED}\s+add\s+(?:column\s+)?(?:if\s+not\s+exists\s+)?"
    rf"(?P<column>{IDENT})",
    re.I,
)
CREATE_INDEX = re.compile(
    rf"^create\s+(?:unique\s+)?index\s+(?:concurrently\s+)?(?:if\s+not\s+exists\s+)?(?P<index>{IDENT})\s+"
    rf"on\s+(?:only\s+)?{QUALIFIED}",
    re.I,
)
CREATE_FUNCTION = re.compile(rf"^create\s+(?:or\s+replace\s+)?function\s+{QUALIFIED}\s*\(", re.I)
CREATE_TRIGGER = re.compile(
    rf"^create\s+(?:or\s+replace\s+)?(?:constraint\s+)?trigger\s+(?P<trigger>{IDENT})\s.*?\bon\s+{QUALIFIED}",
    re.I | re.S,
)
INSERT_BUCKET = re.compile(r"^insert\s+into\s+storage\s*\.\s*buckets\b.*?\bvalues\s*\(\s*'", re.I | re.S)
NOT_A_COLUMN = {"constraint", "primary", "unique", "check", "foreign", "exclude", "like"}


def normalized_text(text: str) -> str:
    """Text as compared for checksums: no BOM, LF endings, no trailing blanks."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).rstrip("\n") + "\n"


def checksum(text: str) -> str:
    return hashlib.sha256(normalized_text(text).encode()).hexdigest()


def version_key(version: str) -> int:
    return int(version)


@dataclass(frozen=True)
class Statement:
    start: int  # offset of its first character in the file's SQL
    code: str  # the statement with comments and literals blanked out, same length
    text: str  # the statement as written

    @property
    def head(self) -> str:
        """Its first words, lowercased, for keyword matching."""
        return " ".join(self.code.split()[:4]).lower()


@dataclass(frozen=True)
class MigrationFile:
    version: str
    name: str
    path: Path
    text: str

    @property
    def sql(self) -> str:
        """What is sent to the server (a BOM would be a syntax error there)."""
        return self.text.removeprefix("\ufeff")

    @property
    def checksum(self) -> str:
        return checksum(self.text)

    @property
    def in_transaction(self) -> bool:
        first_line = normalized_text(self.text).split("\n", 1)[0].strip().lower()
        return first_line != NO_TRANSACTION_MARKER

    @property
    def concurrently(self) -> bool:
        """A no-transaction file whose statement is CONCURRENTLY (an index built or dropped without blocking)."""
        return not self.in_transaction and bool(re.search(r"\bconcurrently\b", mask_sql(self.sql), re.I))

    @property
    def replaces(self) -> tuple[str, ...]:
        """Versions this file stands in for where they are still pending, from its leading comment lines."""
        versions: list[str] = []
        for line in normalized_text(self.text).split("\n"):
            line = line.strip()
            if line and not line.startswith("--"):
                break
            if match := REPLACES_DIRECTIVE.match(line):
                versions += re.split(r"[\s,]+", match["versions"])
        return tuple(versions)

    def statements(self) -> list[Statement]:
        return split_statements(self.sql)

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset in sql."""
        before = self.sql[:offset]
        line = before.count("\n") + 1
        return line, offset - (before.rfind("\n") + 1) + 1


def discover(directory: Path) -> list[MigrationFile]:
    files = []
    for path in Path(directory).glob("*.sql"):
        match = FILE_NAME.match(path.name)
        if match:
            text = path.read_bytes().decode("utf-8")
            files.append(MigrationFile(version=match["version"], name=path.name, path=path, text=text))
    return sorted(files, key=lambda f: (version_key(f.version), f.name))


def mask_sql(sql: str) -> str:
    """sql with comments and the insides of literals and dollar-quoted bodies blanked.

    Same length and same line breaks as the input, so offsets and line numbers
    found in the mask hold for the original text.
    """
    out = list(sql)
    i, n = 0, len(sql)

    def blank(start: int, end: int) -> None:
        for k in range(start, end):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = sql[i]
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end == -1 else end
            blank(i, end)
            i = end
        elif sql.startswith("/*", i):
            end = _block_comment_end(sql, i)
            blank(i, end)
            i = end
        elif c == "'":
            close = _string_literal_close(sql, i)
            blank(i + 1, min(close, n))
            i = close + 1
        elif c == '"':
            j = i + 1
            while j < n and not (sql[j] == '"' and not sql.startswith('""', j)):
                j += 2 if sql.startswith('""', j) else 1
            i = j + 1
        elif c == "$" and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] in "_$")):
            match = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", sql[i:])
            if match is None:
                i += 1
                continue
            tag = match.group(0)
            close = sql.find(tag, i + len(tag))
            close = n if close == -1 else close
            blank(i + len(tag), close)
            i = close + len(tag)
        else:
            i += 1
    return "".join(out)


def _block_comment_end(sql: str, start: int) -> int:
    """Where the /* comment opening at start ends (they nest in PostgreSQL), or the end of the text."""
    depth, j, n = 1, start + 2, len(sql)
    while j < n and depth:
        if sql.startswith("/*", j):
            depth, j = depth + 1, j + 2
        elif sql.startswith("*/", j):
            depth, j = depth - 1, j + 2
        else:
            j += 1
    return j


def _string_literal_close(sql: str, start: int) -> int:
    """The index of the quote closing the literal opening at start ('' inside, and E'' escapes, skipped)."""
    escapes = (
        start > 0 and sql[start - 1] in "eE" and (start < 2 or not (sql[start - 2].isalnum() or sql[start - 2] == "_"))
    )
    j, n = start + 1, len(sql)
    while j < n:
        if escapes and sql[j] == "\\":
            j += 2
        elif sql[j] == "'":
            if not sql.startswith("''", j):
                return j
            j += 2
        else:
            j += 1
    return j


def split_statements(sql: str) -> list[Statement]:
    """The statements of a file, for reading only (the server runs the file whole)."""
    code = mask_sql(sql)
    statements, start = [], 0
    for end in [m.start() for m in re.finditer(";", code)] + [len(code)]:
        chunk = code[start:end]
        if chunk.strip():
            lead = len(chunk) - len(chunk.lstrip())
            statements.append(
                Statement(start=start + lead, code=chunk[lead:].rstrip(), text=sql[start + lead : end].rstrip())
            )
        start = end + 1
    return statements


def transaction_problems(migration: MigrationFile) -> list[str]:
    """Why a file cannot be run as marked; empty when it can. Checked before anything runs."""
    problems = []
    statements = migration.statements()
    for statement in statements:
        line, _ = migration.line_col(statement.start)
        first = statement.head.split(" ")[0].upper()
        if TRANSACTION_CONTROL.match(statement.head):
            problems.append(
                f"line {line}: {first} — a file must not manage its own transaction: apply_sql runs each file in "
                f"one transaction with its ledger row. Remove it."
            )
        elif migration.in_transaction and NEEDS_NO_TRANSACTION.search(" ".join(statement.code.split()).lower()):
            problems.append(
                f"line {line}: this statement cannot run inside a transaction. Put it alone in a file whose "
                f"first line is `{NO_TRANSACTION_MARKER}`."
            )
    if not migration.in_transaction and len(statements) > 1:
        problems.append(
            f"holds {len(statements)} statements but is marked `{NO_TRANSACTION_MARKER}`: such a file holds "
            f"exactly one statement, so a failure cannot leave it half done."
        )
    return problems


def unquote(identifier: str) -> str:
    if identifier.startswith('"'):
        return identifier[1:-1].replace('""', '"')
    return identifier.lower()


def _qualified(match: re.Match) -> tuple[str, str]:
    schema = unquote(match["schema"]) if match["schema"] else "public"
    return schema, unquote(match["name"])


def _table_columns(statement: Statement, open_paren: int) -> list[str]:
    """Column names in a CREATE TABLE body: the first word of each top-level element."""
    depth, start, elements = 0, open_paren + 1, []
    for k in range(open_paren, len(statement.code)):
        c = statement.code[k]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                elements.append((start, k))
                break
        elif c == "," and depth == 1:
            elements.append((start, k))
            start = k + 1
    columns = []
    for begin, end in elements:
        match = re.match(rf"\s*({IDENT})", statement.text[begin:end])
        if match and match.group(1).lower() not in NOT_A_COLUMN:
            columns.append(unquote(match.group(1)))
    return columns


@dataclass
class FileObjects:
    """What a file creates, as far as reading it tells: checked by --baseline."""

    tables: dict[tuple[str, str], list[str]]
    indexes: list[tuple[str, str]]
    functions: list[tuple[str, str]]
    triggers: list[tuple[str, str, str]]
    buckets: list[str]

    def __bool__(self) -> bool:
        return any([self.tables, self.indexes, self.functions, self.triggers, self.buckets])


def objects_created(migration: MigrationFile) -> FileObjects:
    found = FileObjects(tables={}, indexes=[], functions=[], triggers=[], buckets=[])
    for statement in migration.statements():
        # Match on the masked code so literals and comments cannot fake a statement.
        code = statement.code
        if match := CREATE_TABLE.match(code):
            found.tables.setdefault(_qualified(match), []).extend(_table_columns(statement, match.end() - 1))
        elif match := ADD_COLUMN.match(code):
            column = match["column"].lower()
            if column not in NOT_A_COLUMN:
                found.tables.setdefault(_qualified(match), []).append(unquote(match["column"]))
        elif match := CREATE_INDEX.match(code):
            found.indexes.append((_qualified(match)[0], unquote(match["index"])))
        elif match := CREATE_FUNCTION.match(code):
            found.functions.append(_qualified(match))
        elif match := CREATE_TRIGGER.match(code):
            found.triggers.append((*_qualified(match), unquote(match["trigger"])))
        elif match := INSERT_BUCKET.match(code):
            literal_start = match.end()
            found.buckets.append(statement.text[literal_start : statement.text.index("'", literal_start)])
    return found
