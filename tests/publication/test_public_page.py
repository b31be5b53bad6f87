"""The public progress page (政务公开) as the public meets it: served without sign-in from
the published snapshot only, off by default, showing only the fields the admin chose and
nothing internal (reports, notes, notices, urges, instructions, evidence, responsible
people), fast (cached, a fixed number of queries whatever the task count), with caching
headers, accessible markup and no outside resource; and the static bundle of the same."""

import datetime
import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from escalation.by_hand import issue_by_hand
from escalation.models import Instruction, Urge
from publication import pages, services
from publication.choices import PublicField
from publication.models import PublicSnapshot
from supervision.evidence import check_evidence_file
from supervision.models import PeriodReport
from supervision.progress import EvidenceInput, report_progress
from tests.fixtures.accounts import make_user
from tests.fixtures.tasks import PDF, make_task
from tests.publication.conftest import ALL_FIELDS, make_public, publish_now

pytestmark = pytest.mark.django_db

# One distinctive string in every internal place a task has.
INTERNAL = {
    "report_progress": "内部进展甲壹号",
    "report_problems": "内部问题乙贰号",
    "report_next_steps": "内部计划丙叁号",
    "progress_note": "内部说明丁肆号",
    "attachment": "内部佐证戊伍号.pdf",
    "notice_facts": "督办事实己陆号",
    "notice_requirements": "督办要求庚柒号",
    "urge": "催办内容辛捌号",
    "instruction": "批示内容壬玖号",
    "responsible": "责任人癸拾号",
    "task_text": "任务全文内部子拾壹",
}
NARRATIVE = "已完成全市基层机构摸底，正在推进第二批建设。"


def _page(client, plan):
    return client.get(reverse("publication:plan_page", args=[plan.pk]))


@pytest.fixture
def internal_task(settings, tmp_path, plan, section, agency_a, agency_b, staff_a, supervisor, leader):
    """A task with a distinctive internal string in every internal place."""
    settings.MEDIA_ROOT = tmp_path
    task = make_task(
        plan,
        section,
        "1",
        lead=agency_a,
        co_owners=[agency_b],
        heading="推进基层医疗服务能力提升",
        text=INTERNAL["task_text"],
        due_on=datetime.date(2026, 12, 31),
    )
    task.responsible_users.add(make_user("resp", "staff", agency_a, full_name=INTERNAL["responsible"]))
    uploaded = SimpleUploadedFile(INTERNAL["attachment"], PDF, content_type="application/pdf")
    report_progress(
        task.pk,
        staff_a,
        based_on_version=task.version,
        status="in_progress",
        percent=40,
        note=INTERNAL["progress_note"],
        evidence=[EvidenceInput(uploaded, check_evidence_file(uploaded))],
    )
    PeriodReport.objects.create(
        task=task,
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 1, 31),
        period_label="2026年1月",
        due_on=datetime.date(2026, 1, 25),
        progress=INTERNAL["report_progress"],
        problems=INTERNAL["report_problems"],
        next_steps=INTERNAL["report_next_steps"],
        author=staff_a,
    )
    issue_by_hand(
        task.pk,
        supervisor,
        level="yellow",
        facts=INTERNAL["notice_facts"],
        requirements=INTERNAL["notice_requirements"],
        reply_due_on=timezone.localdate() + datetime.timedelta(days=7),
    )
    Urge.objects.create(task=task, message=INTERNAL["urge"], issued_by=supervisor)
    Instruction.objects.create(
        task=task, text=INTERNAL["instruction"], respond_by=datetime.date(2026, 12, 1), issued_by=leader
    )
    task.refresh_from_db()
    return task


def test_nothing_internal_appears_on_the_public_page_nor_in_the_bundle(
    client, plan, internal_task, admin_user, supervisor
):
    # given: every field public, a public narrative written apart from the internal notes
    make_public(plan, admin_user, fields=ALL_FIELDS)
    narrative = services.save_narrative(internal_task.pk, supervisor, text=NARRATIVE, version=1)
    assert narrative.text == NARRATIVE
    snapshot = publish_now(plan, admin_user)

    # when
    response = _page(client, plan)
    html = response.content.decode()
    archive = zipfile.ZipFile(io.BytesIO(pages.bundle(snapshot)))
    bundled = archive.read("index.html").decode()

    # then: the public fields are there, not one internal string
    assert response.status_code == 200
    for text in (html, bundled):
        assert "推进基层医疗服务能力提升" in text and NARRATIVE in text and "医政医管处" in text
        assert "40%" in text and "2026-12-31" in text
        leaked = [name for name, value in INTERNAL.items() if value in text]
        assert leaked == []
    # ... nor in the snapshot the page is served from
    stored = str(PublicSnapshot.objects.get(pk=snapshot.pk).data)
    assert [name for name, value in INTERNAL.items() if value in stored] == []


