"""The pages of the period reports and the co-owners' input: the panels on the task page,
drafts, submission, sign-off, review with requirements, resubmission, concurrent decisions,
who may see and do what, and bounded queries."""

import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.roles import Role
from supervision import reports
from supervision.choices import InputState, ReportState
from supervision.models import CoOwnerInput, PeriodReport, ReportRevision
from supervision.progress import report_progress
from tasks.choices import TaskStatus
from tests.fixtures.accounts import make_user
from tests.fixtures.tasks import PDF

pytestmark = pytest.mark.django_db

# A Wednesday in June: the 2026年6月 cycle is due on the 25th, a task at 50 % is on pace.
JUNE_10 = datetime.datetime(2026, 6, 10, 2, 0, tzinfo=datetime.UTC)
# After the cycle's due day: the report is late.
JUNE_26 = datetime.datetime(2026, 6, 26, 2, 0, tzinfo=datetime.UTC)


@pytest.fixture
def on_june_10():
    with time_machine.travel(JUNE_10, tick=False):
        yield


@pytest.fixture
def active(task, plan):
    plan.status = "active"
    plan.save()
    task.status, task.percent = TaskStatus.IN_PROGRESS, 50
    task.save()
    task.refresh_from_db()
    return task


@pytest.fixture
def signoff(active, plan):
    plan.requires_unit_signoff = True
    plan.save()
    return active


def report_url(task):
    return reverse("supervision:report_edit", args=[task.pk])


def input_url(task):
    return reverse("supervision:coinput_edit", args=[task.pk])


def page(task):
    return reverse("tasks:task_detail", args=[task.pk])


def fields(task, report=None, **data):
    task.refresh_from_db()
    base = {
        "task_version": task.version,
        "report_version": report.version if report is not None else "",
        "progress": "完成全市摸底调研",
        "problems": "",
        "next_steps": "",
        "status": TaskStatus.IN_PROGRESS,
        "percent": 55,
    }
    base.update(data)
    return base


def submit(client, task, report=None, **data):
    return client.post(report_url(task), {**fields(task, report, **data), "action": "submit"})


def decide(client, report, action, comment="", version=None):
    report.refresh_from_db()
    return client.post(
        reverse("supervision:report_decide", args=[report.pk]),
        {"version": report.version if version is None else version, "action": action, "comment": comment},
    )


# --- The lead's report ------------------------------------------------------------------


def test_it_shows_the_structured_panel_to_the_lead_instead_of_the_free_form(client, staff_a, active, on_june_10):
    client.force_login(staff_a)
    response = client.get(page(active))
    body = response.content.decode()
    assert response.status_code == 200
    assert "本期报送" in body and "2026年6月" in body and "2026-06-25" in body
    assert "保存草稿" in body and "本期进展" in body and "下步计划" in body
    assert f'action="{reverse("tasks:task_report", args=[active.pk])}"' not in body
    assert 'name="task_version"' in body and 'name="report_version"' in body


