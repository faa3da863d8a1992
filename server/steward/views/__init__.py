"""HTTP layer of the Steward API, one module per domain: parse and validate, call
services, serialize. steward.urls names every view from here."""

from steward.views.accounts import (
    AccountActionView,
    AccountDetailView,
    AccountHistoryView,
    AccountListView,
    AccountNotesView,
)
from steward.views.audit import AuditListView
from steward.views.auth import LoginView, LogoutView, MeView, RefreshView
from steward.views.batch import MutationBatchView, NotFoundView, SchemaView
from steward.views.health import LiveView, ReadyView
from steward.views.items import (
    ClaimView,
    DecisionCreateView,
    ItemDetailView,
    ItemListView,
    QueueListView,
)
from steward.views.jobs import (
    JobCancelView,
    JobDetailView,
    JobListView,
    JobRetryMatchingView,
    JobRetryView,
)
from steward.views.reasons import ReasonTemplateListView

__all__ = [
    "AccountActionView",
    "AccountDetailView",
    "AccountHistoryView",
    "AccountListView",
    "AccountNotesView",
    "AuditListView",
    "ClaimView",
    "DecisionCreateView",
    "ItemDetailView",
    "ItemListView",
    "JobCancelView",
    "JobDetailView",
    "JobListView",
    "JobRetryMatchingView",
    "JobRetryView",
    "LiveView",
    "LoginView",
    "LogoutView",
    "MeView",
    "MutationBatchView",
    "NotFoundView",
    "QueueListView",
    "ReadyView",
    "ReasonTemplateListView",
    "RefreshView",
    "SchemaView",
]
