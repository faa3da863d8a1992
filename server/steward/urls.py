"""Steward API routes. Include them under a versioned prefix:

path("api/v1/", include("steward.urls"))
"""

from django.urls import path, re_path

from steward import events, views

app_name = "steward"

urlpatterns = [
    path("auth/login", views.LoginView.as_view(), name="login"),
    path("auth/refresh", views.RefreshView.as_view(), name="refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="logout"),
    path("me", views.MeView.as_view(), name="me"),
    path("queues", views.QueueListView.as_view(), name="queues"),
    path("items", views.ItemListView.as_view(), name="items"),
    path("items/<int:item_id>", views.ItemDetailView.as_view(), name="item"),
    path("items/<int:item_id>/decisions", views.DecisionCreateView.as_view(), name="decisions"),
    path("items/<int:item_id>/claim", views.ClaimView.as_view(), name="claim"),
    path("audit", views.AuditListView.as_view(), name="audit"),
    path("accounts", views.AccountListView.as_view(), name="accounts"),
    path("accounts/<int:account_id>", views.AccountDetailView.as_view(), name="account"),
    path(
        "accounts/<int:account_id>/history",
        views.AccountHistoryView.as_view(),
        name="account-history",
    ),
    path("accounts/<int:account_id>/notes", views.AccountNotesView.as_view(), name="account-notes"),
    path(
        "accounts/<int:account_id>/actions",
        views.AccountActionView.as_view(),
        name="account-actions",
    ),
    path("jobs", views.JobListView.as_view(), name="jobs"),
    path("jobs/retry", views.JobRetryMatchingView.as_view(), name="jobs-retry"),
    path("jobs/<int:job_id>", views.JobDetailView.as_view(), name="job"),
    path("jobs/<int:job_id>/retry", views.JobRetryView.as_view(), name="job-retry"),
    path("jobs/<int:job_id>/cancel", views.JobCancelView.as_view(), name="job-cancel"),
    path("mutations", views.MutationBatchView.as_view(), name="mutations"),
    path("events", events.EventStreamView.as_view(), name="events"),
    path("reason-templates", views.ReasonTemplateListView.as_view(), name="reason-templates"),
    path("schema", views.SchemaView.as_view(), name="schema"),
    path("health/live", views.LiveView.as_view(), name="health-live"),
    path("health/ready", views.ReadyView.as_view(), name="health-ready"),
    re_path(r"^.*$", views.NotFoundView.as_view(), name="not-found"),
]
