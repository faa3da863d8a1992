#!/usr/bin/env python3
"""The Django admin side of issue 16's benchmarks: the real admin pages, signed in as a
staff user, over HTTP, as a browser uses them. The orchestrators (scripts/bench.sh) run
it once per round and read one JSON object on stdout; progress and errors go to stderr.

    admin_side.py search --url URL --username U --password P --words-file F --queries N
    admin_side.py action --url URL --username U --password P --item-ids 1,2,3 --action approve

Both sign in first through the admin's own login form (GET /admin/login/ for the CSRF
cookie and token, then POST), on one keep-alive session (requests), untimed.

search: the audit log's changelist search, /admin/steward/auditevent/?q=WORDS, for each
line of the words file in order (cycled to N queries): the time from sending the request
to the last byte of the rendered page, the rows the page shows and the count of matches
it states ("123 audit events" under the list).

    {"samples_ms": [...], "rows_shown": [...], "matches": [...], "queries": [...],
     "failed": []}

A request that fails (an error status, or no answer: gunicorn kills a worker that takes
longer than its --timeout, 30 s by default, which 10M events come near) is listed in
"failed" with its query and the time it took to fail, and left out of the samples.

action: scenario 2(a), one decision as a moderator makes it in the admin. The item
changelist of open items is open in the "browser" (GET, untimed); then for each item: POST
that page's action form with the item ticked, the decision's action chosen and every
hidden field the page holds (its CSRF token, each row's seen version), as a browser
submits it, follow the redirect and read the changelist rendered again: that round trip
is one sample, and its page is the one the next POST is made from. Afterwards, untimed,
the audit log is read to verify that each item has an item.decide event by this user,
written during this run.

    {"samples_ms": [...], "verified": 3, "items": 3, "decided": 3, "refused": [],
     "failed": [], "unverified": [], "seen_version_posted": 3}

"decided" counts the round trips whose page said so ("Removed 1 item."), "refused" the
others with the page's messages (a stale version, a claim, an item not in the list),
"verified" the items the audit log confirms.

Items the page does not show are posted all the same (the admin acts on any id sent) but
without a seen version, so the decision takes the version read at the time; pass the
items at the top of the list (the newest open ones) to keep every POST a browser's.
`--self-check` is not needed: steward/tests/test_admin_side.py runs both against a live
server in the server's test suite.
"""

import argparse
import json
import re
import sys
import time
from html.parser import HTMLParser
from urllib.parse import urlencode

import requests

AUDIT_CHANGELIST = "/admin/steward/auditevent/"
ITEM_CHANGELIST = "/admin/steward/item/"
DECISIONS = ("approve", "remove", "escalate", "ignore")
PER_PAGE = 100  # the admin's list_per_page


def main(argv=None):
    args = parse_args(argv)
    session = AdminSession(args.url, args.timeout)
    session.sign_in(args.username, args.password)
    if args.command == "search":
        result = search(session, read_words(args.words_file), args.queries)
    else:
        result = act(session, args.username, args.item_ids, args.action, args.changelist_query)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("search", "action"):
        command = commands.add_parser(name)
        command.add_argument("--url", required=True, help="the server, http://127.0.0.1:8000")
        command.add_argument("--username", required=True, help="a staff user")
        command.add_argument("--password", required=True)
        command.add_argument("--timeout", type=float, default=120, help="per request (s)")
    search_command = commands.choices["search"]
    search_command.add_argument("--words-file", required=True, help="one query per line")
    search_command.add_argument("--queries", type=int, required=True, help="how many to run")
    action_command = commands.choices["action"]
    action_command.add_argument("--item-ids", required=True, type=ids, help="1,2,3")
    action_command.add_argument("--action", required=True, choices=DECISIONS)
    action_command.add_argument(
        "--changelist-query",
        default="state__exact=open",
        help="the item list the moderator works from (default: open items)",
    )
    return parser.parse_args(argv)


