"""The product's Celery jobs through Steward, with a real Celery worker on a real Redis:
a task fails and is listed with its traceback and its exact arguments, is retried
through the API (the exact task re-sent) and succeeds on the worker; a task whose
arguments JSON cannot hold is listed with retry disabled and the reason; a pending task
is cancelled (revoked) and never runs."""

import pytest

from steward.tests.live import call, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stack(demo_stack):
    return demo_stack(celery=True, seed=("--jobs", "0"))


def jobs(stack, token, **filters):
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    status, body = call(stack.base, "GET", f"/jobs?limit=500&{query}", token=token)
    assert status == 200, body
    return body["results"]


def job_where(stack, token, kind, status):
    def found():
        matching = [j for j in jobs(stack, token, backend="celery", kind=kind) if j]
        return next((j for j in matching if j["status"] == status), None)

    return wait_for(f"a {status} {kind} job", found, timeout=30, interval=0.2)


def test_a_failed_celery_task_is_listed_with_its_traceback_retried_and_succeeds(stack):
    token = stack.login("admin")
    stack.shell(
        "from forum.tasks import rebuild_search_index\n"
        "rebuild_search_index.delay('posts', timeout_seconds=0.2, work_seconds=1)\n"
    )
    failed = job_where(stack, token, "forum.tasks.rebuild_search_index", "failed")
    assert failed["backend"] == "celery"
    assert failed["last_error"] == "TimeoutError: index:posts did not finish within 0.2 s"
    assert "Traceback (most recent call last)" in failed["last_traceback"]
    assert "warm_cache_work" in failed["last_traceback"]
    assert failed["can_retry"] is True
    status, detail = call(stack.base, "GET", f"/jobs/{failed['id']}", token=token)
    assert detail["arguments"] == {
        "args": ["posts"],
        "kwargs": {"timeout_seconds": 0.2, "work_seconds": 1},
    }

    status, retried = call(stack.base, "POST", f"/jobs/{failed['id']}/retry", token=token)
    assert status == 200, retried
    assert retried["status"] in ("pending", "running", "succeeded")
    assert retried["task_id"] != failed["task_id"]

    def succeeded():
        body = call(stack.base, "GET", f"/jobs/{failed['id']}", token=token)[1]
        return body if body["status"] == "succeeded" else None

    done = wait_for("the retried task to succeed", succeeded, timeout=30, interval=0.2)
    assert done["attempts"] == 2 and done["last_error"] == ""
    assert done["result"] == {"index": "posts", "seconds": 0.1}
    assert [(r["number"], r["status"], r["retry_of"]) for r in done["runs"]] == [
        (1, "failed", None),
        (2, "succeeded", 1),
    ]
    status, audit = call(
        stack.base, "GET", f"/audit?action=job.retry&target_id={failed['id']}", token=token
    )
    assert [e["data"]["task_id"] for e in audit["results"]] == [done["task_id"]]


def test_retry_all_matching_resends_every_celery_task_in_one_go_and_each_succeeds(stack):
    token = stack.login("admin")
    stack.shell(
        "from forum.tasks import rebuild_search_index\n"
        "for name in ('a', 'b', 'c'):\n"
        "    rebuild_search_index.delay(name, timeout_seconds=0.2, work_seconds=1)\n"
    )
    kind = "forum.tasks.rebuild_search_index"

    def three_failed():
        failed = [j for j in jobs(stack, token, kind=kind) if j["status"] == "failed"]
        return failed if len(failed) == 3 else None

    failed = wait_for("three failed jobs", three_failed, timeout=30, interval=0.2)
    status, body = call(stack.base, "POST", "/jobs/retry", {"kind": kind}, token=token)
    assert status == 200, body
    assert body["retried"] == 3 and body["retried_ids"] == sorted(j["id"] for j in failed)

    def all_succeeded():
        now = jobs(stack, token, kind=kind)
        return now if all(j["status"] == "succeeded" for j in now) else None

    done = wait_for("the retried tasks to succeed", all_succeeded, timeout=30, interval=0.2)
    for job in done:
        status, detail = call(stack.base, "GET", f"/jobs/{job['id']}", token=token)
        assert [(r["number"], r["status"], r["retry_of"]) for r in detail["runs"]] == [
            (1, "failed", None),
            (2, "succeeded", 1),
        ]
        # The worker ran the exact task with the exact arguments.
        name = detail["arguments"]["args"][0]
        assert detail["result"] == {"index": name, "seconds": 0.1}
        status, audit = call(
            stack.base, "GET", f"/audit?action=job.retry&target_id={job['id']}", token=token
        )
        assert [e["data"]["task_id"] for e in audit["results"]] == [detail["task_id"]]


