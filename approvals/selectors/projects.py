"""The project menu of the queue and History filters."""

import uuid

from approvals.models import Project


def project_choices() -> list[tuple[uuid.UUID, str]]:
    """(id, name) of every project, for the filter menus."""
    return list(Project.objects.order_by("name", "id").values_list("id", "name"))