def ids(text):
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of ids: {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("no item ids")
    return values


def read_words(path):
    with open(path, encoding="utf-8") as lines:
        words = [line.strip() for line in lines if line.strip()]
    if not words:
        sys.exit(f"admin_side: {path} holds no words")
    return words


class AdminSession:
    """One browser: a keep-alive session with the admin's cookies."""

    def __init__(self, url, timeout):
        self.base = url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "steward-bench-admin-side"

    def get(self, path, params=None):
        response = self.http.get(self.base + path, params=params, timeout=self.timeout)
        response.raise_for_status()
        return response

    def post_form(self, path, data):
        """POST as a browser submits a form: its fields, with the page as Referer and the
        site as Origin (Django's CSRF check reads them), then follow the redirect."""
        response = self.http.post(
            self.base + path,
            data=data,
            headers={"Referer": self.base + path, "Origin": self.base},
            timeout=self.timeout,
        )
        response.raise_for_status()
        return response

    def sign_in(self, username, password):
        path = "/admin/login/?next=/admin/"
        form = Page(self.get(path).text).form("login-form")
        data = [(k, v) for k, v in form.fields if k not in ("username", "password")]
        data += [("username", username), ("password", password)]
        page = Page(self.post_form(path, data).text)
        if "sessionid" not in self.http.cookies or page.has_form("login-form"):
            errors = " ".join(page.errors) or "the login page came back"
            sys.exit(f"admin_side: signing in to {self.base}/admin/ as {username} failed: {errors}")


def search(session, words, queries):
    samples, rows_shown, matches, asked, failed = [], [], [], [], []
    for n in range(queries):
        words_typed = words[n % len(words)]
        started = time.perf_counter()
        try:
            # requests reads the whole body before returning (no streaming): the page
            # rendered.
            response = session.get(AUDIT_CHANGELIST, params={"q": words_typed})
        except requests.RequestException as error:
            # A page that never came (gunicorn kills a worker silent for --timeout
            # seconds, 30 by default): kept apart from the samples, never dropped.
            elapsed = round((time.perf_counter() - started) * 1000, 3)
            failed.append({"query": words_typed, "error": str(error), "after_ms": elapsed})
            print(
                f"admin_side: q={words_typed!r} failed after {elapsed} ms: {error}", file=sys.stderr
            )
            continue
        samples.append(round((time.perf_counter() - started) * 1000, 3))
        page = Page(response.text)
        if page.result_count is None:
            sys.exit(f"admin_side: no result count on the page for q={words_typed!r}")
        rows_shown.append(len(page.rows))
        matches.append(page.result_count)
        asked.append(words_typed)
    return {
        "samples_ms": samples,
        "rows_shown": rows_shown,
        "matches": matches,
        "queries": asked,
        "failed": failed,
    }


def act(session, username, item_ids, action, changelist_query):
    path = ITEM_CHANGELIST + "?" + changelist_query
    before = newest_audit_id(session)
    page = Page(session.get(path).text)
    choice = f"{action}_selected"
    samples, refused, failed, decided, seen_posted = [], [], [], 0, 0
    for item_id in item_ids:
        form = page.form("changelist-form")
        if choice not in form.selects.get("action", []):
            sys.exit(f"admin_side: the item changelist offers no {choice!r} to {username}")
        data = form.fields_with(action=choice, selected=item_id)
        seen_posted += any(name == f"_seen_version_{item_id}" for name, _ in data)
        started = time.perf_counter()
        try:
            response = session.post_form(path, data)
        except requests.RequestException as error:
            elapsed = round((time.perf_counter() - started) * 1000, 3)
            failed.append({"id": item_id, "error": str(error), "after_ms": elapsed})
            print(f"admin_side: item {item_id} failed after {elapsed} ms: {error}", file=sys.stderr)
            page = Page(session.get(path).text)  # the browser loads the list again
            continue
        samples.append(round((time.perf_counter() - started) * 1000, 3))
        if not response.history or response.history[0].status_code != 302:
            sys.exit(f"admin_side: the action on item {item_id} was not redirected")
        page = Page(response.text)
        if not page.has_form("changelist-form"):
            sys.exit(f"admin_side: no changelist after the action on item {item_id}")
        success = [text for level, text in page.messages if "success" in level]
        warnings = [text for level, text in page.messages if "warning" in level]
        if success:
            decided += 1
        else:
            # No message at all: the item is not in the list the action applied to (the
            # changelist's filter), e.g. decided already.
            refused.append({"id": item_id, "messages": warnings or ["(not in the list)"]})
    verified = verify(session, username, item_ids, before)
    return {
        "samples_ms": samples,
        "verified": len(verified),
        "items": len(item_ids),
        "decided": decided,
        "refused": refused,
        "failed": failed,
        "unverified": [item_id for item_id in item_ids if item_id not in verified],
        "seen_version_posted": seen_posted,
    }


def newest_audit_id(session):
    rows = Page(session.get(AUDIT_CHANGELIST).text).rows  # newest first
    return int(rows[0]["id"]) if rows else 0


def verify(session, username, item_ids, after_id):
    """The items with an item.decide event by `username` newer than `after_id`, read from
    the audit log's changelist (a page of up to 100 items at a time)."""
    verified = set()
    for start in range(0, len(item_ids), PER_PAGE):
        batch = item_ids[start : start + PER_PAGE]
        params = {
            "action__exact": "item.decide",
            "actor_username__exact": username,
            "target_type__exact": "item",
            "target_id__in": ",".join(str(i) for i in batch),
            "id__gt": str(after_id),
        }
        page = Page(session.get(AUDIT_CHANGELIST + "?" + urlencode(params)).text)
        verified.update(int(row["target_id"]) for row in page.rows)
    return verified


class Form:
    def __init__(self):
        self.fields = []  # (name, value) of the hidden and text inputs, in page order
        self.checkboxes = []  # (name, value)
        self.selects = {}  # name -> [option values]
        self.buttons = []  # (name, value) of named submit buttons

    def fields_with(self, action, selected):
        """What a browser submits after ticking one row, choosing the action and pressing
        Go: every field (the token, select_across, each row's seen version), the action,
        the ticked box and the button's own name and value (index)."""
        data = [(name, value) for name, value in self.fields if name != "action"]
        data.append(("action", action))
        data.append(("_selected_action", str(selected)))
        data.extend(self.buttons[:1])
        return data


class Page(HTMLParser):
    """What the bench reads off an admin page: its forms, the rows of its result list
    (cell text by field name), the match count under the list, messages and errors."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.forms = {}
        self.rows = []
        self.messages = []  # (level classes, text)
        self.errors = []
        self.result_count = None
        self._form = None
        self._select = None
        self._in_results = False
        self._row = None
        self._cell = None
        self._text = None
        self._text_kind = None
        self._lists = []  # the classes of the <ul>s open around the parser
        self.feed(html)
        self.close()

    def form(self, form_id):
        if form_id not in self.forms:
            sys.exit(f"admin_side: the page has no form {form_id!r}")
        return self.forms[form_id]

    def has_form(self, form_id):
        return form_id in self.forms

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = attrs.get("class") or ""
        if tag == "form" and attrs.get("id"):
            self._form = self.forms.setdefault(attrs["id"], Form())
        elif tag == "input" and self._form is not None and attrs.get("name"):
            kind = (attrs.get("type") or "text").lower()
            pair = (attrs["name"], attrs.get("value") or "")
            if kind == "checkbox":
                self._form.checkboxes.append(pair)
            elif kind not in ("submit", "button", "image", "file", "reset"):
                self._form.fields.append(pair)
        elif tag == "select" and self._form is not None:
            self._select = self._form.selects.setdefault(attrs.get("name"), [])
        elif tag == "option" and self._select is not None:
            self._select.append(attrs.get("value") or "")
        elif tag == "button" and self._form is not None and attrs.get("name"):
            self._form.buttons.append((attrs["name"], attrs.get("value") or ""))
        elif tag == "table" and attrs.get("id") == "result_list":
            self._in_results = True
        elif tag == "tr" and self._in_results:
            self._row = {}
        elif tag in ("td", "th") and self._row is not None:
            field = next((c[6:] for c in classes.split() if c.startswith("field-")), None)
            if field:
                self._cell = field
                self._start_text("cell")
        elif tag == "p" and "paginator" in classes.split():
            self._start_text("paginator")
        elif tag == "li" and self._text_kind is None and "messagelist" in self._lists[-1:]:
            self._start_text(("message", classes))
        elif tag in ("p", "li") and "errornote" in classes.split():
            self._start_text("error")
        if tag == "ul":
            self._lists.append(classes)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "table" and self._in_results:
            self._in_results = False
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.rows.append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row[self._cell] = self._end_text()
            self._cell = None
        elif tag == "p" and self._text_kind == "paginator":
            # "1 2 3 ... 9999 123456 audit events": the number before the model's name.
            count = re.search(r"(\d[\d,]*)\s+\D*$", self._end_text())
            if count:
                self.result_count = int(count.group(1).replace(",", ""))
        elif tag == "li" and isinstance(self._text_kind, tuple):
            self.messages.append((self._text_kind[1], self._end_text()))
        elif tag in ("p", "li") and self._text_kind == "error":
            self.errors.append(self._end_text())
        if tag == "ul" and self._lists:
            self._lists.pop()

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def _start_text(self, kind):
        self._text, self._text_kind = [], kind

    def _end_text(self):
        text = " ".join("".join(self._text or []).split())
        self._text, self._text_kind = None, None
        return text


if __name__ == "__main__":
    sys.exit(main())
