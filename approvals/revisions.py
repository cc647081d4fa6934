"""The two decisions that make a new version: request changes (the agent writes it) and approve with edits
(the reviewer wrote it).

Beside decide() in approvals.decisions, and built the same way: one transaction
each, opened by the same conditional UPDATE of the pending approval, so of two
racing decisions on one item (an edit and a plain approve, say) exactly one
wins. docs/pipeline.md lists the rows each writes and the notify payload.
"""

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from approvals.decisions import (
    AlreadyDecided,
    DecisionError,
    DecisionResult,
    InvalidDecision,
    NotFound,
    _approval_uuid,
    _notify,
    clean_notes,
    clean_reasons,
    clean_rejection,
    decide,
)
from approvals.files.previews import TEXT_PREVIEW_LIMIT
from approvals.models import Approval, ApprovalOutcome, ApprovalStatus, Artifact, ArtifactKind

logger = logging.getLogger(__name__)

# An edit is made in the review page's editor, which holds what the preview
# holds: a draft longer than this is not offered for editing, and no edit may be longer.
EDIT_MAX_CHARACTERS = TEXT_PREVIEW_LIMIT


@dataclass(frozen=True)
class RevisionResult(DecisionResult):
    """A decision that made or asked for a new version: the revision job, or the edited version."""

    revision_job_id: uuid.UUID | None = None
    replaced_approval_id: uuid.UUID | None = None
    draft_artifact_id: uuid.UUID | None = None


def is_editable(artifact: Artifact) -> bool:
    """Text and JSON whose whole body fits the editor; never a file."""
    if artifact.kind == ArtifactKind.TEXT:
        return len(artifact.body_text or "") <= EDIT_MAX_CHARACTERS
    if artifact.kind == ArtifactKind.JSON:
        return len(editable_text(artifact)) <= EDIT_MAX_CHARACTERS
    return False


def editable_text(artifact: Artifact) -> str:
    """What the editor starts from: the text, or the JSON pretty-printed as the preview shows it."""
    if artifact.kind == ArtifactKind.JSON:
        return json.dumps(artifact.body_json, indent=2, ensure_ascii=False)
    return artifact.body_text or ""


def parse_edit(*, kind: str, body: str | None) -> str | object:
    """The edited body as it will be stored (text, or a parsed JSON value); InvalidDecision says what is wrong."""
    if kind == ArtifactKind.FILE:
        raise InvalidDecision("A file cannot be edited here: approve it, reject it or request changes.")
    body = (body or "").replace("\r\n", "\n")
    if not body.strip():
        raise InvalidDecision("The edit is empty: write the post, or reject it instead.")
    if len(body) > EDIT_MAX_CHARACTERS:
        raise InvalidDecision(f"The edit is limited to {EDIT_MAX_CHARACTERS:,} characters (it has {len(body):,}).")
    if "\x00" in body:
        raise InvalidDecision("The edit cannot contain NUL characters.")
    if kind == ArtifactKind.TEXT:
        return body
    try:
        value = json.loads(body)
    except json.JSONDecodeError as error:
        raise InvalidDecision(f"Not valid JSON: {error.msg} (line {error.lineno}, column {error.colno}).") from error
    except RecursionError as error:
        raise InvalidDecision("Not accepted: the JSON is nested too deeply.") from error
    # PostgreSQL's jsonb refuses \u0000 and lone surrogates: say so here rather than fail in the INSERT.
    stored = json.dumps(value, ensure_ascii=False)
    if "\\u0000" in stored:
        raise InvalidDecision("The JSON cannot contain \\u0000 (PostgreSQL refuses it).")
    try:
        stored.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidDecision("The JSON holds an unpaired surrogate escape (\\ud800-\\udfff).") from error
    return value


def _claim_pending(cursor, *, approval_id: uuid.UUID, outcome: str, notes: str, reasons: list[str], by: str):
    """The conditional UPDATE every decision starts with: (artifact_id, decided_at), or AlreadyDecided/NotFound."""
    cursor.execute(
        """update approvals
              set status = 'rejected', outcome = %s, notes = %s, reasons = %s, decided_by = %s, decided_at = now()
            where id = %s and status = 'pending'
        returning artifact_id, decided_at""",
        [outcome, notes or None, reasons, by, approval_id],
    )
    row = cursor.fetchone()
    if row is None:
        current = Approval.objects.filter(id=approval_id).values("status", "decided_by", "decided_at").first()
        if current is None:
            raise NotFound("This approval does not exist (it may have been deleted).")
        raise AlreadyDecided(**current)
    return row


def request_changes(
    *, approval_id: uuid.UUID | str, notes: str | None, reasons: Iterable[str] = (), decided_by: str
) -> RevisionResult:
    """Reject, and queue a revision job for the agent (same kind as the draft's job), all or nothing."""
    approval_id = _approval_uuid(approval_id)
    notes, reasons = clean_rejection(notes, reasons, verb="request changes")
    with transaction.atomic(), connection.cursor() as cursor:
        artifact_id, decided_at = _claim_pending(
            cursor,
            approval_id=approval_id,
            outcome=ApprovalOutcome.CHANGES_REQUESTED,
            notes=notes,
            reasons=reasons,
            by=decided_by,
        )
        jobs_moved, revision_job_id = _queue_revision(
            cursor, approval_id=approval_id, artifact_id=artifact_id, notes=notes, reasons=reasons, by=decided_by
        )
        _notify(
            cursor,
            {
                "approval_id": approval_id,
                "artifact_id": artifact_id,
                "status": ApprovalStatus.REJECTED,
                "decision": ApprovalOutcome.CHANGES_REQUESTED,
                "decided_by": decided_by,
                "reasons": reasons,
                "revision_job_id": revision_job_id,
            },
        )
    artifact = Artifact.objects.only("name", "version").get(id=artifact_id)
    logger.info("approval %s: changes requested by %s; revision job %s", approval_id, decided_by, revision_job_id)
    return RevisionResult(
        approval_id=approval_id,
        artifact_id=artifact_id,
        artifact_name=artifact.name,
        artifact_version=artifact.version,
        status=ApprovalOutcome.CHANGES_REQUESTED,
        decided_by=decided_by,
        decided_at=decided_at,
        jobs_moved=jobs_moved,
        revision_job_id=revision_job_id,
    )


def _queue_revision(
    cursor, *, approval_id: uuid.UUID, artifact_id: uuid.UUID, notes: str, reasons: list[str], by: str
) -> tuple[int, uuid.UUID]:
    """Fail the draft's waiting job and queue the revision job: (jobs failed, the new job's id)."""
    cursor.execute(
        """update jobs set status = 'failed', error = %s, finished_at = now()
            where output_artifact_id = %s and status = 'needs_approval'
        returning kind""",
        [_changes_error(by, notes, reasons), artifact_id],
    )
    kinds = [kind for (kind,) in cursor.fetchall()]
    failed = len(kinds)
    if not kinds:
        # No job waiting on it (the pipeline wrote the approval alone): the newest job that made it names the step.
        cursor.execute(
            "select kind from jobs where output_artifact_id = %s order by created_at desc limit 1", [artifact_id]
        )
        kinds = [kind for (kind,) in cursor.fetchall()]
    if not kinds:
        raise InvalidDecision(
            "No job produced this artifact, so no agent step can be asked for a new version: reject it instead."
        )
    params = {"revision_of": str(approval_id), "notes": notes, "reasons": reasons}
    cursor.execute(
        """insert into jobs (kind, status, input_artifact_id, params)
           values (%s, 'queued', %s, %s::jsonb) returning id""",
        [kinds[0], artifact_id, json.dumps(params)],
    )
    (revision_job_id,) = cursor.fetchone()
    return failed, revision_job_id


def _changes_error(decided_by: str, notes: str, reasons: list[str]) -> str:
    asked = "; ".join(part for part in (", ".join(reasons), notes) if part)
    return f"Changes requested by {decided_by}: {asked}"


