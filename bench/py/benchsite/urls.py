from django.urls import include, path

from benchsite import baseline

urlpatterns = [
    path("bench-baseline/items", baseline.ItemList.as_view()),
    path("bench-baseline/audit", baseline.AuditList.as_view()),
    path("bench-baseline/jobs", baseline.JobList.as_view()),
    path("", include("demo.urls")),
]
