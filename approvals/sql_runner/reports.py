"""What apply_sql tells the deployer: errors in a compiler's format, server notices, status, diffs."""

import difflib
import re
from collections.abc import Callable
from datetime import datetime

import psycopg

from approvals.sql_runner.files import MigrationFile, normalized_text

DO_BLOCK_LINE = re.compile(r"inline_code_block line (\d+)")
DOLLAR_QUOTE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
RERUN_NOISE = re.compile(r", skipping$|is already a member of role|has already been granted membership in role")


def do_block_offset(migration: MigrationFile, statement_start: int, error: psycopg.Error) -> int | None:
    """Where in the file an error raised inside a DO block happened, from its CONTEXT line number."""
    match = DO_BLOCK_LINE.search(error.diag.context or "")
    if match is None:
        return None
    opener = DOLLAR_QUOTE.search(migration.sql, statement_start)
    if opener is None:
        return None
    # PL/pgSQL counts the text right after the opening $$ as line 1.
    offset = opener.end()
    for _ in range(int(match.group(1)) - 1):
        offset = migration.sql.find("\n", offset) + 1
        if offset == 0:
            return None
    line_end = migration.sql.find("\n", offset)
    line = migration.sql[offset : line_end if line_end != -1 else None]
    query = (error.diag.internal_query or "").strip()[:40]
    column = line.find(query) if query else -1
    return offset + (column if column >= 0 else len(line) - len(line.lstrip()))


def quoted_name_offset(statement_start: int, statement_text: str, error: psycopg.Error) -> int | None:
    """Where a statement mentions the object an error names, e.g. the table of 'relation "x" does not exist'.

    For errors found while executing rather than parsing (a foreign key to a
    missing table), which come without a position.
    """
    lowered = statement_text.lower()
    for name in re.findall(r'"([^"]+)"', error.diag.message_primary or ""):
        for candidate in (name, name.rsplit(".", 1)[-1]):
            found = lowered.find(candidate.lower())
            if found >= 0:
                return statement_start + found
    return None


def format_sql_error(*, label: str, migration: MigrationFile, error: psycopg.Error, offset: int | None) -> str:
    """`file:line:col: ERROR 42P01 message`, the line with a caret, then DETAIL/HINT/CONTEXT."""
    diag = error.diag
    severity = diag.severity_nonlocalized or diag.severity or "ERROR"
    message = diag.message_primary or str(error).strip()
    sqlstate = f" {error.sqlstate}" if error.sqlstate else ""
    lines = []
    if offset is None:
        lines.append(f"{label}: {severity}{sqlstate} {message}")
    else:
        line_no, col = migration.line_col(offset)
        lines.append(f"{label}:{line_no}:{col}: {severity}{sqlstate} {message}")
        source = migration.sql.split("\n")[line_no - 1].rstrip("\r")
        gutter = f"{line_no:>5} | "
        # Keep tabs in the padding so the caret lines up under the same character.
        pad = "".join(ch if ch == "\t" else " " for ch in source[: col - 1])
        lines += [gutter + source, " " * (len(gutter) - 2) + "| " + pad + "^"]
    for name, value in (("DETAIL", diag.message_detail), ("HINT", diag.message_hint), ("CONTEXT", diag.context)):
        if value:
            lines.append(f"{name}: {value.strip()}")
    return "\n".join(lines)


def checksum_diff(*, label: str, applied_text: str, current_text: str) -> str:
    diff = difflib.unified_diff(
        normalized_text(applied_text).splitlines(),
        normalized_text(current_text).splitlines(),
        fromfile=f"{label} (as applied)",
        tofile=f"{label} (now)",
        lineterm="",
    )
    return "\n".join(diff)


class NoticePrinter:
    """Prints the server's NOTICE and WARNING messages as they arrive (psycopg would drop them).

    "... already exists, skipping", "... does not exist, skipping" and the
    shim's "already a member" are what idempotent DDL says on every run:
    noise, not news.
    """

    def __init__(self, *, out: Callable[[str], None], err: Callable[[str], None]):
        self.out = out
        self.err = err
        self.before_each: Callable[[], None] = lambda: None

    def __call__(self, diag: psycopg.errors.Diagnostic) -> None:
        message = (diag.message_primary or "").strip()
        if RERUN_NOISE.search(message):
            return
        severity = diag.severity_nonlocalized or diag.severity or "NOTICE"
        lines = [f"  {severity}: {message}"]
        for name, value in (("DETAIL", diag.message_detail), ("HINT", diag.message_hint)):
            if value:
                lines.append(f"  {name}: {value.strip()}")
        self.before_each()
        (self.err if severity == "WARNING" else self.out)("\n".join(lines))


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if moment else ""


def status_table(rows: list[tuple[str, ...]]) -> str:
    header = ("version", "file", "state", "applied on", "by", "took")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )
