"""The diff of each reviewer's edit on a History page: one query for all the page's edited versions."""

from approvals.models import ApprovalOutcome, Artifact
from approvals.selectors.diffs import line_diff


def attach_edit_diffs(rows: list[dict]) -> list[dict]:
    """Give each "approved with edits" row its edit's diff against the draft (row["edit_diff"]); others None."""
    edited_ids = [row["artifact_id"] for row in rows if row.get("outcome") == ApprovalOutcome.APPROVED_WITH_EDITS]
    edited = {}
    if edited_ids:
        edited = {
            artifact.id: artifact
            for artifact in Artifact.objects.select_related("previous_version").filter(id__in=edited_ids)
        }
    for row in rows:
        artifact = edited.get(row["artifact_id"])
        draft = artifact.previous_version if artifact else None
        row["edit_diff"] = line_diff(old=draft, new=artifact) if draft else None
    return rows