def approve_with_edits(
    *, approval_id: uuid.UUID | str, body: str | None, notes: str | None, decided_by: str
) -> RevisionResult:
    """Save the reviewer's edit as a new version and approve it; close the draft's approval; hand the edit on."""
    approval_id = _approval_uuid(approval_id)
    notes = clean_notes(notes, required=False)
    draft = Artifact.objects.filter(approvals__id=approval_id).first()
    if draft is None:
        raise NotFound("This approval does not exist (it may have been deleted).")
    edited = parse_edit(kind=draft.kind, body=body)
    if _unchanged(draft, edited):
        raise InvalidDecision("The edit changes nothing: use Approve.")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _, decided_at = _claim_pending(
                cursor,
                approval_id=approval_id,
                outcome=ApprovalOutcome.REPLACED_BY_EDIT,
                notes=f"Replaced by {decided_by}'s edit, approved as a new version.",
                reasons=[],
                by=decided_by,
            )
            version = _save_edit(draft=draft, edited=edited, editor=decided_by)
            approval = Approval.objects.create(
                artifact=version,
                status=ApprovalStatus.APPROVED,
                outcome=ApprovalOutcome.APPROVED_WITH_EDITS,
                notes=notes or None,
                reasons=clean_reasons(()),
                decided_by=decided_by,
                decided_at=decided_at,
            )
            cursor.execute(
                """update jobs set status = 'done', output_artifact_id = %s, error = null, finished_at = %s
                    where output_artifact_id = %s and status = 'needs_approval'""",
                [version.id, decided_at, draft.id],
            )
            jobs_moved = cursor.rowcount
            _notify(cursor, _edit_payload(approval=approval, draft=draft, replaced=approval_id))
    except IntegrityError as error:
        # Another writer took this version number of the artifact in the meantime.
        raise DecisionError("A newer version of this artifact appeared meanwhile: reload and edit that one.") from error
    logger.info("approval %s: %s approved an edit as %s v%s", approval_id, decided_by, version.id, version.version)
    return RevisionResult(
        approval_id=approval.id,
        artifact_id=version.id,
        artifact_name=version.name,
        artifact_version=version.version,
        status=ApprovalOutcome.APPROVED_WITH_EDITS,
        decided_by=decided_by,
        decided_at=decided_at,
        jobs_moved=jobs_moved,
        replaced_approval_id=approval_id,
        draft_artifact_id=draft.id,
    )


def _unchanged(draft: Artifact, edited) -> bool:
    if draft.kind == ArtifactKind.TEXT:
        return edited == draft.body_text
    # As JSON text, keys sorted: Python's == would call 1, 1.0 and true the same value.
    return json.dumps(edited, sort_keys=True) == json.dumps(draft.body_json, sort_keys=True)


def _save_edit(*, draft: Artifact, edited, editor: str) -> Artifact:
    # The next free number of this (project, name): version + 1 unless a later version already exists.
    latest = Artifact.objects.filter(project_id=draft.project_id, name=draft.name).order_by("-version").first()
    metadata = draft.metadata if isinstance(draft.metadata, dict) else {}
    is_json = draft.kind == ArtifactKind.JSON
    return Artifact.objects.create(
        project_id=draft.project_id,
        name=draft.name,
        kind=draft.kind,
        body_text=None if is_json else edited,
        body_json=edited if is_json else None,
        mime_type=draft.mime_type,
        version=max(draft.version, latest.version if latest else 0) + 1,
        previous_version=draft,
        # The reviewer is a Django user, not a Supabase one: created_by stays null, the name goes in metadata.
        metadata={**metadata, "edited_by": editor, "edit_of": str(draft.id)},
        created_by=None,
    )


def _edit_payload(*, approval: Approval, draft: Artifact, replaced: uuid.UUID) -> dict:
    return {
        "approval_id": approval.id,
        "artifact_id": approval.artifact_id,
        "status": ApprovalStatus.APPROVED,
        "decision": ApprovalOutcome.APPROVED_WITH_EDITS,
        "decided_by": approval.decided_by,
        "reasons": [],
        "edit_of": draft.id,
        "replaced_approval_id": replaced,
    }


def record_decision(
    *,
    approval_id: uuid.UUID | str,
    decision: str,
    notes: str | None,
    reasons: Iterable[str],
    edited_body: str | None,
    decided_by: str,
) -> DecisionResult:
    """The review form's four buttons, each to its service."""
    if decision == ApprovalOutcome.CHANGES_REQUESTED:
        return request_changes(approval_id=approval_id, notes=notes, reasons=reasons, decided_by=decided_by)
    if decision == ApprovalOutcome.APPROVED_WITH_EDITS:
        return approve_with_edits(approval_id=approval_id, body=edited_body, notes=notes, decided_by=decided_by)
    return decide(approval_id=approval_id, decision=decision, notes=notes, reasons=reasons, decided_by=decided_by)


# The confirmation after each decision: "<verb> <name> v<version>."
CONFIRMATION_VERBS = {
    ApprovalStatus.APPROVED: "Approved",
    ApprovalStatus.REJECTED: "Rejected",
    ApprovalOutcome.CHANGES_REQUESTED: "Requested changes to",
    ApprovalOutcome.APPROVED_WITH_EDITS: "Approved with edits:",
}
