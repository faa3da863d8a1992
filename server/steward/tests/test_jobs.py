"""The product's django-tasks jobs through Steward: recorded by django-tasks' own signals
as the product enqueues them and django-tasks-db's real worker (`db_worker --batch`) runs
them, failing with real exceptions and tracebacks; retried (a new run of the same task with
the same arguments, linked to the failed one) and cancelled through the API, audited."""

import pytest

from steward.models import AuditEvent, Job, JobRun
from steward.tests.conftest import enqueue_job, run_db_worker

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


def test_a_product_task_is_recorded_as_it_is_enqueued_and_runs(admin_client):
    job = enqueue_job("import_members_csv", "username,email\nann,ann@example.com\n")
    body = admin_client.get(f"{JOBS}/{job.id}").json()
    assert (body["backend"], body["kind"], body["status"]) == (
        "tasks",
        "import_members_csv",
        "pending",
    )
    assert body["arguments"] == {
        "args": ["username,email\nann,ann@example.com\n"],
        "kwargs": {},
    }
    assert body["can_cancel"] is True and body["can_retry"] is False
    run_db_worker()
    body = admin_client.get(f"{JOBS}/{job.id}").json()
    assert body["status"] == "succeeded", body
    assert body["attempts"] == 1
    assert body["result"] == {"rows": 1, "created": 1}
    assert body["started_at"] and body["finished_at"]
    assert [run["status"] for run in body["runs"]] == ["succeeded"]
    task = DBTaskResult.objects.get(pk=body["task_id"])
    assert task.status == TaskResultStatus.SUCCESSFUL


def test_a_failure_is_listed_with_its_traceback_and_a_retry_runs_the_same_task_again(
    admin_client,
):
    job = enqueue_job("import_members_csv", "username,email\nann\n")
    run_db_worker()
    body = admin_client.get(f"{JOBS}/{job.id}").json()
    assert body["status"] == "failed"
    assert body["last_error"] == "ValueError: line 2: expected 2 columns, got 1"
    assert "Traceback (most recent call last)" in body["last_traceback"]
    assert "import_members_csv" in body["last_traceback"]
    assert body["can_retry"] is True
    first_task = DBTaskResult.objects.get(pk=body["task_id"])
    assert first_task.exception_class_path == "builtins.ValueError"

    retried = admin_client.post(f"{JOBS}/{job.id}/retry")
    assert retried.status_code == 200, retried.content
    assert retried.json()["status"] == "pending"
    second_task_id = retried.json()["task_id"]
    assert second_task_id != str(first_task.id)
    second_task = DBTaskResult.objects.get(pk=second_task_id)
    assert second_task.task_path == "forum.tasks.import_members_csv"
    assert second_task.args_kwargs == first_task.args_kwargs
    run_db_worker()
    body = admin_client.get(f"{JOBS}/{job.id}").json()
    assert body["status"] == "failed" and body["attempts"] == 2
    runs = body["runs"]
    assert [(r["number"], r["status"], r["retry_of"]) for r in runs] == [
        (1, "failed", None),
        (2, "failed", 1),
    ]
    assert runs[1]["created_by"]["username"] == admin_client.user.username
    event = AuditEvent.objects.get(action="job.retry", target_id=str(job.id))
    assert event.data["task_id"] == second_task_id
    assert event.data["retry_of_task_id"] == str(first_task.id)


def test_a_report_times_out_then_a_retry_succeeds(admin_client):
    job = enqueue_job("build_report", queue="test", timeout_seconds=0.1, work_seconds=0.5)
    run_db_worker()
    failed = Job.objects.get(pk=job.id)
    assert failed.status == "failed"
    assert failed.last_error.startswith("TimeoutError:")
    assert admin_client.post(f"{JOBS}/{job.id}/retry").status_code == 200
    run_db_worker()
    done = Job.objects.get(pk=job.id)
    assert (done.status, done.attempts, done.last_error) == ("succeeded", 2, "")


def test_a_cancelled_job_never_runs(admin_client):
    job = enqueue_job("import_members_csv", "username,email\nzed,zed@example.com\n")
    cancelled = admin_client.post(f"{JOBS}/{job.id}/cancel")
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == "cancelled"
    run_db_worker()
    assert Job.objects.get(pk=job.id).attempts == 0
    assert DBTaskResult.objects.get(pk=job.task_id).exception_class_path == (
        "steward.jobs.Cancelled"
    )
    again = admin_client.post(f"{JOBS}/{job.id}/cancel")
    assert again.status_code == 409
    assert again.json()["current_job"]["status"] == "cancelled"
    assert AuditEvent.objects.filter(action="job.cancel", target_id=str(job.id)).count() == 1
    # A cancelled job can be retried: it runs then.
    assert admin_client.post(f"{JOBS}/{job.id}/retry").status_code == 200
    run_db_worker()
    assert Job.objects.get(pk=job.id).status == "succeeded"


