"""bench/py/admin_side.py, the Django admin side of the benchmarks (bench/README.md), run
as the orchestrators run it, against the demo product served for real: its numbers come
from the pages it reads, and its decisions reach the database and the audit log."""

import json
import subprocess
import sys
from pathlib import Path

from steward.tests import live

ADMIN_SIDE = Path(__file__).resolve().parents[3] / "bench" / "py" / "admin_side.py"

# The admin's search: every word in one of the search fields, as icontains.
EXPECTED_MATCHES = """
import sys
from django.db.models import Q
from steward.models import AuditEvent
for words in sys.stdin.read().splitlines():
    found = AuditEvent.objects.all()
    for word in words.split():
        found = found.filter(
            Q(actor_username__icontains=word) | Q(action__icontains=word)
            | Q(target_type__icontains=word) | Q(target_id__icontains=word)
            | Q(data__icontains=word)
        )
    print(found.count())
"""


def admin_side(stack, *args):
    result = subprocess.run(
        [sys.executable, str(ADMIN_SIDE), args[0], "--url", stack.site]
        + ["--username", "admin", "--password", live.PASSWORD, *args[1:]],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_search_and_action_against_the_real_admin(demo_stack, tmp_path):
    stack = demo_stack(items=40, seed=("--audit", "3000"))
    queries = ["spam", "harassment moderator", "Removed as spam", "nothing-like-this", "item"]
    words = tmp_path / "words.txt"
    words.write_text("\n".join(queries) + "\n")

    found = admin_side(stack, "search", "--words-file", str(words), "--queries", "7")
    counted = subprocess.run(
        [sys.executable, str(live.SERVER_DIR / "manage.py"), "shell", "-v", "0", "-c"]
        + [EXPECTED_MATCHES],
        input="\n".join(queries + queries[:2]),
        env=stack.env,
        cwd=live.SERVER_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    expected = [int(n) for n in counted]
    assert found["queries"] == queries + queries[:2] and found["failed"] == []
    assert found["matches"] == expected
    assert found["rows_shown"] == [min(100, n) for n in expected]
    assert 0 in expected and any(n > 100 for n in expected)
    assert len(found["samples_ms"]) == 7 and all(ms > 0 for ms in found["samples_ms"])

    newest_open = stack.shell(
        "from steward.models import Item\n"
        "print(','.join(str(i) for i in Item.objects.filter(state='open')"
        ".order_by('-id').values_list('id', flat=True)[:3]))"
    ).split()[-1]
    ids = [int(i) for i in newest_open.split(",")]
    decided = admin_side(stack, "action", "--item-ids", newest_open, "--action", "remove")
    assert decided["verified"] == decided["decided"] == decided["items"] == 3
    assert decided["refused"] == decided["failed"] == [] and decided["seen_version_posted"] == 3
    assert len(decided["samples_ms"]) == 3
    states = stack.shell(
        "from steward.models import Item\n"
        f"print(sorted(Item.objects.filter(pk__in={ids}).values_list('state', 'version')))"
    ).split("\n")[-2]
    assert states == str([("removed", 2)] * 3)

    # Again: they left the open list, so nothing is decided, and nothing is verified.
    again = admin_side(stack, "action", "--item-ids", newest_open, "--action", "approve")
    assert (again["verified"], again["decided"]) == (0, 0)
    assert [entry["id"] for entry in again["refused"]] == ids
