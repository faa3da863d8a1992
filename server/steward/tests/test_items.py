import base64
from datetime import timedelta

from django.utils import timezone

from steward.feeds import decode_cursor, encode_cursor
from steward.models import Item
from steward.tests.conftest import commits

QUEUES = "/api/v1/queues"
ITEMS = "/api/v1/items"


def test_queues_show_open_counts_and_oldest_open(moderator_client, make_queue, make_item):
    now = timezone.now()
    urgent = make_queue("Urgent", priority=10)
    calm = make_queue("Calm", priority=1)
    empty = make_queue("Empty", priority=5)
    make_item(queue=urgent, created_at=now - timedelta(hours=3), state=Item.State.APPROVED)
    make_item(queue=urgent, created_at=now - timedelta(hours=2))
    make_item(queue=urgent, created_at=now - timedelta(hours=1))
    make_item(queue=calm, created_at=now)

    response = moderator_client.get(QUEUES)
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert [q["id"] for q in body["results"]] == [urgent.id, empty.id, calm.id]
    by_id = {q["id"]: q for q in body["results"]}
    assert by_id[urgent.id]["open_count"] == 2
    assert by_id[urgent.id]["oldest_open_at"] == (now - timedelta(hours=2)).isoformat().replace(
        "+00:00", "Z"
    )
    assert by_id[empty.id]["open_count"] == 0
    assert by_id[empty.id]["oldest_open_at"] is None
    assert set(by_id[urgent.id]) >= {"id", "slug", "name", "priority", "updated_at"}


def test_item_shape(moderator_client, make_item):
    item = make_item(body_html="<script>alert(1)</script>", reports=["spam", "nsfw"])
    body = moderator_client.get(f"{ITEMS}/{item.id}").json()
    assert body["id"] == item.id
    assert body["queue"] == item.queue_id
    assert body["state"] == "open"
    assert body["version"] == 1
    assert body["content"] == {"title": item.title, "body_html": "<script>alert(1)</script>"}
    assert body["author"] == {
        "id": item.author.id,
        "username": item.author.username,
        "status": "active",
    }
    assert [r["reason"] for r in body["reports"]] == ["spam", "nsfw"]
    assert set(body["reports"][0]) == {"reason", "note", "reporter", "created_at"}
    assert body["object"] is None  # an item from before the registry
    assert body["claim"] is None
    assert body["created_at"] and body["updated_at"]


def test_missing_item_is_404(moderator_client):
    response = moderator_client.get(f"{ITEMS}/999999")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def read_feed(client, limit, **params):
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": limit, **params}
        if cursor:
            query["updated_after"] = cursor
        body = client.get(ITEMS, query).json()
        pages += 1
        seen.extend(row["id"] for row in body["results"])
        if not body["has_more"]:
            return seen, body["next_cursor"] or cursor, pages
        cursor = body["next_cursor"]


@commits
def test_delta_feed_pages_through_ties_without_skipping_or_repeating(
    moderator_client, make_queue, make_account
):
    queue, author = make_queue(), make_account()
    shared = timezone.now().replace(microsecond=0)
    rows = [
        Item(queue=queue, author=author, title=f"t{n}", created_at=shared, updated_at=shared)
        for n in range(230)
    ]
    rows += [
        Item(
            queue=queue,
            author=author,
            title=f"u{n}",
            created_at=shared,
            updated_at=shared + timedelta(microseconds=n % 3),
        )
        for n in range(40)
    ]
    Item.objects.bulk_create(rows)
    expected = list(Item.objects.order_by("feed_seq", "id").values_list("id", flat=True))

    seen, _, pages = read_feed(moderator_client, limit=7)
    assert seen == expected
    assert len(set(seen)) == 270
    assert pages == 39


@commits
def test_delta_feed_resumes_with_changes_after_the_cursor(moderator_client, make_item):
    base = timezone.now() - timedelta(hours=1)
    items = [make_item(updated_at=base + timedelta(seconds=n)) for n in range(5)]
    seen, cursor, _ = read_feed(moderator_client, limit=2)
    assert seen == [i.id for i in items]

    empty = moderator_client.get(ITEMS, {"updated_after": cursor}).json()
    assert empty == {"results": [], "next_cursor": None, "has_more": False, "total": None}

    Item.objects.filter(pk=items[1].pk).update(
        state=Item.State.REMOVED, version=2, updated_at=timezone.now()
    )
    delta = moderator_client.get(ITEMS, {"updated_after": cursor}).json()
    assert [row["id"] for row in delta["results"]] == [items[1].id]
    assert delta["results"][0]["state"] == "removed"
    assert delta["has_more"] is False
    assert delta["next_cursor"] != cursor


@commits
def test_delta_feed_filters_by_queue_and_includes_every_state(
    moderator_client, make_queue, make_item
):
    mine, other = make_queue(), make_queue()
    kept = [make_item(queue=mine, state=state) for state in Item.State.values]
    make_item(queue=other)
    body = moderator_client.get(ITEMS, {"queue": mine.id}).json()
    assert [row["id"] for row in body["results"]] == [i.id for i in kept]
    assert {row["state"] for row in body["results"]} == set(Item.State.values)


def test_cursor_is_opaque_but_stable():
    assert encode_cursor(123456789, 5) == encode_cursor(123456789, 5)
    assert "|" not in encode_cursor(123456789, 5)
    assert decode_cursor(encode_cursor(123456789, 5)) == (123456789, 5)


@commits
def test_first_page_of_a_feed_counts_the_whole_feed(moderator_client, make_item):
    for _ in range(5):
        make_item()
    first = moderator_client.get("/api/v1/items", {"limit": 2}).json()
    assert first["total"] == 5
    later = moderator_client.get(
        "/api/v1/items", {"limit": 2, "updated_after": first["next_cursor"]}
    ).json()
    assert later["total"] is None


@commits
def test_a_cursor_from_before_stamps_restarts_the_feed(moderator_client, make_item):
    items = [make_item() for _ in range(3)]
    old = base64.urlsafe_b64encode(f"{timezone.now().isoformat()}|{items[2].id}".encode())
    page = moderator_client.get(ITEMS, {"updated_after": old.decode().rstrip("=")}).json()
    assert [row["id"] for row in page["results"]] == [item.id for item in items]
    assert page["total"] == 3


def test_a_cursor_that_is_not_one_is_a_400(moderator_client):
    for bad in ["nonsense", encode_cursor(1, 2)[:-2], "MnwtMXwz"]:  # the last is "2|-1|3"
        response = moderator_client.get(ITEMS, {"updated_after": bad})
        assert response.status_code == 400, bad
        assert "updated_after" in response.json()["fields"]
