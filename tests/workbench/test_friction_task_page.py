"""Everyday friction on the task page (issue 19): the message after a save or a conflict is
where the user's eyes are, 进行中 at 100 % asks whether to request close-out instead, and an
overdue time node says so."""

import datetime
import re

import pytest
import time_machine

from supervision.choices import CloseOutState
from tasks.choices import TaskStatus
from tasks.models import Milestone, ProgressUpdate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(datetime.datetime(2026, 11, 24, 4, 0, tzinfo=datetime.UTC), tick=False):
        yield


def at(task, status, percent, author):
    ProgressUpdate(task=task, author=author, status=status, percent=percent, note="起点").save()
    task.refresh_from_db()
    return task


def focus_targets(html: str) -> list[str]:
    """The opening tags of the elements the page's JS focuses (data-focus-message)."""
    return re.findall(r"<[^>]*\bdata-focus-message\b[^>]*>", html)


def report(client, task, **data):
    return client.post(f"/tasks/{task.pk}/report/", {"version": task.version, **data})


def test_a_saved_report_lands_on_the_message_which_the_page_focuses(client, task, staff_a):
    # given
    task = at(task, TaskStatus.IN_PROGRESS, 40, staff_a)
    client.force_login(staff_a)
    # when
    response = report(client, task, status=TaskStatus.IN_PROGRESS, percent=50, note="完成一半")
    # then the redirect points at the message, and the page marks it to take the focus
    assert response.status_code == 302
    assert response["Location"].endswith(f"/tasks/{task.pk}/#task-message")
    html = client.get(response["Location"]).content.decode()
    (target,) = focus_targets(html)
    assert 'id="task-message"' in target and 'tabindex="-1"' in target and 'role="status"' in target
    message = html[html.index('id="task-message"') :]
    assert message[: message.index("</ul>")].count("进展已保存。") == 1
    assert "js/task_page.js" in html


def test_a_conflict_is_the_focused_message(client, task, staff_a):
    # given someone saved after this form was opened
    stale = task.version
    task = at(task, TaskStatus.IN_PROGRESS, 40, staff_a)
    client.force_login(staff_a)
    # when
    response = client.post(
        f"/tasks/{task.pk}/report/", {"version": stale, "status": TaskStatus.IN_PROGRESS, "percent": 60}
    )
    # then the conflict is the first thing the page focuses
    assert response.status_code == 409
    targets = focus_targets(response.content.decode())
    assert targets and 'id="conflict"' in targets[0] and 'role="alert"' in targets[0]


def test_in_progress_at_100_asks_whether_to_request_close_out_and_saves_nothing(client, task, staff_a):
    task = at(task, TaskStatus.IN_PROGRESS, 80, staff_a)
    client.force_login(staff_a)

    response = report(client, task, status=TaskStatus.IN_PROGRESS, percent=100, note="基本完成")

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="at-full"' in focus_targets(html)[0]
    assert "请选择：申请销号，或仍保持“进行中”" in html
    assert 'value="done"' in html and 'value="keep"' in html
    task.refresh_from_db()
    assert (task.status, task.percent, task.progress_updates.count()) == (TaskStatus.IN_PROGRESS, 80, 1)


def test_choosing_close_out_marks_the_task_done_and_files_the_close_out(client, task, staff_a):
    task = at(task, TaskStatus.IN_PROGRESS, 80, staff_a)
    client.force_login(staff_a)

    response = report(
        client, task, status=TaskStatus.IN_PROGRESS, percent=100, note="全部完成，材料已上传", at_full="done"
    )

    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.percent) == (TaskStatus.DONE, 100)
    assert task.close_outs.filter(state=CloseOutState.PENDING).count() == 1


def test_choosing_to_stay_in_progress_keeps_it_at_100(client, task, staff_a):
    task = at(task, TaskStatus.IN_PROGRESS, 80, staff_a)
    client.force_login(staff_a)

    response = report(client, task, status=TaskStatus.IN_PROGRESS, percent=100, note="收尾中", at_full="keep")

    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.percent) == (TaskStatus.IN_PROGRESS, 100)
    assert not task.close_outs.exists()


