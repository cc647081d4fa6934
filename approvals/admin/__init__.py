"""The ops console: every pipeline table in Django's admin, decision actions and the costs dashboard.

Importing the modules registers their ModelAdmins with the default site.
"""

from django.contrib import admin

from approvals.admin import (  # noqa: F401
    approval_admin,
    artifact_admin,
    job_admin,
    project_admin,
    review_target_admin,
    run_admin,
)

# The admin index with a link to the costs dashboard (it extends admin/index.html).
admin.site.index_template = "admin/approvals/site_index.html"
