"""Steward API routes. Include them under a versioned prefix:

path("api/v1/", include("steward.urls"))
"""

from django.urls import path, re_path

from steward import views

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
    path("reason-templates", views.ReasonTemplateListView.as_view(), name="reason-templates"),
    path("schema", views.SchemaView.as_view(), name="schema"),
    re_path(r"^.*$", views.NotFoundView.as_view(), name="not-found"),
]
