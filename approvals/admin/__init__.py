"""The ops console: every pipeline table in Django's admin, decision actions and the costs dashboard.

Importing the modules registers their ModelAdmins with the default site.
"""

from django.contrib import admin

from approvals.admin import (  # noqa: F401
    approval_admin,
    artifact_admin,
    claim_admin,
    job_admin,
    project_admin,
    review_target_admin,
    run_admin,
    stored_moments,
)

stored_moments.install()

# The admin index with a link to the costs dashboard (it extends admin/index.html).
admin.site.index_template = "admin/approvals/site_index.html"
admin.site.site_header = "Flow Review ops"
admin.site.site_title = "Flow Review ops"
admin.site.index_title = "Ops console"
# The app list is one click away (Home); beside a changelist and its filters
# it left the wide tables (runs, approvals) cut off at 1280 px.
admin.site.enable_nav_sidebar = False