def test_only_failed_or_cancelled_jobs_retry_and_only_pending_ones_cancel(admin_client):
    job = enqueue_job("build_report", queue="fast", timeout_seconds=1, work_seconds=0)
    response = admin_client.post(f"{JOBS}/{job.id}/retry")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    run_db_worker()
    response = admin_client.post(f"{JOBS}/{job.id}/cancel")
    assert response.status_code == 409
    assert response.json()["current_job"]["status"] == "succeeded"


def test_retry_all_matching_a_filter(admin_client):
    failing = [enqueue_job("import_members_csv", "nope") for _ in range(3)]
    other = enqueue_job("build_report", queue="slow", timeout_seconds=0.01, work_seconds=1)
    run_db_worker()
    response = admin_client.post(f"{JOBS}/retry", {"kind": "import_members_csv"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["retried"] == 3 and body["retried_ids"] == [j.id for j in failing]
    assert body["skipped"] == []
    assert Job.objects.get(pk=other.id).status == "failed"
    assert Job.objects.filter(status="pending").count() == 3
    assert AuditEvent.objects.filter(action="job.retry").count() == 3
    summary = AuditEvent.objects.get(action="job.retry_matching")
    assert sorted(summary.data["retried"]) == [j.id for j in failing]


def test_a_job_whose_arguments_were_not_json_is_listed_with_retry_disabled(admin_client):
    job = Job.objects.create(
        backend="celery",
        kind="forum.tasks.send_reminder",
        task_path="forum.tasks.send_reminder",
        status=Job.Status.FAILED,
        payload=None,
        retry_blocked_reason="The arguments cannot be stored as JSON exactly: args[1] is a "
        "datetime, which JSON cannot hold exactly.",
        task_id="t-1",
    )
    JobRun.objects.create(job=job, backend="celery", task_id="t-1", number=1, status="failed")
    body = admin_client.get(f"{JOBS}/{job.id}").json()
    assert body["can_retry"] is False
    assert "datetime" in body["retry_blocked_reason"]
    assert body["arguments"] is None
    response = admin_client.post(f"{JOBS}/{job.id}/retry")
    assert response.status_code == 422
    assert response.json()["code"] == "job_not_retryable"
    assert "datetime" in response.json()["message"]
    matching = admin_client.post(f"{JOBS}/retry", {"backend": "celery"}, format="json").json()
    assert matching["retried"] == 0 and matching["retried_ids"] == []
    assert matching["skipped"][0]["code"] == "job_not_retryable"


def test_legacy_jobs_are_listed_but_cannot_run_again(admin_client):
    job = Job.objects.create(kind="send_email", status=Job.Status.FAILED, payload={"to": "x"})
    body = admin_client.get(f"{JOBS}/{job.id}").json()
    assert body["backend"] == "legacy"
    assert body["can_retry"] is False
    assert admin_client.post(f"{JOBS}/{job.id}/retry").status_code == 422


def test_jobs_feed_filters_and_pages(admin_client):
    jobs = [enqueue_job("import_members_csv", "bad") for _ in range(3)]
    enqueue_job("build_report")
    page = admin_client.get(JOBS, {"kind": "import_members_csv", "limit": 2}).json()
    assert [j["id"] for j in page["results"]] == [jobs[0].id, jobs[1].id]
    assert page["has_more"] is True and page["total"] == 3
    rest = admin_client.get(
        JOBS, {"kind": "import_members_csv", "updated_after": page["next_cursor"]}
    ).json()
    assert [j["id"] for j in rest["results"]] == [jobs[2].id]
    assert admin_client.get(JOBS, {"status": "running"}).json()["results"] == []
    assert admin_client.get(JOBS, {"backend": "celery"}).json()["results"] == []
    assert len(admin_client.get(JOBS, {"backend": "tasks"}).json()["results"]) == 4
    bad = admin_client.get(JOBS, {"status": "exploded"})
    assert bad.status_code == 400 and "status" in bad.json()["fields"]


def test_a_signal_handler_error_never_fails_the_product_task(admin_client, monkeypatch):
    from steward.jobs import recording

    def broken(*args, **kwargs):
        raise RuntimeError("steward's database is down")

    monkeypatch.setattr(recording, "record_started", broken)
    job = enqueue_job("import_members_csv", "username,email\nbea,bea@example.com\n")
    run_db_worker()
    assert DBTaskResult.objects.get(pk=job.task_id).status == TaskResultStatus.SUCCESSFUL
    assert Job.objects.get(pk=job.id).status == "succeeded"


def test_the_sweep_records_an_outcome_a_signal_missed(admin_client, monkeypatch):
    from django.core.management import call_command

    from steward.jobs import recording

    def down(*args, **kwargs):
        raise RuntimeError("steward's database is down")

    job = enqueue_job("import_members_csv", "username,email\nann\n")
    with monkeypatch.context() as patch:
        patch.setattr(recording, "record_finished", down)
        run_db_worker()
    assert Job.objects.get(pk=job.id).status == "running"
    call_command("steward_sweep", "--skip-accounts", verbosity=0)
    swept = Job.objects.get(pk=job.id)
    assert swept.status == "failed"
    assert swept.last_error == "ValueError: line 2: expected 2 columns, got 1"