def test_a_note_on_a_task_already_in_progress_at_100_is_not_asked_again(client, task, staff_a):
    task = at(task, TaskStatus.IN_PROGRESS, 100, staff_a)
    client.force_login(staff_a)

    response = report(client, task, status=TaskStatus.IN_PROGRESS, percent=100, note="验收材料整理中")

    assert response.status_code == 302
    assert task.progress_updates.count() == 2


def test_an_overdue_milestone_is_marked_on_the_task_page_and_in_the_list(client, task, staff_a):
    # given one open node past its date, one done past its date, one still ahead
    late = Milestone.objects.create(task=task, due_on=datetime.date(2026, 11, 1), text="完成摸底调查")
    Milestone.objects.create(
        task=task, due_on=datetime.date(2026, 10, 1), text="制定方案", done_on=datetime.date(2026, 9, 30)
    )
    Milestone.objects.create(task=task, due_on=datetime.date(2026, 12, 20), text="总结评估")
    client.force_login(staff_a)
    # when
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    listing = client.get("/tasks/mine/").content.decode()
    # then only the open late node carries 已逾期
    assert page.count('data-testid="milestone-overdue"') == 1
    item = page[page.index(f'id="milestone-{late.pk}"') :]
    assert "已逾期" in item[: item.index("</li>")]
    row = listing[listing.index("完成摸底调查") - 300 :]
    assert 'data-testid="milestone-overdue">已逾期<' in row[: row.index("</tr>")]


def test_no_badge_when_the_next_node_is_ahead(client, task, staff_a):
    Milestone.objects.create(task=task, due_on=datetime.date(2026, 12, 20), text="总结评估")
    client.force_login(staff_a)
    assert 'data-testid="milestone-overdue"' not in client.get("/tasks/mine/").content.decode()
    assert 'data-testid="milestone-overdue"' not in client.get(f"/tasks/{task.pk}/").content.decode()


def test_the_task_text_comes_before_the_report_form(client, task, staff_a):
    client.force_login(staff_a)
    html = client.get(f"/tasks/{task.pk}/").content.decode()
    assert html.index('id="task-text"') < html.index("<form", html.index('class="task-layout"'))


# --- The same question on the lead's period report (周期报送), the form lead staff use ---------


def period_report(client, task, action="submit", **data):
    task.refresh_from_db()
    fields = {
        "task_version": task.version,
        "report_version": "",
        "progress": "全部工作已完成",
        "problems": "",
        "next_steps": "",
        "status": TaskStatus.IN_PROGRESS,
        "percent": 100,
        "action": action,
        **data,
    }
    return client.post(f"/supervision/tasks/{task.pk}/report/", fields)


@pytest.fixture
def lead_at_80(task, staff_a):
    return at(task, TaskStatus.IN_PROGRESS, 80, staff_a)


def test_the_period_report_asks_too_and_submits_nothing(client, lead_at_80, staff_a):
    from supervision.models import PeriodReport

    client.force_login(staff_a)
    page = client.get(f"/tasks/{lead_at_80.pk}/").content.decode()
    assert 'id="at-full"' not in page  # not asked before anything is sent

    response = period_report(client, lead_at_80)

    assert response.status_code == 400
    assert 'id="at-full"' in focus_targets(response.content.decode())[0]
    lead_at_80.refresh_from_db()
    assert (lead_at_80.status, lead_at_80.percent) == (TaskStatus.IN_PROGRESS, 80)
    assert not PeriodReport.objects.filter(task=lead_at_80).exclude(state="draft").exists()


def test_a_period_report_draft_is_not_asked(client, lead_at_80, staff_a):
    client.force_login(staff_a)
    assert period_report(client, lead_at_80, action="draft").status_code == 302


def test_the_period_report_choosing_close_out_files_it(client, lead_at_80, staff_a):
    client.force_login(staff_a)

    response = period_report(client, lead_at_80, at_full="done")

    assert response.status_code == 302, response.content.decode()[-3000:]
    lead_at_80.refresh_from_db()
    assert lead_at_80.status == TaskStatus.DONE
    assert lead_at_80.close_outs.filter(state=CloseOutState.PENDING).count() == 1
