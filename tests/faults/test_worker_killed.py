"""A worker killed (SIGKILL) while a robot message is on the wire: nothing is said twice.
The message it had handed over is marked 发送中断 for an admin to check; the rest of its
batch, never handed over, goes out through the next worker once the lease has passed."""

import time

from tests.faults.conftest import FAULT
from tests.faults.helpers import check_delivered_once, email_bodies, wait_for
from tests.notifications.webhook_server import FakeRobotServer

pytestmark = FAULT

LEASE_SECONDS = 4


def test_a_worker_killed_mid_send_says_each_reminder_once_and_flags_the_interrupted_one(stack):
    # given: reminders due for two agencies, each with a group robot that will hold the
    # first message it gets without answering
    env = {"REMINDER_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS), "CELERY_VISIBILITY_TIMEOUT": "8"}
    with FakeRobotServer() as robot:
        seed = stack.probe("seed", staff=2, robot_url=robot.wecom_url, reminder_tasks_per_agency=2)
        robot.fail_next(1, delay=120)
        first = stack.start_worker(**env)

        # when: the worker scans and sends; while the robot holds its message, it is killed
        stack.send_job("notifications.jobs.scan_reminders")
        wait_for(lambda: robot.requests_for("wecom"), 60, "the worker to reach the robot")
        stack.kill(first)
        killed = stack.probe("state")
        stack.start_worker(**env)
        time.sleep(LEASE_SECONDS + 1)
        stack.send_job("notifications.jobs.dispatch_deliveries")

        def settled():
            state = stack.probe("state")
            states = {d["state"] for d in state["deliveries"]}
            return state if states <= {"sent", "interrupted"} and "interrupted" in states else None

        state = wait_for(settled, 60, "the next worker to finish the batch", every=1)
        time.sleep(3)
        stack.send_job("notifications.jobs.dispatch_deliveries")  # and again: nothing more goes out
        time.sleep(3)
        state = stack.probe("state")
        robot_posts = [r.body["text"]["content"] for r in robot.requests_for("wecom")]

    # then: at the kill, the held message's rows were handed over, still 发送中
    held = [d for d in killed["deliveries"] if d["state"] == "sending" and d["handed_over_at"]]
    assert held and {d["channel"] for d in held} == {"wecom"}
    # afterwards they are 发送中断 with the reason for the admin, and were not sent again
    interrupted = [d for d in state["deliveries"] if d["state"] == "interrupted"]
    assert [d["pk"] for d in interrupted] == [d["pk"] for d in held]
    assert {d["last_error"] for d in interrupted} == {"发送中断，可能已送达，请核实后手动重发"}
    assert len(robot_posts) == 2  # the held one, and the other agency's
    # every other reminder went out once; every reminder reached its robot exactly once
    headings = {task_id: f"故障演练任务{100 + i}" for i, task_id in enumerate(seed["due_tasks"])}
    staff_by_agency = {
        a: [s for s in seed["staff"] if s["username"].startswith(f"staff{i}")] for i, a in enumerate(seed["agencies"])
    }
    task_agency = {t: seed["agencies"][i // 2] for i, t in enumerate(seed["due_tasks"])}
    for d in state["deliveries"]:
        if d["state"] == "interrupted":
            d["state"] = "sent"  # it did reach the robot: counted as said once below
    channels = check_delivered_once(
        state, headings, robot_posts, email_bodies(stack.emails()), staff_by_agency, task_agency
    )
    print(
        f"killed mid-send: {len(held)} robot deliveries interrupted, not resent; "
        f"others {channels}; robot posts {len(robot_posts)}"
    )
