"""How an artifact is shown on the review page: one template and its context per kind.

File artifacts are shown by what their stored bytes are (approvals.files.media), not
by their declared type or name. Players and frames point at the file view,
which serves only a safe list inline. A missing object, an invalid key or a
storage outage each become a notice in the page, never an error page.
"""

import codecs
import csv
import io
import json
import time
from dataclasses import dataclass, field

import nh3
from django.urls import reverse
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

from approvals.files import media
from approvals.files.storage import InvalidStoragePath, ObjectMissing, StorageUnavailable, artifact_storage
from approvals.json_values import json_text
from approvals.models import Artifact, ArtifactKind

TEXT_PREVIEW_LIMIT = 256 * 1024
CSV_PREVIEW_ROWS = 50
CSV_PREVIEW_COLUMNS = 30
CSV_CELL_LIMIT = 300
CSV_DELIMITER_SAMPLE = 4096

# Rendered markdown keeps structure and links; no images (a tag like
# <img src="/some/app/url"> would make the reviewer's browser send requests).
MARKDOWN_TAGS = nh3.ALLOWED_TAGS - {"img", "map", "area"}
_markdown = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
# Laying out Markdown is pure Python and superlinear on some inputs (256 KB of
# `![` took 21 s). Past this much source, or this much time, the file is shown
# as text instead: a review page stays fast whatever the file holds.
MARKDOWN_RENDER_LIMIT = 64 * 1024
MARKDOWN_RENDER_SECONDS = 0.12


class MarkdownTooCostly(Exception):
    """Laying out this Markdown would take longer than a page may."""


def _check_deadline(state, *args) -> bool:
    """A rule that matches nothing: run before the others, it stops the parse once its time is up."""
    if time.perf_counter() > state.env["deadline"]:
        raise MarkdownTooCostly
    return False


_markdown.block.ruler.before("table", "deadline", _check_deadline)
_markdown.inline.ruler.before("text", "deadline", _check_deadline)

# Declared types that name the same thing as what the bytes say.
_SAME_TYPE = {
    ("image/jpg", "image/jpeg"),
    ("image/png", "image/apng"),
    ("audio/wav", "audio/x-wav"),
    ("audio/flac", "audio/x-flac"),
    ("application/x-pdf", "application/pdf"),
}


@dataclass(frozen=True)
class ArtifactPreview:
    template_name: str
    context: dict = field(default_factory=dict)


def preview_for(artifact: Artifact, *, formatted: tuple[str, bool] | None = None) -> ArtifactPreview:
    """The preview of one artifact; `formatted` is json_text() of its JSON body, when already done."""
    if artifact.kind == ArtifactKind.TEXT:
        return _text_preview(artifact.body_text or "")
    if artifact.kind == ArtifactKind.JSON:
        return _json_preview(artifact.body_json, formatted=formatted)
    return _file_preview(artifact)


def _text_preview(text: str) -> ArtifactPreview:
    return ArtifactPreview(
        "approvals/previews/text.html", _text_context(text, truncated=len(text) > TEXT_PREVIEW_LIMIT)
    )


def _text_context(text: str, *, truncated: bool) -> dict:
    shown = text[:TEXT_PREVIEW_LIMIT]
    return {
        "text": shown,
        "truncated": truncated or len(text) > TEXT_PREVIEW_LIMIT,
        "characters": len(text),
        "words": len(text.split()),
    }


def _json_preview(value, *, formatted: tuple[str, bool] | None = None) -> ArtifactPreview:
    return ArtifactPreview("approvals/previews/json.html", _json_context(value, formatted=formatted))


def _json_context(value, *, formatted: tuple[str, bool] | None = None) -> dict:
    pretty, indented = formatted or json_text(value)
    lines = pretty.count("\n") + 1
    json_type = type(value).__name__ if indented else {"[": "list", "{": "dict"}.get(pretty[:1], "value")
    context = {"json_type": json_type, "lines": lines, "too_deep": not indented}
    if len(pretty) <= TEXT_PREVIEW_LIMIT:
        return context | {"pretty": pretty}
    # A page holding megabytes of JSON is slow to send and to scroll. Cut at a
    # line end, unless the value is one huge line (a long string).
    shown = pretty[:TEXT_PREVIEW_LIMIT]
    line_end = shown.rfind("\n")
    if line_end > TEXT_PREVIEW_LIMIT // 2:
        shown = shown[:line_end]
    return context | {
        "pretty": shown,
        "shown_lines": shown.count("\n") + 1,
        "shown_characters": len(shown),
        "characters": len(pretty),
    }


