from django.contrib.auth import views as auth_views
from django.urls import include, path

from approvals import views
from approvals.files import views as file_views
from approvals.plumbing.lockout import ThrottledLoginView

urlpatterns = [
    path("", views.queue, name="queue"),
    path("approvals/next/", views.approval_next, name="approval-next"),
    path("approvals/<uuid:approval_id>/", views.approval_detail, name="approval-detail"),
    path("approvals/<uuid:approval_id>/decide/", views.approval_decide, name="approval-decide"),
    path("history/", views.history, name="history"),
    path("analytics/", include("approvals.analytics.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("artifacts/<uuid:artifact_id>/file/", file_views.artifact_file, name="artifact-file"),
    path("artifacts/<uuid:artifact_id>/thumbnail/", file_views.artifact_thumbnail, name="artifact-thumbnail"),
]
