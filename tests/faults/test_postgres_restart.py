"""PostgreSQL stops for a few seconds under load and comes back: meanwhile every request
answers 503 with Retry-After (JSON on the API), never a 500; afterwards the same app
processes serve again, and nothing is half-written."""

import threading
import time
from collections import Counter

from tests.faults.conftest import FAULT
from tests.faults.helpers import Browser, Staff, bad_answers, count_answers

pytestmark = FAULT

DOWN_SECONDS = 5
# How long everyone may take to save again once PostgreSQL is back. Alone it takes about a
# second; under CI's parallel suite on 2 cores a request right after the restart can take
# seconds (each worker reconnects, the pages are cold), and a fixed 4 s window failed there.
RECOVERY_SECONDS = 30


def test_it_answers_503_while_postgres_restarts_then_recovers_with_nothing_half_written(stack):
    # given: the site (no restart of it below) and three people saving, one leader reading
    seed = stack.probe("seed", staff=2)
    stack.start_web()
    staff = [Staff(stack.base_url, s["username"], s["task"], pause=0.05) for s in seed["staff"][:3]]
    leader = Browser(stack.base_url)
    leader.login(seed["leader"]["username"])
    reading = threading.Event()

    def read():
        while not reading.is_set():
            leader.get("/dashboard/")
            leader.get("/api/v1/tasks/")
            time.sleep(0.1)

    reader = threading.Thread(target=read, daemon=True)
    for person in staff:
        person.start()
    reader.start()
    time.sleep(3)

    # when: the database goes down and comes back
    down_at = time.monotonic()
    stack.pg.stop("fast")
    time.sleep(DOWN_SECONDS)
    stack.pg.start()
    up_at = time.monotonic()

    def saved_again(person):
        return any(at > up_at for at in person.accepted_at)

    while not all(saved_again(p) for p in staff) and time.monotonic() < up_at + RECOVERY_SECONDS:
        time.sleep(0.2)
    recovered_in = time.monotonic() - up_at
    time.sleep(1)
    for person in staff:
        person.stop.set()
    reading.set()
    for thread in [*staff, reader]:
        thread.join(30)
    browsers = [leader] + [p.browser for p in staff]
    bad = bad_answers(browsers)
    answers = count_answers(browsers)
    # The saves that got no answer are sent again, as a person would: one update each.
    retried = Counter()
    for person in staff:
        for data in person.unanswered:
            response = person.browser.post(f"/tasks/{person.task_id}/report/", data)
            retried[response.status_code] += 1
    state = stack.probe("state")

    # then: no 500 and no hang; 503s while it was down, with Retry-After and a Chinese message
    assert bad == []
    assert answers[503] > 0
    page = next(r for b in browsers for r in b.unavailable if not r.url.endswith("/api/v1/tasks/"))
    assert page.headers["Retry-After"].isdigit() and "数据库暂时无法连接" in page.text and "Traceback" not in page.text
    api = next(r for r in leader.unavailable if r.url.endswith("/api/v1/tasks/"))
    assert api.json()["code"] == "database_unavailable" and api.headers["Retry-After"].isdigit()
    # the same processes serve again: every person saved after the restart
    for person in staff:
        assert saved_again(person), f"{person.username} saved nothing in {RECOVERY_SECONDS}s after the restart"
    assert set(retried) <= {302, 409}  # already saved, or not saved and the task moved on
    # nothing half-written: each accepted save once, no submission twice, and every task
    # follows its latest update with one version and one history row per update
    updates = state["updates"]
    notes = [u["note"] for u in updates]
    assert all(notes.count(note) == 1 for p in staff for note in p.accepted)
    keys = [u["submission_key"] for u in updates]
    assert len(keys) == len(set(keys))
    for person in staff:
        task = state["tasks"][str(person.task_id)]
        mine = [u for u in updates if u["task_id"] == person.task_id]
        assert mine and task["percent"] == mine[-1]["percent"]
        assert task["version"] == 1 + len(mine)
        assert task["history"] == 1 + len(mine)
    print(
        f"postgres down {up_at - down_at:.1f}s; everyone saved again {recovered_in:.1f}s after; "
        f"answers {dict(answers)}; saves {len(updates)}; "
        f"retried after {dict(retried)}"
    )