def test_arguments_json_cannot_hold_disable_retry_with_the_reason(stack):
    token = stack.login("admin")
    stack.shell(
        "import datetime\n"
        "from django.contrib.auth import get_user_model\n"
        "from forum.tasks import send_reminder\n"
        "user = get_user_model().objects.get(username='moderator')\n"
        "send_reminder.delay(user.pk, datetime.datetime(2030, 1, 2, 3, 4))\n"
    )
    failed = job_where(stack, token, "forum.tasks.send_reminder", "failed")
    assert failed["can_retry"] is False
    assert "args[1] is a datetime" in failed["retry_blocked_reason"]
    assert "InvalidRecipient" in failed["last_traceback"]  # the moderator has no address
    status, body = call(stack.base, "POST", f"/jobs/{failed['id']}/retry", token=token)
    assert status == 422 and body["code"] == "job_not_retryable"
    assert "datetime" in body["message"]


def test_a_pending_celery_task_is_cancelled_and_never_runs(stack):
    token = stack.login("admin")
    stack.shell(
        "from forum.tasks import notify_followers\n"
        "notify_followers.apply_async(('p-1', 'Hello'), countdown=2)\n"
    )
    pending = job_where(stack, token, "forum.tasks.notify_followers", "pending")
    assert pending["can_cancel"] is True
    status, body = call(stack.base, "POST", f"/jobs/{pending['id']}/cancel", token=token)
    assert status == 200, body
    assert body["status"] == "cancelled"
    # The worker drops the revoked task when its time comes, and says so.
    wait_for(
        "the worker to drop the revoked task",
        lambda: (
            "Discarding revoked task" in stack.log("celery") or "revoked" in stack.log("celery")
        ),
        timeout=20,
    )
    status, after = call(stack.base, "GET", f"/jobs/{pending['id']}", token=token)
    assert after["status"] == "cancelled" and after["attempts"] == 0


def test_stewards_own_work_runs_on_celery_when_the_product_uses_it(demo_stack, tmp_path):
    mail_dir = tmp_path / "mail"
    stack = demo_stack(
        celery=True,
        seed=("--jobs", "0"),
        STEWARD_OWN_JOBS_BACKEND="celery",
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        DJANGO_EMAIL_FILE_PATH=str(mail_dir),
    )
    token = stack.login("support")
    status, page = call(stack.base, "GET", "/accounts?q=member0001", token=token)
    account = page["results"][0]
    status, body = call(
        stack.base,
        "POST",
        f"/accounts/{account['id']}/actions",
        {"action": "send_password_reset"},
        token=token,
    )
    assert status == 200, body
    assert (body["job"]["backend"], body["job"]["kind"]) == (
        "celery",
        "steward.send_password_reset",
    )
    admin = stack.login("admin")

    def succeeded():
        job = call(stack.base, "GET", f"/jobs/{body['job']['id']}", token=admin)[1]
        return job if job["status"] == "succeeded" else None

    wait_for("the reset mail job", succeeded, timeout=30, interval=0.2)
    sent = "".join(path.read_text() for path in mail_dir.iterdir())
    assert "To: member0001@example.com" in sent
    assert "/accounts/reset/" in sent
