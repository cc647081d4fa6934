"""The media family of an artifact from what the pipeline declared: one set of rules for the queue and the admin.

Text and JSON artifacts are what their kind says. Files go by mime_type, or,
when the pipeline left it missing or generic, by the extension of their path.
The rules are written once (FAMILY_RULES) and rendered three ways: as Python
(`declared_family`), as SQL for the queue (`family_sql`, so that filtering by
family stays in the database) and as a Q for the admin's filter (`family_q`).
A stored file's bytes say more (approvals.files.media); `MediaType.filter_family`
maps what they say onto the same families.
"""

from dataclasses import dataclass

from django.db.models import Q, TextChoices

from approvals.models import ArtifactKind


class MediaFamily(TextChoices):
    """What a reviewer filters by. Audio counts as "other": the pipeline makes
    posts, specs, images, video and PDFs, and a rare audio file does not earn a
    filter of its own."""

    IMAGE = "image", "Image"
    VIDEO = "video", "Video"
    TEXT = "text", "Text"
    JSON = "json", "JSON"
    PDF = "pdf", "PDF"
    OTHER = "other", "Other"


@dataclass(frozen=True)
class FamilyRule:
    """A file is of `family` if its mime_type (compared without regard to case) starts with one
    of `prefixes`, equals one of `exact` or ends with one of `suffixes`, or, when the mime_type says
    nothing, its path ends in one of `extensions`."""

    family: MediaFamily
    extensions: tuple[str, ...]
    prefixes: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()


# First match wins, in this order.
FAMILY_RULES = (
    FamilyRule(
        MediaFamily.IMAGE,
        prefixes=("image/",),
        extensions=("png", "jpg", "jpeg", "gif", "webp", "avif", "bmp", "svg", "tif", "tiff", "heic"),
    ),
    FamilyRule(MediaFamily.VIDEO, prefixes=("video/",), extensions=("mp4", "m4v", "mov", "webm", "mkv", "avi")),
    FamilyRule(MediaFamily.PDF, exact=("application/pdf",), extensions=("pdf",)),
    FamilyRule(MediaFamily.JSON, exact=("application/json",), suffixes=("+json",), extensions=("json",)),
    FamilyRule(MediaFamily.TEXT, prefixes=("text/",), extensions=("txt", "md", "markdown", "csv", "tsv")),
)
# A mime_type that says nothing about the file: then the extension decides.
UNDECLARED_MIME = ("", "application/octet-stream")
KIND_FAMILIES = {ArtifactKind.TEXT: MediaFamily.TEXT, ArtifactKind.JSON: MediaFamily.JSON}


def _extension_pattern(rule: FamilyRule) -> str:
    return r"\.(" + "|".join(rule.extensions) + r")$"


# --- Python -----------------------------------------------------------------------------------------


def declared_family(*, kind: str, mime_type: str | None, storage_path: str | None) -> MediaFamily:
    """The family of one artifact row, by the same rules as the queue's SQL."""
    if kind in KIND_FAMILIES:
        return KIND_FAMILIES[kind]
    mime = (mime_type or "").lower()
    for rule in FAMILY_RULES:
        if mime.startswith(rule.prefixes) or mime in rule.exact or mime.endswith(rule.suffixes):
            return rule.family
        extensions = tuple(f".{extension}" for extension in rule.extensions)
        if mime in UNDECLARED_MIME and (storage_path or "").lower().endswith(extensions):
            return rule.family
    return MediaFamily.OTHER


# --- SQL, for the queue -----------------------------------------------------------------------------


def _sql_literal(text: str) -> str:
    # Only the fixed strings of FAMILY_RULES come here; the doubled % survives psycopg's formatting.
    if "'" in text:
        raise ValueError(f"A family rule cannot hold a quote: {text}")
    return "'" + text.replace("%", "%%") + "'"


def family_sql(alias: str = "a") -> str:
    """A CASE giving the family of artifact `alias`; fixed text, to be put into parameterised statements."""
    mime, path = f"{alias}.mime_type", f"{alias}.storage_path"
    undeclared = " or ".join([f"{mime} is null", *(f"lower({mime}) = {_sql_literal(m)}" for m in UNDECLARED_MIME)])
    whens = [f"  when {alias}.kind = '{kind}' then '{family}'" for kind, family in KIND_FAMILIES.items()]
    for rule in FAMILY_RULES:
        declared = [
            *(f"{mime} ilike {_sql_literal(prefix + '%')}" for prefix in rule.prefixes),
            *(f"lower({mime}) = {_sql_literal(exact)}" for exact in rule.exact),
            *(f"{mime} ilike {_sql_literal('%' + suffix)}" for suffix in rule.suffixes),
        ]
        by_extension = f"(({undeclared}) and {path} ~* {_sql_literal(_extension_pattern(rule))})"
        whens.append(f"  when {' or '.join(declared)} or {by_extension} then '{rule.family}'")
    return "case\n" + "\n".join(whens) + f"\n  else '{MediaFamily.OTHER}'\nend"


# --- Q, for the admin -------------------------------------------------------------------------------


def _rule_q(rule: FamilyRule) -> Q:
    declared = Q()
    for prefix in rule.prefixes:
        declared |= Q(mime_type__istartswith=prefix)
    for exact in rule.exact:
        declared |= Q(mime_type__iexact=exact)
    for suffix in rule.suffixes:
        declared |= Q(mime_type__iendswith=suffix)
    undeclared = Q(mime_type__isnull=True)
    for nothing in UNDECLARED_MIME:
        undeclared |= Q(mime_type__iexact=nothing)
    return declared | (undeclared & Q(storage_path__iregex=_extension_pattern(rule)))


def family_q(family: str) -> Q:
    """Artifacts of `family`: the rules of FAMILY_RULES, each excluding the ones before it."""
    by_kind = [kind for kind, kind_family in KIND_FAMILIES.items() if kind_family == family]
    matched = Q(kind__in=by_kind) if by_kind else Q(pk__in=[])
    earlier = Q(kind__in=list(KIND_FAMILIES))
    for rule in FAMILY_RULES:
        if rule.family == family:
            matched |= _rule_q(rule) & ~earlier
        earlier |= _rule_q(rule)
    if family == MediaFamily.OTHER:
        matched = ~earlier
    return matched
