"""Redis (cache and broker) goes away for ten seconds while staff work: every request still
answers, every accepted save is kept, and the reminders that fell due in the gap go out
once after Redis is back."""

import time

from tests.faults.conftest import FAULT
from tests.faults.helpers import (
    Browser,
    Staff,
    bad_answers,
    check_delivered_once,
    count_answers,
    email_bodies,
    wait_for,
)
from tests.notifications.webhook_server import FakeRobotServer

pytestmark = FAULT

GAP_SECONDS = 10


def test_it_keeps_answering_and_saving_while_redis_is_down_and_sends_gap_reminders_once(stack):
    # given: the site, a worker and beat (every job every 2 s) on the private Redis
    with FakeRobotServer() as robot:
        seed = stack.probe("seed", staff=2, robot_url=robot.wecom_url)
        # Exports always go through the queue, so the leader's export needs Redis.
        stack.start_web(EXPORT_INLINE_MAX_ROWS="0")
        stack.start_worker()
        stack.start_beat(BEAT_INTERVAL_SECONDS="2")
        staff = [Staff(stack.base_url, s["username"], s["task"]) for s in seed["staff"]]
        leader = Browser(stack.base_url)
        leader.login(seed["leader"]["username"])
        for person in staff:
            person.start()
        time.sleep(3)

        # when: Redis dies; meanwhile tasks fall due, the leader reads and exports
        stack.redis.stop()
        down_at = time.monotonic()
        gap_tasks = stack.probe("due_tasks", agency_ids=seed["agencies"], count=2, start=200)
        exported_in_gap = leader.post("/dashboard/exports/ledger/", {"year": ""})
        while time.monotonic() - down_at < GAP_SECONDS:
            leader.get("/dashboard/")
            leader.get("/api/v1/tasks/")
            leader.get("/notifications/")
            time.sleep(0.3)
        stack.redis.start()
        up_at = time.monotonic()
        gap = up_at - down_at
        time.sleep(3)
        for person in staff:
            person.stop.set()
        for person in staff:
            person.join(30)
        exported_after = leader.post("/dashboard/exports/ledger/", {"year": ""})
        # Beat's scans and dispatches go through again; one more of each, sent by hand, too.
        stack.send_job("notifications.jobs.scan_reminders")
        stack.send_job("notifications.jobs.dispatch_deliveries")

        headings = {task_id: f"故障演练任务{200 + i}" for i, task_id in enumerate(gap_tasks)}

        def all_sent():
            state = stack.probe("state")
            # The reminders only: on a working day the 督办 ladder also writes to these tasks' people.
            rows = [d for d in state["deliveries"] if d["rule"] == "task_due" and d["object_id"] in headings]
            # Per task: two people by inbox and email, the agency's robot once.
            return state if len(rows) == 5 * len(headings) and all(d["state"] == "sent" for d in rows) else None

        wait_for(all_sent, 90, "the gap's reminders to go out", every=2)
        time.sleep(6)  # three more beat rounds: nothing more may go out
        state = stack.probe("state")
        robot_posts = [r.body["text"]["content"] for r in robot.requests_for("wecom")]

    # then: every request answered, none with a 500 or after more than 10 s
    browsers = [leader] + [p.browser for p in staff]
    assert bad_answers(browsers) == []
    # The site kept working through the gap: saves were accepted while Redis was down.
    accepted = [note for p in staff for note in p.accepted]
    in_gap = sum(1 for p in staff for at in p.accepted_at if down_at < at < up_at)
    assert in_gap >= len(staff)
    assert sorted(u["note"] for u in state["updates"]) == sorted(accepted)
    for person in staff:
        assert [u["note"] for u in state["updates"] if u["task_id"] == person.task_id] == person.accepted
    # The export asked for in the gap says to try again; the one after is built.
    assert exported_in_gap.status_code in (302, 303) and exported_after.status_code in (302, 303)
    exports = sorted(state["exports"], key=lambda e: e["pk"])
    assert exports[0]["status"] == "failed" and "稍后重试" in exports[0]["error"]
    assert exports[1]["status"] in ("queued", "running", "done")
    # Each reminder that fell due in the gap: one row per channel and person, sent, once.
    staff_by_agency = {
        a: [s for s in seed["staff"] if s["username"].startswith(f"staff{i}")] for i, a in enumerate(seed["agencies"])
    }
    task_agency = {t: seed["agencies"][i // 2] for i, t in enumerate(gap_tasks)}
    channels = check_delivered_once(
        state, headings, robot_posts, email_bodies(stack.emails()), staff_by_agency, task_agency
    )
    print(
        f"redis gap {gap:.1f}s; answers {dict(count_answers(browsers))}; saves accepted {len(accepted)} "
        f"({in_gap} while Redis was down); "
        f"deliveries {channels}; robot posts {len(robot_posts)}"
    )
