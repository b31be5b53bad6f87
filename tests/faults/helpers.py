"""What the fault tests share beyond the fixtures: simulated users and the delivery counts."""

import email
import re
import threading
import time
import uuid
from collections import Counter, defaultdict
from email import policy

import requests


def wait_for(condition, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Browser:
    """requests.Session with the site's CSRF and login, timing every answer."""

    TIMEOUT = 10

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.answers: list[tuple[str, str, int | str, float]] = []  # method, path, status or error, seconds
        self.unavailable: list[requests.Response] = []  # the 503s, to read

    def _csrf(self) -> str:
        return self.session.cookies.get("csrftoken", "")

    def request(self, method: str, path: str, **kwargs):
        started = time.monotonic()
        try:
            response = self.session.request(
                method, self.base_url + path, timeout=self.TIMEOUT, allow_redirects=False, **kwargs
            )
        except requests.RequestException as error:
            self.answers.append((method, path, type(error).__name__, time.monotonic() - started))
            return None
        self.answers.append((method, path, response.status_code, time.monotonic() - started))
        if response.status_code == 503:
            self.unavailable.append(response)
        return response

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, data):
        return self.request(
            "POST", path, data={**data, "csrfmiddlewaretoken": self._csrf()}, headers={"Referer": self.base_url + path}
        )

    def login(self, username: str):
        from tests.conftest import PASSWORD

        self.get("/accounts/login/")
        response = self.post("/accounts/login/", {"username": username, "password": PASSWORD})
        assert response is not None and response.status_code == 302, response and response.text[:500]

    def form_fields(self, path) -> dict | None:
        """The hidden fields the task page carries for a report: the task's version (the lead's
        period-report panel names it task_version) and the submission key. The simulated
        staff post them to the progress form's URL, which takes a report outside the cycle's
        review (a report a second is not what the period report is for)."""
        response = self.get(path)
        if response is None or response.status_code != 200:
            return None
        fields = {}
        for field, names in (("version", ("task_version", "version")), ("submission", ("submission",))):
            for name in names:
                match = re.search(rf'name="{name}" value="([^"]*)"', response.text)
                if match:
                    fields[field] = match.group(1)
                    break
        return fields if "version" in fields else None


class Staff(threading.Thread):
    """A member of staff who keeps reporting progress on their task and opening pages until
    told to stop; remembers which saves the site accepted (302 to the task page) and every
    answer with its time."""

    def __init__(self, base_url: str, username: str, task_id: int, pause: float = 0.2):
        super().__init__(name=f"staff-{username}", daemon=True)
        self.browser = Browser(base_url)
        self.username, self.task_id, self.pause = username, task_id, pause
        self.accepted: list[str] = []  # notes of saves answered 302
        self.accepted_at: list[float] = []  # and when (time.monotonic())
        self.unanswered: list[dict] = []  # saves answered 503 (or not at all): retried later
        self.stop = threading.Event()

    def run(self):
        self.browser.login(self.username)
        n, last_fields = 0, None
        while not self.stop.is_set():
            n += 1
            self.browser.get("/tasks/mine/")
            fields = self.browser.form_fields(f"/tasks/{self.task_id}/")
            if fields is None and last_fields is not None:
                # The page did not load: post the form still on screen, with a new key.
                fields = {**last_fields, "submission": uuid.uuid4().hex}
            last_fields = fields
            if fields is not None:
                note = f"{self.username}-第{n}次进展"
                data = {**fields, "status": "in_progress", "percent": str(n % 99 + 1), "note": note}
                response = self.browser.post(f"/tasks/{self.task_id}/report/", data)
                if response is not None and response.status_code == 302:
                    self.accepted.append(note)
                    self.accepted_at.append(time.monotonic())
                    # Only this person edits the task: the page would now show the next version.
                    last_fields = {**fields, "version": str(int(fields["version"]) + 1)}
                elif response is None or response.status_code == 503:
                    self.unanswered.append(data)
            self.browser.get("/notifications/")
            time.sleep(self.pause)


def bad_answers(browsers, limit: float = 10.0) -> list:
    """Every answer that is neither 2xx/3xx nor a clean 503, or took longer than `limit`."""
    bad = []
    for browser in browsers:
        for method, path, status, seconds in browser.answers:
            if not (isinstance(status, int) and (status < 400 or status == 503)) or seconds > limit:
                bad.append((method, path, status, round(seconds, 2)))
    return bad


def count_answers(browsers) -> Counter:
    return Counter(status for b in browsers for _m, _p, status, _s in b.answers)


def email_bodies(raw_messages: list[str]) -> list[tuple[str, str]]:
    """(recipient, plain text) of each email the filemail backend wrote (one or more per file)."""
    out = []
    for raw in raw_messages:
        for chunk in raw.split("-" * 79):
            chunk = chunk.strip()
            if not chunk:
                continue
            message = email.message_from_bytes(chunk.encode(), policy=policy.default)
            text = message.get_body(preferencelist=("plain",))
            out.append((message["To"], text.get_content() if text else ""))
    return out


def mentions(texts: list[str], heading: str) -> int:
    """How many of `texts` remind of the task `heading` is in: a line "…到期：<task>" (a
    reminder), not a 督办 message that names the same task (the ladder runs on working
    days beside the reminders)."""
    return sum(1 for text in texts if any("到期：" in line and heading in line for line in text.splitlines()))


def check_delivered_once(
    state: dict,
    headings: dict[int, str],
    robot_posts: list[str],
    emails: list[tuple[str, str]],
    staff_by_agency: dict[int, list[dict]],
    task_agency: dict[int, int],
) -> dict:
    """Each reminder about the given tasks exists once per recipient and channel, is SENT,
    made one inbox item, is in exactly one email to each recipient and one robot post."""
    rows = [d for d in state["deliveries"] if d["rule"] == "task_due" and d["object_id"] in headings]
    assert rows, "no reminder was written"
    assert {d["state"] for d in rows} == {"sent"}, Counter(d["state"] for d in rows)
    keys = Counter((d["object_id"], d["channel"], d["recipient_id"], d["robot_id"]) for d in rows)
    assert max(keys.values()) == 1
    by_channel = Counter(d["channel"] for d in rows)
    per_task_people = {t: len(staff_by_agency[a]) for t, a in task_agency.items() if t in headings}
    assert by_channel["inbox"] == by_channel["email"] == sum(per_task_people.values())
    assert by_channel["wecom"] == len(headings)

    # The reminders' inbox items only: on a working day the 督办 ladder writes to them too.
    inbox = Counter(
        (n["recipient_id"], n["task_id"])
        for n in state["notifications"]
        if n["rule"] == "task_due" and n["task_id"] in headings
    )
    assert len(inbox) == by_channel["inbox"] and set(inbox.values()) == {1}

    per_recipient = defaultdict(list)
    for to, text in emails:
        per_recipient[to].append(text)
    for task_id, heading in headings.items():
        for person in staff_by_agency[task_agency[task_id]]:
            assert mentions(per_recipient[f"{person['username']}@example.org"], heading) == 1, (person, heading)
        assert mentions(robot_posts, heading) == 1, heading
    return dict(by_channel)
