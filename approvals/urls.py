from django.contrib.auth import views as auth_views
from django.urls import path

from approvals import file_views, views

urlpatterns = [
    path("", views.queue, name="queue"),
    path("approvals/<uuid:approval_id>/", views.approval_detail, name="approval-detail"),
    path("approvals/<uuid:approval_id>/decide/", views.approval_decide, name="approval-decide"),
    path("history/", views.history, name="history"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("artifacts/<uuid:artifact_id>/file/", file_views.artifact_file, name="artifact-file"),
    path("artifacts/<uuid:artifact_id>/thumbnail/", file_views.artifact_thumbnail, name="artifact-thumbnail"),
]
