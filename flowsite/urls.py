from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("approvals.urls")),
]

# A database outage anywhere in a request is answered with a 503 that says so.
handler500 = "approvals.plumbing.error_views.server_error"
