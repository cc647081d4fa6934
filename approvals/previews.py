"""How an artifact is shown on the review page: one template and its context per kind."""

import json
from dataclasses import dataclass, field

from approvals.models import Artifact, ArtifactKind

TEXT_PREVIEW_LIMIT = 256 * 1024


@dataclass(frozen=True)
class ArtifactPreview:
    template_name: str
    context: dict = field(default_factory=dict)


def preview_for(artifact: Artifact) -> ArtifactPreview:
    if artifact.kind == ArtifactKind.TEXT:
        return _text_preview(artifact.body_text or "")
    if artifact.kind == ArtifactKind.JSON:
        return _json_preview(artifact.body_json)
    return ArtifactPreview(
        "approvals/previews/file.html",
        {"name": artifact.name, "mime_type": artifact.mime_type, "size_bytes": artifact.size_bytes},
    )


def _text_preview(text: str) -> ArtifactPreview:
    return ArtifactPreview(
        "approvals/previews/text.html",
        {
            "text": text[:TEXT_PREVIEW_LIMIT],
            "truncated": len(text) > TEXT_PREVIEW_LIMIT,
            "characters": len(text),
            "words": len(text.split()),
        },
    )


def _json_preview(value) -> ArtifactPreview:
    pretty = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
    return ArtifactPreview(
        "approvals/previews/json.html",
        {"pretty": pretty, "json_type": type(value).__name__, "lines": pretty.count("\n") + 1},
    )