def test_a_draft_is_kept_and_shown_again(client, staff_a, active, on_june_10):
    client.force_login(staff_a)
    response = client.post(report_url(active), {**fields(active, progress="写了一半"), "action": "draft"})
    assert response.status_code == 302
    report = PeriodReport.objects.get(task=active)
    assert report.state == ReportState.DRAFT and report.progress == "写了一半" and report.revision == 0
    body = client.get(page(active)).content.decode()
    assert "写了一半" in body and "草稿" in body
    # The second save carries the version the page showed.
    response = client.post(report_url(active), {**fields(active, report, progress="写完了"), "action": "draft"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.progress == "写完了"
    active.refresh_from_db()
    assert active.percent == 50  # a draft changes nothing on the task


def test_a_draft_saved_over_someone_elses_is_409_with_the_input_kept(client, staff_a, agency_a, active, on_june_10):
    colleague = make_user("colleague_a", Role.STAFF, agency_a)
    client.force_login(staff_a)
    client.post(report_url(active), {**fields(active, progress="第一稿"), "action": "draft"})
    report = PeriodReport.objects.get(task=active)
    seen = report.version
    reports.save_draft(active.pk, colleague, version=seen, progress="同事改过")
    response = client.post(
        report_url(active), {**fields(active, progress="我的修改"), "report_version": seen, "action": "draft"}
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert "该事项已被他人处理" in body and "我的修改" in body


def test_submitting_sends_the_report_and_writes_the_progress(client, staff_a, active, on_june_10, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(staff_a)
    data = {**fields(active), "action": "submit", "files": SimpleUploadedFile("方案.pdf", PDF, "application/pdf")}
    response = client.post(report_url(active), data)
    assert response.status_code == 302
    report = PeriodReport.objects.get(task=active)
    assert report.state == ReportState.PENDING_REVIEW and report.revision == 1 and not report.late
    revision = report.revisions.get()
    assert revision.progress_update.attachments.count() == 1
    active.refresh_from_db()
    assert active.percent == 55
    body = client.get(page(active)).content.decode()
    assert "待督查审核" in body and "正在审核中" in body


def test_problems_and_plan_are_required_when_the_task_is_behind(client, staff_a, active, on_june_10):
    client.force_login(staff_a)
    response = submit(client, active, status=TaskStatus.LAGGING, percent=50)
    body = response.content.decode()
    assert response.status_code == 400
    assert "请填写存在问题" in body and "请填写下步计划" in body
    assert "完成全市摸底调研" in body  # what was typed stays
    assert not ReportRevision.objects.exists()


def test_problems_and_plan_are_required_when_the_report_is_late(client, staff_a, active):
    client.force_login(staff_a)
    with time_machine.travel(JUNE_26, tick=False):
        assert submit(client, active).status_code == 400
        response = submit(client, active, problems="人手不足", next_steps="7月上旬完成")
    assert response.status_code == 302
    report = PeriodReport.objects.get(task=active)
    assert report.late and report.revisions.get().late


def test_progress_is_required(client, staff_a, active, on_june_10):
    client.force_login(staff_a)
    response = submit(client, active, progress="")
    assert response.status_code == 400
    assert "请填写本期进展" in response.content.decode()


def test_a_report_on_a_task_changed_meanwhile_is_409(client, staff_a, active, on_june_10):
    client.force_login(staff_a)
    stale = fields(active)
    report_progress(active.pk, staff_a, based_on_version=active.version, status=TaskStatus.IN_PROGRESS, percent=60)
    response = client.post(report_url(active), {**stale, "action": "submit"})
    assert response.status_code == 409
    assert "任务已被他人更新" in response.content.decode()


# --- Co-owners' input -------------------------------------------------------------------


def test_a_co_owner_saves_a_draft_submits_and_the_lead_sees_it(client, staff_a, staff_b, active, on_june_10):
    client.force_login(staff_b)
    body = client.get(page(active)).content.decode()
    assert "配合单位反馈" in body and "反馈截止日" in body and 'name="action"' in body
    assert client.post(input_url(active), {"text": "草稿", "action": "draft"}).status_code == 302
    co_input = CoOwnerInput.objects.get(task=active)
    assert co_input.state == InputState.DRAFT
    assert "草稿" in client.get(page(active)).content.decode()
    response = client.post(
        input_url(active), {"text": "完成5家医院培训", "version": co_input.version, "action": "submit"}
    )
    assert response.status_code == 302
    co_input.refresh_from_db()
    assert co_input.state == InputState.SUBMITTED and not co_input.late
    client.force_login(staff_a)
    body = client.get(page(active)).content.decode()
    assert "完成5家医院培训" in body and "引用" in body and "js-quote" in body


def test_a_co_owner_input_needs_text(client, staff_b, active, on_june_10):
    client.force_login(staff_b)
    response = client.post(input_url(active), {"text": "", "action": "submit"})
    assert response.status_code == 400
    assert "请填写本单位配合工作情况" in response.content.decode()


def test_a_late_input_is_marked_late(client, staff_b, active):
    client.force_login(staff_b)
    with time_machine.travel(JUNE_26, tick=False):
        client.post(input_url(active), {"text": "迟到的反馈", "action": "submit"})
        body = client.get(page(active)).content.decode()
    assert CoOwnerInput.objects.get(task=active).late
    assert "逾期反馈" in body


def test_the_lead_cannot_write_co_owner_input_nor_a_co_owner_the_report(client, staff_a, staff_b, active, on_june_10):
    client.force_login(staff_a)
    assert client.post(input_url(active), {"text": "x", "action": "submit"}).status_code == 403
    client.force_login(staff_b)
    assert submit(client, active).status_code == 403
    assert not PeriodReport.objects.exists() and not CoOwnerInput.objects.exists()


# --- Sign-off and review ----------------------------------------------------------------


def test_sign_off_return_with_comment_and_resubmission(client, staff_a, leader, supervisor, signoff, on_june_10):
    client.force_login(staff_a)
    submit(client, signoff)
    report = PeriodReport.objects.get(task=signoff)
    assert report.state == ReportState.PENDING_SIGNOFF

    client.force_login(supervisor)  # not the office's turn yet: no decision form
    body = client.get(reverse("supervision:report_detail", args=[report.pk])).content.decode()
    assert "审核通过" not in body or 'name="action"' not in body

    client.force_login(leader)
    body = client.get(reverse("supervision:report_detail", args=[report.pk])).content.decode()
    assert "单位审核" in body and 'value="sign_off"' in body and 'value="unit_return"' in body
    assert 'value="accept"' not in body
    response = decide(client, report, "unit_return", comment="")
    assert response.status_code == 400 and "请写明意见或要求" in response.content.decode()
    assert decide(client, report, "unit_return", comment="数据口径不一致").status_code == 302
    report.refresh_from_db()
    assert report.state == ReportState.UNIT_RETURNED

    client.force_login(staff_a)
    body = client.get(page(signoff)).content.decode()
    assert "单位审核退回意见" in body and "数据口径不一致" in body
    assert submit(client, signoff, report, progress="已统一口径").status_code == 302
    report.refresh_from_db()
    assert report.revision == 2 and report.state == ReportState.PENDING_SIGNOFF

    client.force_login(leader)
    assert decide(client, report, "sign_off").status_code == 302
    report.refresh_from_db()
    assert report.state == ReportState.PENDING_REVIEW


def test_supervisor_returns_with_requirements_the_author_sees_them_and_resubmits(
    client, staff_a, supervisor, active, on_june_10
):
    client.force_login(staff_a)
    submit(client, active)
    report = PeriodReport.objects.get(task=active)
    client.force_login(supervisor)
    body = client.get(reverse("supervision:report_detail", args=[report.pk])).content.decode()
    assert "督查审核" in body and 'value="accept"' in body and 'value="return"' in body
    assert decide(client, report, "return", comment="补充培训签到表").status_code == 302

    client.force_login(staff_a)
    body = client.get(page(active)).content.decode()
    assert "督查室退回要求" in body and "补充培训签到表" in body
    report.refresh_from_db()
    assert submit(client, active, report, progress="已补充签到表").status_code == 302
    report.refresh_from_db()
    assert report.revision == 2 and report.state == ReportState.PENDING_REVIEW

    client.force_login(supervisor)
    body = client.get(reverse("supervision:report_detail", args=[report.pk])).content.decode()
    assert "第 2 次提交" in body and "第 1 次提交" in body
    assert body.index("第 2 次提交") < body.index("第 1 次提交")  # latest first
    assert "补充培训签到表" in body  # the thread keeps the requirements
    assert decide(client, report, "accept").status_code == 302
    report.refresh_from_db()
    assert report.state == ReportState.ACCEPTED
    # The thread on the task page, for anyone who sees the task.
    body = client.get(page(active)).content.decode()
    assert "报送与审核记录" in body and "退回并提出要求" in body and "审核通过" in body


def test_two_decisions_at_once_the_loser_gets_409(client, staff_a, supervisor, active, on_june_10, commission):
    other = make_user("supervisor_2", Role.SUPERVISOR, commission)
    client.force_login(staff_a)
    submit(client, active)
    report = PeriodReport.objects.get(task=active)
    seen = report.version
    reports.review(report.pk, other, version=seen, accept=True)
    client.force_login(supervisor)
    response = decide(client, report, "return", comment="补充", version=seen)
    body = response.content.decode()
    assert response.status_code == 409
    assert "该事项已被他人处理" in body and "审核通过" in body
    report.refresh_from_db()
    assert report.state == ReportState.ACCEPTED


def test_nobody_else_decides(client, staff_a, staff_b, admin_user, supervisor, signoff, on_june_10):
    client.force_login(staff_a)
    submit(client, signoff)
    report = PeriodReport.objects.get(task=signoff)
    # The author (not a 审核人), a co-owner and the supervisor before sign-off: refused.
    assert decide(client, report, "sign_off").status_code == 403
    client.force_login(staff_b)
    assert decide(client, report, "sign_off").status_code == 403
    client.force_login(admin_user)
    assert decide(client, report, "sign_off").status_code == 403  # not in the policy
    client.force_login(supervisor)
    assert decide(client, report, "accept").status_code == 400  # not its turn
    report.refresh_from_db()
    assert report.state == ReportState.PENDING_SIGNOFF


def test_a_staff_reviewer_of_the_lead_signs_off(client, staff_a, agency_a, signoff, on_june_10):
    reviewer = make_user("reviewer_a", Role.STAFF, agency_a, is_unit_reviewer=True)
    client.force_login(staff_a)
    submit(client, signoff)
    report = PeriodReport.objects.get(task=signoff)
    client.force_login(reviewer)
    assert decide(client, report, "sign_off").status_code == 302
    report.refresh_from_db()
    assert report.state == ReportState.PENDING_REVIEW


# --- Who sees what ----------------------------------------------------------------------


def test_other_agencies_get_404_and_other_roles_403(
    client, staff_a, staff_outside, auditor, leader, active, on_june_10
):
    client.force_login(staff_a)
    submit(client, active)
    report = PeriodReport.objects.get(task=active)
    detail = reverse("supervision:report_detail", args=[report.pk])
    client.force_login(staff_outside)
    assert client.get(detail).status_code == 404
    assert client.post(report_url(active), fields(active)).status_code == 404
    assert client.post(input_url(active), {"text": "x"}).status_code == 404
    assert decide(client, report, "accept").status_code == 404
    client.force_login(auditor)
    assert client.get(detail).status_code == 403
    client.force_login(leader)
    assert client.get(detail).status_code == 200  # reads the thread
    assert client.post(report_url(active), fields(active)).status_code == 403  # writes no report


def test_a_draft_is_not_shown_to_others(client, staff_a, supervisor, active, on_june_10):
    client.force_login(staff_a)
    client.post(report_url(active), {**fields(active, progress="草稿内容"), "action": "draft"})
    report = PeriodReport.objects.get(task=active)
    client.force_login(supervisor)
    assert client.get(reverse("supervision:report_detail", args=[report.pk])).status_code == 404
    assert "草稿内容" not in client.get(page(active)).content.decode()


# --- Queries ----------------------------------------------------------------------------


def test_the_pages_run_a_bounded_number_of_queries(
    client, django_assert_max_num_queries, staff_a, staff_b, supervisor, active, on_june_10
):
    client.force_login(staff_b)
    client.post(input_url(active), {"text": "配合情况", "action": "submit"})
    client.force_login(staff_a)
    submit(client, active)
    report = PeriodReport.objects.get(task=active)
    client.force_login(supervisor)
    decide(client, report, "return", comment="补充")
    client.force_login(staff_a)
    submit(client, active, report, progress="补充后")
    # Two revisions, a return, a co-owner's input with the thread: as many queries as one.
    # (+1 on each: the task's rollover links, tasks/_task_links.html)
    with django_assert_max_num_queries(41):
        assert client.get(page(active)).status_code == 200
    with django_assert_max_num_queries(18):
        assert client.get(report_url(active)).status_code == 200
    client.force_login(supervisor)
    with django_assert_max_num_queries(21):
        assert client.get(reverse("supervision:report_detail", args=[report.pk])).status_code == 200
