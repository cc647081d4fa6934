"""The review page's social-post pieces: the platform card and the request a revision answers.

The tags lay out values the view read beforehand (approvals.selectors.revision_panels):
a template runs no queries.
"""

from django import template

from approvals.models import Artifact
from approvals.networks.preview import platform_preview

register = template.Library()


@register.inclusion_tag("approvals/networks/platform_preview.html")
def platform_preview_card(artifact: Artifact) -> dict:
    return {"preview": platform_preview(artifact)}


@register.inclusion_tag("approvals/revisions/requested_changes.html")
def requested_changes_card(asked: dict | None) -> dict:
    return {"asked": asked}
