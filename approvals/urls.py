from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from approvals import revision_views, team_views, views
from approvals.files import views as file_views
from approvals.plumbing.lockout import ThrottledLoginView

urlpatterns = [
    path("", views.queue, name="queue"),
    path("approvals/next/", views.approval_next, name="approval-next"),
    path("approvals/<uuid:approval_id>/", views.approval_detail, name="approval-detail"),
    path("approvals/<uuid:approval_id>/decide/", views.approval_decide, name="approval-decide"),
    path("approvals/<uuid:approval_id>/claim/", team_views.approval_claim, name="approval-claim"),
    path("approvals/<uuid:approval_id>/release/", team_views.approval_release, name="approval-release"),
    path("approvals/<uuid:approval_id>/live/", team_views.approval_live, name="approval-live"),
    path("approvals/<uuid:approval_id>/undo/", team_views.approval_undo, name="approval-undo"),
    path("approvals/<uuid:approval_id>/reopen/", team_views.approval_reopen, name="approval-reopen"),
    path("live/queue/", team_views.queue_live, name="queue-live"),
    path("approvals/<uuid:approval_id>/edit/check/", revision_views.approval_edit_check, name="approval-edit-check"),
    path("history/", views.history, name="history"),
    path("analytics/", include("approvals.analytics.urls")),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page links: send them to the SVG icon (resolved lazily, as
    # the static file's hashed name is only known once the manifest is loaded).
    path(
        "favicon.ico",
        login_not_required(RedirectView.as_view(url=lazy(static, str)("approvals/favicon.svg"))),
        name="favicon",
    ),
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("artifacts/<uuid:artifact_id>/file/", file_views.artifact_file, name="artifact-file"),
    path("artifacts/<uuid:artifact_id>/thumbnail/", file_views.artifact_thumbnail, name="artifact-thumbnail"),
    path("artifacts/<uuid:artifact_id>/slides/<int:index>/", file_views.slide_image, name="slide-image"),
]
