from django.urls import path

from approvals.analytics import views

urlpatterns = [
    path("", views.queue_now, name="analytics-queue"),
    path("reviewers/", views.reviewers, name="analytics-reviewers"),
    path("time-to-decision/", views.time_to_decision, name="analytics-time-to-decision"),
    path("outcomes/", views.outcomes, name="analytics-outcomes"),
]