def _file_preview(artifact: Artifact) -> ArtifactPreview:
    file_url = reverse("artifact-file", args=[artifact.id])
    context = {
        "name": artifact.name,
        "storage_path": artifact.storage_path,
        "declared_type": artifact.mime_type,
        "file_url": file_url,
        "download_url": f"{file_url}?download=1",
    }
    storage = artifact_storage()
    try:
        stored, head = storage.read_head(artifact.storage_path, media.SNIFF_BYTES)
        found = media.stored_media(stored, declared=artifact.mime_type, name=artifact.name, head=head)
        context |= {
            "media_type": found.mime,
            "family": found.family,
            "size_bytes": stored.size,
            "openable": found.served_as()[1],
            "type_differs": _type_differs(artifact.mime_type, found),
        }
        if found.family in {media.IMAGE, media.VIDEO, media.AUDIO, media.PDF}:
            return ArtifactPreview(f"approvals/previews/file_{found.family}.html", context)
        if not found.is_text:
            return ArtifactPreview("approvals/previews/file.html", context)
        if stored.size > len(head):
            _, head = storage.read_head(artifact.storage_path, TEXT_PREVIEW_LIMIT)
    except InvalidStoragePath as error:
        return _problem(context, "invalid", str(error))
    except ObjectMissing:
        return _problem(context, "missing", "")
    except StorageUnavailable as error:
        return _problem(context, "unavailable", str(error))
    truncated = stored.size > len(head)
    return _text_file_preview(found, _decode(head, complete=not truncated), truncated=truncated, context=context)


def _text_file_preview(found: media.MediaType, text: str, *, truncated: bool, context: dict) -> ArtifactPreview:
    context = context | _text_context(text, truncated=truncated)
    if found.family == media.MARKDOWN:
        try:
            return ArtifactPreview("approvals/previews/file_markdown.html", context | {"html": render_markdown(text)})
        except MarkdownTooCostly:
            notice = "This Markdown would take too long to lay out: shown as text."
            return ArtifactPreview("approvals/previews/file_text.html", context | {"text_notice": notice})
    if found.family == media.CSV:
        return ArtifactPreview("approvals/previews/file_csv.html", context | _csv_context(text, truncated=truncated))
    if found.family == media.JSON:
        if truncated:
            notice = "Too large to format: showing the first 256 KB as text."
            return ArtifactPreview("approvals/previews/file_text.html", context | {"text_notice": notice})
        try:
            value = json.loads(text)
        except ValueError as error:
            notice = f"Not valid JSON ({error}): shown as text."
            return ArtifactPreview("approvals/previews/file_text.html", context | {"text_notice": notice})
        return ArtifactPreview("approvals/previews/file_json.html", context | _json_context(value))
    if found.family in {media.HTML, media.SVG, media.XML}:
        return ArtifactPreview("approvals/previews/file_source.html", context)
    return ArtifactPreview("approvals/previews/file_text.html", context)


def render_markdown(text: str) -> str:
    """Markdown to HTML, then sanitised: raw HTML in the source is allowed through the parser, nh3 decides.

    Raises MarkdownTooCostly past MARKDOWN_RENDER_LIMIT characters or MARKDOWN_RENDER_SECONDS.
    """
    if len(text) > MARKDOWN_RENDER_LIMIT:
        raise MarkdownTooCostly
    rendered = _markdown.render(text, {"deadline": time.perf_counter() + MARKDOWN_RENDER_SECONDS})
    cleaned = nh3.clean(
        rendered,
        tags=MARKDOWN_TAGS,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 output, sanitised just above


def _csv_dialect(text: str) -> type[csv.Dialect]:
    """Excel's dialect with the delimiter the first line uses most.

    Not csv.Sniffer: its regular expressions are superlinear on quotes (8 KB
    of `"\\n` took seconds); counting in one line is linear and enough here.
    """
    first_line = text[: text.find("\n") if "\n" in text else CSV_DELIMITER_SAMPLE][:CSV_DELIMITER_SAMPLE]
    delimiter = max(",;\t|", key=first_line.count)

    class Detected(csv.excel):
        pass

    Detected.delimiter = delimiter if first_line.count(delimiter) else ","
    return Detected


def _csv_context(text: str, *, truncated: bool) -> dict:
    if truncated:
        # The last line may be cut in the middle.
        text = text.rsplit("\n", 1)[0]
    dialect = _csv_dialect(text)
    rows = []
    counted = 0
    more_columns = False
    try:
        for row in csv.reader(io.StringIO(text), dialect):
            counted += 1
            more_columns = more_columns or len(row) > CSV_PREVIEW_COLUMNS
            if len(rows) < CSV_PREVIEW_ROWS + 1:
                rows.append([cell[:CSV_CELL_LIMIT] for cell in row[:CSV_PREVIEW_COLUMNS]])
    except csv.Error as error:
        return {"csv_error": str(error), "header": [], "rows": [], "row_count": 0}
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    return {
        "header": header,
        "rows": body,
        "row_count": max(counted - 1, 0),
        "rows_are_sample": truncated,
        "more_columns": more_columns,
    }


def _decode(data: bytes, *, complete: bool) -> str:
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        # Not final when cut: a multi-byte character split at the limit is left out, not garbled.
        return codecs.getincrementaldecoder("utf-8")().decode(data, final=complete)
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _type_differs(declared: str | None, found: media.MediaType) -> bool:
    stated = media.declared_mime(declared)
    if not stated or stated == found.mime or (stated, found.mime) in _SAME_TYPE:
        return False
    # Text subtypes (text/plain vs text/csv) are a matter of presentation, not a wrong label.
    return not (found.is_text and stated.startswith("text/"))


def _problem(context: dict, problem: str, detail: str) -> ArtifactPreview:
    return ArtifactPreview("approvals/previews/file_problem.html", context | {"problem": problem, "detail": detail})