def test_it_is_served_without_login_with_caching_headers_and_no_cookie(client, plan, published):
    # when
    response = _page(client, plan)

    # then
    assert response.status_code == 200
    assert "public" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]
    assert response["ETag"] and response["Last-Modified"]
    assert not response.cookies
    # the browser asking again with its ETag is told nothing changed
    again = client.get(reverse("publication:plan_page", args=[plan.pk]), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again.content == b""


def test_it_is_accessible_markup_with_no_script_and_no_outside_resource(client, plan, published):
    html = _page(client, plan).content.decode()

    assert '<html lang="zh-Hans">' in html
    assert 'class="skip" href="#main"' in html and 'id="main"' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "<h1>" in html and "<h2" in html and "<h3>" in html
    assert "<script" not in html.lower() and "style=" not in html.lower()
    # Every address the page loads or links is on this site.
    addresses = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert addresses and all(a.startswith(("/", "#")) and not a.startswith("//") for a in addresses)
    # Status colour is said in words, not colour alone.
    assert 'class="mark mark-green"' in html and "绿</span>" in html and "未开始" in html
    # The signed-in site's chrome is not there.
    assert "退出" not in html and "app.js" not in html


def test_it_is_404_until_an_admin_turns_it_on_and_publishes(client, plan, task, admin_user):
    # given: nothing done → off by default
    assert _page(client, plan).status_code == 404
    assert plan.title not in client.get(reverse("publication:index")).content.decode()

    # when: turned on, a draft built, not yet published
    make_public(plan, admin_user)
    services.build_snapshot(plan.pk, admin_user)

    # then: still nothing public
    assert _page(client, plan).status_code == 404

    # when: published
    publish_now(plan, admin_user)
    assert _page(client, plan).status_code == 200
    assert plan.title in client.get(reverse("publication:index")).content.decode()


def test_turning_it_off_withdraws_the_page_at_once(client, plan, published, admin_user):
    assert _page(client, plan).status_code == 200
    setting = plan.public_setting
    setting.refresh_from_db()

    services.save_settings(
        plan.pk, admin_user, enabled=False, fields=setting.fields, schedule=setting.schedule, version=setting.version
    )

    response = _page(client, plan)
    assert response.status_code == 404 and plan.title not in response.content.decode()
    assert plan.title not in client.get(reverse("publication:index")).content.decode()


def test_a_draft_plan_cannot_be_made_public(plan, admin_user):
    plan.status = "draft"
    plan.save()
    with pytest.raises(services.ValidationError):
        make_public(plan, admin_user)


def test_only_the_fields_chosen_are_shown(client, plan, task, admin_user, supervisor):
    # given: lead agency, percent and narratives left out
    services.save_narrative(task.pk, supervisor, text=NARRATIVE, version=1)
    make_public(plan, admin_user, fields=[PublicField.HEADING, PublicField.DUE_DATE, PublicField.STATUS])
    publish_now(plan, admin_user)

    html = _page(client, plan).content.decode()

    assert task.heading in html and "2026-12-31" in html and "未开始" in html
    assert "医政医管处" not in html and "牵头单位" not in html
    assert "<progress" not in html and "完成进度" not in html
    assert NARRATIVE not in html

    # when: the lead agency is chosen too and republished
    make_public(plan, admin_user, fields=[PublicField.HEADING, PublicField.LEAD_AGENCY])
    publish_now(plan, admin_user)
    html = _page(client, plan).content.decode()
    assert "医政医管处" in html and "2026-12-31" not in html and "未开始" not in html


def test_the_page_is_the_published_snapshot_until_republished(client, plan, task, published, admin_user, staff_a):
    before = _page(client, plan).content.decode()
    assert task.heading in before

    # when: the task moves after publishing
    report_progress(task.pk, staff_a, based_on_version=task.version, status="in_progress", percent=70, note="x")
    type(task).objects.filter(pk=task.pk).update(heading="改过的任务摘要")

    # then: the public still sees what was published
    after = _page(client, plan).content.decode()
    assert "改过的任务摘要" not in after and "70%" not in after and task.heading in after

    # when: republished
    publish_now(plan, admin_user)
    html = _page(client, plan).content.decode()
    assert "改过的任务摘要" in html and "70%" in html


@pytest.mark.parametrize("count", [5, 50])
def test_the_page_costs_the_same_queries_whatever_the_task_count(
    client, plan, section, agency_a, admin_user, count, django_assert_max_num_queries
):
    # given
    for number in range(1, count + 1):
        make_task(plan, section, str(number), lead=agency_a, due_on=datetime.date(2026, 12, 31))
    make_public(plan, admin_user)
    publish_now(plan, admin_user)

    # when / then: the first visit renders from the snapshot (find it, read its data) …
    with django_assert_max_num_queries(2):
        first = _page(client, plan)
    assert first.status_code == 200 and first.content.decode().count('<li class="task">') == count
    # … the next ones are the cache's (find the snapshot only)
    with django_assert_max_num_queries(1):
        second = _page(client, plan)
    assert second.content == first.content
    with django_assert_max_num_queries(1):
        assert client.get(reverse("publication:index")).status_code == 200


def test_the_bundle_is_the_page_with_its_style_sheet_and_relative_links(plan, published):
    archive = zipfile.ZipFile(io.BytesIO(pages.bundle(published)))

    assert sorted(archive.namelist()) == ["index.html", "publication.css"]
    html = archive.read("index.html").decode()
    assert 'href="publication.css"' in html and "/static/" not in html and "/public/" not in html
    addresses = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert all(not re.match(r"^(/|[a-z]+:)", a) for a in addresses)
    assert b".mark-red" in archive.read("publication.css")


def test_text_that_looks_like_markup_is_shown_as_text(client, plan, task, admin_user, supervisor):
    services.save_narrative(task.pk, supervisor, text='<script src="https://evil.example/x.js"></script>', version=1)
    make_public(plan, admin_user)
    publish_now(plan, admin_user)

    html = _page(client, plan).content.decode()

    assert "<script" not in html and "&lt;script" in html
