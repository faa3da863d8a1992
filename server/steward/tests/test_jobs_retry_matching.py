"""POST /jobs/retry at scale (bench/README.md, jobs-scale): jobs retried a chunk at a time,
their runs, new state and audit events written in bulk before the backend gets them, the
backend's own bulk send (django-tasks-db's task rows, Celery over one producer), each job
still re-sent with its exact arguments and audited, and a broker that stops part way
leaves exactly what it took recorded."""

from contextlib import nullcontext

import pytest
from kombu.exceptions import OperationalError

from steward.jobs.backends import get_backend
from steward.models import AuditEvent, Job, JobRun
from steward.services import jobs as job_services
from steward.tests.conftest import enqueue_job, run_db_worker

try:
    from django.tasks import TaskResultStatus
except ImportError:
    from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

RETRY = "/api/v1/jobs/retry"

pytestmark = pytest.mark.django_db(transaction=True)


def failed_imports(count):
    jobs = [enqueue_job("import_members_csv", f"bad file {n}") for n in range(count)]
    run_db_worker()
    assert Job.objects.filter(status="failed").count() == count
    return jobs


def test_many_jobs_are_retried_chunk_by_chunk_each_with_its_arguments_and_audited(
    admin_client, monkeypatch
):
    monkeypatch.setattr(job_services, "RETRY_CHUNK", 2)
    jobs = failed_imports(5)
    first_runs = {run.job_id: run for run in JobRun.objects.all()}
    body = admin_client.post(RETRY, {"kind": "import_members_csv"}, format="json").json()
    assert body == {
        "retried": 5,
        "retried_ids": [job.id for job in jobs],
        "skipped": [],
        "remaining": 0,
    }
    for job in Job.objects.filter(pk__in=body["retried_ids"]):
        assert job.status == "pending"
        run = JobRun.objects.get(job=job, number=2)
        assert (run.task_id, run.retry_of_id, run.status) == (
            job.task_id,
            first_runs[job.pk].pk,
            "pending",
        )
        task_row = DBTaskResult.objects.get(id=job.task_id)
        assert task_row.status == TaskResultStatus.READY
        assert task_row.args_kwargs == job.payload  # the exact arguments, re-sent
        assert task_row.task_path == "forum.tasks.import_members_csv"
        event = AuditEvent.objects.get(action="job.retry", target_id=str(job.pk))
        assert event.data == {
            "kind": "import_members_csv",
            "backend": "tasks",
            "task_id": job.task_id,
            "retry_of_task_id": first_runs[job.pk].task_id,
            "run": 2,
        }
        assert event.actor_username == admin_client.user.username
    summary = AuditEvent.objects.get(action="job.retry_matching")
    assert summary.data["retried"] == body["retried_ids"]
    # The worker runs the new task rows: each job's second run fails as the first did.
    run_db_worker()
    assert set(Job.objects.values_list("status", "attempts")) == {("failed", 2)}
    assert JobRun.objects.filter(number=2, status="failed").count() == 5


def test_a_retry_past_its_time_stops_between_steps_and_says_how_many_are_left(
    admin_client, monkeypatch, settings
):
    monkeypatch.setattr(job_services, "RETRY_CHUNK", 2)
    settings.STEWARD_RETRY_MATCHING_MAX_SECONDS = 0  # the first step always runs
    jobs = failed_imports(5)
    body = admin_client.post(RETRY, {"kind": "import_members_csv"}, format="json").json()
    assert (body["retried_ids"], body["remaining"]) == ([jobs[0].id, jobs[1].id], 3)
    assert AuditEvent.objects.get(action="job.retry_matching").data["remaining"] == 3
    assert Job.objects.filter(status="failed").count() == 3
    # The same request again goes on with the rest.
    again = admin_client.post(RETRY, {"kind": "import_members_csv"}, format="json").json()
    assert (again["retried_ids"], again["remaining"]) == ([jobs[2].id, jobs[3].id], 1)


def test_jobs_that_cannot_run_again_are_skipped_with_why(admin_client):
    jobs = failed_imports(2)
    Job.objects.filter(pk=jobs[0].pk).update(payload=None)
    body = admin_client.post(RETRY, {"kind": "import_members_csv"}, format="json").json()
    assert body["retried_ids"] == [jobs[1].id]
    assert body["skipped"] == [
        {
            "id": jobs[0].id,
            "code": "job_not_retryable",
            "message": f"Job {jobs[0].id} (import_members_csv) cannot be retried. Its "
            "arguments were not recorded, so it cannot be run again exactly.",
        }
    ]


def celery_failed_jobs(count):
    jobs = []
    for n in range(count):
        job = Job.objects.create(
            backend="celery",
            kind="forum.tasks.send_email",
            task_path="forum.tasks.send_email",
            queue="celery",
            status="failed",
            payload={"args": [f"user{n}(at)example.com", "Digest", "..."], "kwargs": {}},
            task_id=f"first-{n}",
        )
        JobRun.objects.create(job=job, backend="celery", task_id=f"first-{n}", number=1)
        jobs.append(job)
    return jobs


def test_a_broker_that_stops_part_way_leaves_what_it_took_recorded(admin_client, monkeypatch):
    jobs = celery_failed_jobs(4)
    app = get_backend("celery").app
    sent = []

    def send_task(name, args=None, kwargs=None, task_id=None, producer=None, **options):
        if len(sent) == 2:
            raise OperationalError("Connection refused")
        sent.append((name, args, kwargs, task_id, options))

    monkeypatch.setattr(app, "send_task", send_task)
    monkeypatch.setattr(app, "producer_or_acquire", lambda: nullcontext())
    body = admin_client.post(RETRY, {"backend": "celery"}, format="json").json()
    assert body["retried_ids"] == [jobs[0].id, jobs[1].id]
    assert [(entry["id"], entry["code"]) for entry in body["skipped"]] == [
        (jobs[2].id, "job_backend_unavailable")
    ]
    for job, (name, args, kwargs, task_id, options) in zip(jobs, sent, strict=False):
        job.refresh_from_db()
        assert (name, args, kwargs, options) == (
            "forum.tasks.send_email",
            job.payload["args"],
            {},
            {"queue": "celery"},
        )
        assert job.status == "pending" and job.task_id == task_id
        assert JobRun.objects.filter(job=job, number=2, task_id=task_id).exists()
    assert AuditEvent.objects.filter(action="job.retry").count() == 2
    for job in jobs[2:]:
        job.refresh_from_db()
        assert job.status == "failed" and job.runs.count() == 1


def test_at_most_100000_jobs_at_once(admin_client):
    too_many = admin_client.post(RETRY, {"max_jobs": 100_001}, format="json")
    assert too_many.status_code == 400 and "max_jobs" in too_many.json()["fields"]
    assert admin_client.post(RETRY, {"max_jobs": 100_000}, format="json").status_code == 200


def test_the_product_still_hears_each_task_enqueued(admin_client):
    try:
        from django.tasks.signals import task_enqueued
    except ImportError:
        from django_tasks.signals import task_enqueued

    heard = []

    def on_enqueued(sender, task_result, **kwargs):
        heard.append((str(task_result.id), task_result.args, task_result.kwargs))

    jobs = failed_imports(2)
    task_enqueued.connect(on_enqueued)
    try:
        admin_client.post(RETRY, {"kind": "import_members_csv"}, format="json")
    finally:
        task_enqueued.disconnect(on_enqueued)
    expected = []
    for job in jobs:
        job.refresh_from_db()
        expected.append((job.task_id, job.payload["args"], job.payload["kwargs"]))
    assert sorted(heard) == sorted(expected)
