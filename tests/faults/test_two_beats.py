"""Two beat processes by mistake (a second `celery beat` on another machine, a deploy that
overlaps): every scheduled job fires twice as often, and still each reminder goes out once,
the day's snapshots are written once, and no job fails."""

import re
import time
from collections import Counter

from tests.faults.conftest import FAULT
from tests.faults.helpers import check_delivered_once, email_bodies, wait_for
from tests.notifications.webhook_server import FakeRobotServer

pytestmark = FAULT

RUN_SECONDS = 20


def test_two_beats_firing_every_job_deliver_each_reminder_once(stack):
    # given: reminders due today, a worker, and two beats running every job every 2 s
    with FakeRobotServer() as robot:
        seed = stack.probe("seed", staff=2, robot_url=robot.wecom_url, reminder_tasks_per_agency=2)
        stack.start_worker()

        # when
        beats = [stack.start_beat(BEAT_INTERVAL_SECONDS="2") for _ in range(2)]
        time.sleep(RUN_SECONDS)
        for beat in beats:
            stack.kill(beat)
        wait_for(
            lambda: {d["state"] for d in stack.probe("state")["deliveries"]} == {"sent"},
            30,
            "every reminder to be sent",
            every=1,
        )
        time.sleep(2)
        state = stack.probe("state")
        robot_posts = [r.body["text"]["content"] for r in robot.requests_for("wecom")]
    worker_log = stack.logs("worker")

    # then: both beats fired every job, several times
    runs = Counter(re.findall(r"Task ([\w.]+)\[[0-9a-f-]+\] succeeded", worker_log))
    for job in (
        "notifications.jobs.scan_reminders",
        "notifications.jobs.dispatch_deliveries",
        "dashboards.jobs.rollup_snapshots",
        "accounts.jobs.purge_expired_sessions",
    ):
        assert runs[job] >= 2 * (RUN_SECONDS // 2) * 0.6, (job, runs[job])
    assert " raised unexpected" not in worker_log and "Traceback" not in worker_log
    # each reminder once, on every channel
    headings = {task_id: f"故障演练任务{100 + i}" for i, task_id in enumerate(seed["due_tasks"])}
    staff_by_agency = {
        a: [s for s in seed["staff"] if s["username"].startswith(f"staff{i}")] for i, a in enumerate(seed["agencies"])
    }
    task_agency = {t: seed["agencies"][i // 2] for i, t in enumerate(seed["due_tasks"])}
    channels = check_delivered_once(
        state, headings, robot_posts, email_bodies(stack.emails()), staff_by_agency, task_agency
    )
    assert len(robot_posts) == 2
    # the rollup's rows for the day exist once, however many runs wrote them
    keys = Counter(tuple(s.values()) for s in state["snapshots"])
    assert keys and max(keys.values()) == 1
    print(
        f"two beats for {RUN_SECONDS}s: job runs {dict(runs)}; deliveries {channels}; "
        f"robot posts {len(robot_posts)}; snapshot rows {len(keys)}"
    )
