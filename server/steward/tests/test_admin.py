"""The Django admin still works beside Steward: every model is registered, its pages
load, and edits there move the delta feeds and reach the audit log."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from steward.models import AuditEvent, Job


@pytest.fixture
def staff_browser(make_user):
    user = make_user("root", is_superuser=True, is_staff=True)
    browser = Client()
    browser.force_login(user)
    return browser


def test_every_model_is_registered():
    for model in apps.get_app_config("steward").get_models():
        assert admin.site.is_registered(model), model


@pytest.mark.parametrize("model", list(apps.get_app_config("steward").get_models()))
def test_changelists_and_add_pages_load(staff_browser, make_item, model):
    make_item()
    Job.objects.create(kind="send_email", status="failed", last_traceback="Traceback ...")
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert staff_browser.get(changelist).status_code == 200
    row = model.objects.first()
    if row is not None:
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])
        assert staff_browser.get(change).status_code == 200


def test_editing_an_item_in_the_admin_bumps_version_and_audits(staff_browser, make_item):
    item = make_item()
    before = item.updated_at
    url = reverse("admin:steward_item_change", args=[item.pk])
    response = staff_browser.post(
        url,
        {
            "queue": item.queue_id,
            "author": item.author_id,
            "title": "Edited title",
            "body_html": item.body_html,
            "state": "open",
            "version": item.version,
            "created_at_0": item.created_at.strftime("%Y-%m-%d"),
            "created_at_1": item.created_at.strftime("%H:%M:%S"),
            "updated_at_0": item.updated_at.strftime("%Y-%m-%d"),
            "updated_at_1": item.updated_at.strftime("%H:%M:%S"),
            "reports-TOTAL_FORMS": "0",
            "reports-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    item.refresh_from_db()
    assert item.title == "Edited title"
    assert item.version == 2
    assert item.updated_at > before
    event = AuditEvent.objects.get(action="item.admin_change")
    assert event.target_id == str(item.pk) and "title" in event.data["fields"]
