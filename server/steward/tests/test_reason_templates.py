from steward.models import ReasonTemplate

URL = "/api/v1/reason-templates"


def test_lists_active_templates_by_scope(moderator_client, db):
    ReasonTemplate.objects.create(
        scope="decision", code="spam", label="Spam", text="Removed as spam.", actions=["remove"]
    )
    ReasonTemplate.objects.create(scope="account", code="abuse", label="Abuse", position=1)
    ReasonTemplate.objects.create(scope="decision", code="old", label="Old", active=False)

    body = moderator_client.get(URL).json()
    assert body["next_cursor"] is None
    assert [t["code"] for t in body["results"]] == ["abuse", "spam"]
    spam = moderator_client.get(URL, {"scope": "decision"}).json()["results"]
    assert len(spam) == 1
    assert {k: spam[0][k] for k in ["scope", "code", "label", "text", "actions"]} == {
        "scope": "decision",
        "code": "spam",
        "label": "Spam",
        "text": "Removed as spam.",
        "actions": ["remove"],
    }


def test_unknown_scope_is_400(moderator_client):
    response = moderator_client.get(URL, {"scope": "weird"})
    assert response.status_code == 400
    assert "scope" in response.json()["fields"]
