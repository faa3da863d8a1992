"""Jobs run on django-tasks' real database worker (`db_worker --batch`), fail with real
exceptions and tracebacks, and can be retried and cancelled through the API."""

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction

from steward import services
from steward.models import AuditEvent, Job

try:
    from django.tasks import TaskResultStatus
except ImportError:
    from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

JOBS = "/api/v1/jobs"

# The worker commits and closes connections as it goes, so these tests use real
# transactions instead of the per-test rollback.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def make_job(kind, payload, summary="test job"):
    with transaction.atomic():
        return services.create_job(None, kind, payload, summary)


def test_csv_import_succeeds_on_the_worker(admin_client):
    job = make_job("import_members_csv", {"csv": "username,email\nann,ann@example.com\n"})
    assert admin_client.get(f"{JOBS}/{job.id}").json()["status"] == "pending"
    run_worker()
    body = admin_client.get(f"{JOBS}/{job.id}").json()
    assert body["status"] == "succeeded", body
    assert body["attempts"] == 1
    assert body["result"] == {"rows": 1, "created": 1}
    assert body["started_at"] and body["finished_at"]
    task = DBTaskResult.objects.get(pk=Job.objects.get(pk=job.id).task_result_id)
    assert task.status == TaskResultStatus.SUCCESSFUL


def test_malformed_csv_fails_with_traceback_and_retry_runs_again(admin_client):
    job = make_job("import_members_csv", {"csv": "username,email\nann\n"})
    run_worker()
    body = admin_client.get(f"{JOBS}/{job.id}").json()
    assert body["status"] == "failed"
    assert body["last_error"] == "ValueError: line 2: expected 2 columns, got 1"
    assert "Traceback (most recent call last)" in body["last_traceback"]
    assert "_import_members_csv" in body["last_traceback"]
    first_task = DBTaskResult.objects.get(pk=Job.objects.get(pk=job.id).task_result_id)
    assert first_task.status == TaskResultStatus.FAILED
    assert first_task.exception_class_path == "builtins.ValueError"

    retried = admin_client.post(f"{JOBS}/{job.id}/retry")
    assert retried.status_code == 200, retried.content
    assert retried.json()["status"] == "pending"
    assert Job.objects.get(pk=job.id).task_result_id != str(first_task.id)
    run_worker()
    body = admin_client.get(f"{JOBS}/{job.id}").json()
    assert body["status"] == "failed" and body["attempts"] == 2
    assert AuditEvent.objects.filter(action="job.retry", target_id=str(job.id)).count() == 1
    assert AuditEvent.objects.filter(action="job.failed", target_id=str(job.id)).count() == 2


def test_email_to_an_invalid_address_fails_and_a_valid_one_is_sent(admin_client):
    bad = make_job("send_email", {"to": "not an address", "subject": "s", "body": "b"})
    good = make_job("send_email", {"to": "ok@example.com", "subject": "s", "body": "b"})
    run_worker()
    assert Job.objects.get(pk=bad.id).last_error.startswith("InvalidRecipient:")
    assert Job.objects.get(pk=good.id).status == "succeeded"
    assert [m.to for m in mail.outbox] == [["ok@example.com"]]


def test_report_times_out_then_a_retry_succeeds(admin_client):
    job = make_job("build_report", {"timeout_seconds": 0.1, "work_seconds": 1, "slow_attempts": 1})
    run_worker()
    failed = Job.objects.get(pk=job.id)
    assert failed.status == "failed"
    assert failed.last_error.startswith("TimeoutError:")
    admin_client.post(f"{JOBS}/{job.id}/retry")
    run_worker()
    done = Job.objects.get(pk=job.id)
    assert (done.status, done.attempts, done.last_error) == ("succeeded", 2, "")


def test_cancelled_job_is_skipped_by_the_worker(admin_client):
    job = make_job("send_email", {"to": "ok@example.com"})
    cancelled = admin_client.post(f"{JOBS}/{job.id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    run_worker()
    assert Job.objects.get(pk=job.id).attempts == 0
    assert mail.outbox == []
    again = admin_client.post(f"{JOBS}/{job.id}/cancel")
    assert again.status_code == 409
    assert again.json()["current_job"]["status"] == "cancelled"


def test_only_failed_or_cancelled_jobs_retry(admin_client):
    job = make_job("send_email", {"to": "ok@example.com"})
    response = admin_client.post(f"{JOBS}/{job.id}/retry")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


def test_retry_all_matching_a_filter(admin_client):
    failing = [make_job("send_email", {"to": "bad"}) for _ in range(3)]
    other = make_job("import_members_csv", {"csv": "nope"})
    run_worker()
    response = admin_client.post(f"{JOBS}/retry", {"kind": "send_email"}, format="json")
    assert response.status_code == 200, response.content
    assert sorted(j["id"] for j in response.json()["retried"]) == [j.id for j in failing]
    assert Job.objects.get(pk=other.id).status == "failed"
    assert Job.objects.filter(status="pending").count() == 3


def test_password_reset_job_mails_the_member(support_client, admin_client, make_member):
    member = make_member()
    member.email = "member@example.com"
    member.save()
    support_client.post(
        f"/api/v1/accounts/{member.id}/actions", {"action": "send_password_reset"}, format="json"
    )
    run_worker()
    assert [m.to for m in mail.outbox] == [["member@example.com"]]


def test_jobs_feed_filters_and_pages(admin_client):
    jobs = [make_job("send_email", {"to": "bad"}) for _ in range(3)]
    make_job("build_report", {})
    page = admin_client.get(JOBS, {"kind": "send_email", "limit": 2}).json()
    assert [j["id"] for j in page["results"]] == [jobs[0].id, jobs[1].id]
    assert page["has_more"] is True
    rest = admin_client.get(
        JOBS, {"kind": "send_email", "updated_after": page["next_cursor"]}
    ).json()
    assert [j["id"] for j in rest["results"]] == [jobs[2].id]
    assert admin_client.get(JOBS, {"status": "running"}).json()["results"] == []
    bad = admin_client.get(JOBS, {"status": "exploded"})
    assert bad.status_code == 400 and "status" in bad.json()["fields"]
