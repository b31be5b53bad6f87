"""What the preview says about the parser's reading, generic owners left unmapped, and the
slow reads (scans, legacy Word) that get a job and a time limit of their own."""

import re
from unittest import mock

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports import jobs
from imports.choices import ImportStatus
from imports.forms import mapping_field_name
from imports.models import PlanImport
from imports.services import SKIP_AGENCY, normalise_document
from tasks.models import Task, TaskOwner
from workplans.models import Plan

pytestmark = pytest.mark.django_db

# A plan of our own with what the preview reports on: a covering notice before the title,
# an explanatory paragraph under a section, a number with its dot lost (read on weaker
# evidence), a generic owner (各区) and one task owned only by it.
PLAN = """青岚市卫生健康委员会关于印发2027年工作要点的通知
各区卫生健康局，委机关各处室：
现将《2027年青岚市卫生健康工作要点》印发给你们，请认真贯彻落实。

2027年青岚市卫生健康工作要点

一、提升医疗服务能力
今年要以群众就医感受为导向，统筹推进各项改革。
1.推进县域医共体建设。6月底前完成年度评估，每千人口执业医师数达到3.20。（医政医管处、各区）
2.改善就医体验。二级以上公立医院预约诊疗率达到60%以上。（医政医管处）
3开展家庭医生签约服务。年内签约率提高到45%。（各区）

青岚市卫生健康委员会
2027年2月10日
"""


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def admin_client(client, admin_user, agency_a):
    client.force_login(admin_user)
    return client


def upload(client, capture, data: bytes, name: str):
    with capture(execute=True):
        return client.post(reverse("imports:upload"), {"file": SimpleUploadedFile(name, data)})


@pytest.fixture
def parsed(admin_client, django_capture_on_commit_callbacks):
    response = upload(admin_client, django_capture_on_commit_callbacks, PLAN.encode(), "要点.txt")
    assert response.status_code == 302
    plan_import = PlanImport.objects.get()
    assert plan_import.status == ImportStatus.PARSED, plan_import.error
    return plan_import


def preview(client, plan_import):
    return client.get(reverse("imports:preview", args=[plan_import.pk]))


def confirm(client, plan_import, mapping, **extra):
    data = {
        **extra,
        "plan-title": "2027年青岚市卫生健康工作要点",
        "plan-year": "2027",
        "plan-issuer": "青岚市卫生健康委员会",
        "plan-doc_number": "",
        "plan-issued_on": "2027-02-10",
        "action": "confirm",
        **{mapping_field_name(name): str(value) for name, value in mapping.items()},
    }
    return client.post(reverse("imports:preview", args=[plan_import.pk]), data)


def test_the_preview_counts_the_lines_left_out_and_why(admin_client, parsed):
    body = preview(admin_client, parsed).content.decode()
    assert re.search(r"未导入的 \d+ 行", body)
    assert "印发通知、主送单位等正文之前的内容" in body
    assert "章节的说明文字：<strong>1</strong>" in body
    # each line is there to read, with its line number
    assert "今年要以群众就医感受为导向" in body


def test_the_preview_lists_what_was_read_on_weaker_evidence_first(admin_client, parsed):
    body = preview(admin_client, parsed).content.decode()
    doubts = body.split('class="import-doubts', 1)[1].split("</section>", 1)[0]
    assert "开展家庭医生签约服务" in doubts
    assert "编号后缺少顿号或点，按顺序号识别" in doubts
    # and marks the task itself in the list below
    row = re.search(r'<tr id="task-2" class="[^"]*low-confidence', body)
    assert row, "the doubtful task is marked"


def test_the_preview_shows_the_sentence_an_indicator_came_from(admin_client, parsed):
    body = preview(admin_client, parsed).content.decode()
    assert '<details class="source"><summary>原文</summary><q>' in body
    assert "每千人口执业医师数达到3.20" in body


def test_a_generic_owner_is_left_out_unless_the_admin_maps_it(admin_client, parsed, agency_a):
    # given 各区 matches no agency and the parser flagged it generic
    body = preview(admin_client, parsed).content.decode()
    assert re.search(r'data-owner="各区">\s*<th scope="row">各区 <span class="tag"', body)
    assert f'<option value="{SKIP_AGENCY}" selected>不作为责任单位</option>' in body
    # the task owned only by 各区 is named: nobody would be reminded of it
    assert "有 1 项任务没有责任单位" in body

    # when the admin confirms with 医政医管处 mapped and 各区 left out (both decided on: the
    # task left without owner imported as it is, the name left out on purpose)
    response = confirm(
        admin_client,
        parsed,
        {"医政医管处": agency_a.pk, "各区": SKIP_AGENCY},
        **{"decision-ownerless": "later", "decision-unmapped": "skip"},
    )

    # then the plan is written; the tasks keep their other owners
    assert response.status_code == 302, response.content.decode()[:2000]
    plan = Plan.objects.get()
    first = Task.objects.get(plan=plan, number="1")
    assert list(first.task_owners.values_list("agency__name", "role")) == [("医政医管处", "lead")]
    third = Task.objects.get(plan=plan, number="3")
    assert not TaskOwner.objects.filter(task=third).exists()
    assert "各区" not in set(plan.tasks.values_list("task_owners__agency__name", flat=True))


def test_an_unmapped_name_that_is_not_generic_still_blocks_the_import(admin_client, parsed, agency_a):
    # (医政医管处 left at “— 请选择 —”, as a browser posts it)
    response = confirm(admin_client, parsed, {"各区": SKIP_AGENCY, "医政医管处": ""})
    assert response.status_code == 400
    assert "责任单位“医政医管处”尚未对应到单位" in response.content.decode()
    assert not Plan.objects.exists()


def test_the_optional_notes_survive_normalising_and_unknown_keys_do_not():
    doc = {
        "plan": {"title": "计划", "year": 2027},
        "tasks": [
            {
                "number": "1",
                "heading": "甲",
                "owners": ["各区"],
                "rule": "lost_dot",
                "confidence": "low",
                "owner_details": [{"name": "各区", "lead": True, "generic": True, "rule": "bracket_note"}],
                "indicators": [{"name": "率", "target": 5, "source": "率达到5%", "confidence": "low", "x": 1}],
                "unexpected": "dropped",
            }
        ],
        "dropped": [{"line": 3, "reason": "preamble", "text": "引言"}],
        "format": "pdf-ocr",
    }
    out = normalise_document(doc)
    task = out["tasks"][0]
    assert (task["rule"], task["confidence"]) == ("lost_dot", "low")
    assert task["owner_details"] == [{"name": "各区", "lead": True, "generic": True, "rule": "bracket_note"}]
    assert task["indicators"][0]["source"] == "率达到5%" and "x" not in task["indicators"][0]
    assert "unexpected" not in task
    assert out["dropped"] == [{"line": 3, "reason": "preamble", "text": "引言"}] and out["format"] == "pdf-ocr"


def test_a_scan_gets_a_banner_asking_for_a_careful_check(admin_client, parsed):
    document = dict(parsed.document, format="pdf-ocr")
    PlanImport.objects.filter(pk=parsed.pk).update(document=document)
    body = preview(admin_client, parsed).content.decode()
    assert "这是扫描件：文字由 OCR 识别" in body


# --- Slow reads --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, slow", [("要点.doc", True), ("要点.WPS", True), ("要点.docx", False), ("要点.txt", False)]
)
def test_a_legacy_document_is_a_slow_read(name, slow):
    assert jobs.is_slow_read(b"not looked at for these", name) is slow


def test_a_pdf_is_a_slow_read_only_without_a_text_layer():
    with mock.patch.object(jobs, "needs_ocr", autospec=True, return_value=True) as scan:
        assert jobs.is_slow_read(b"%PDF-1.7 ...", "plan.pdf")
    scan.assert_called_once()
    with mock.patch.object(jobs, "needs_ocr", autospec=True, return_value=False):
        assert not jobs.is_slow_read(b"%PDF-1.7 ...", "plan.pdf")


def test_a_slow_read_goes_to_its_own_job(admin_client, django_capture_on_commit_callbacks):
    with mock.patch("imports.services.flow.enqueue", autospec=True, return_value=True) as enqueue:
        response = upload(admin_client, django_capture_on_commit_callbacks, b"\xd0\xcf\x11\xe0 legacy", "要点.doc")
    assert response.status_code == 302
    assert enqueue.call_args.args[0] is jobs.read_plan_import
    page = admin_client.get(response["Location"], follow=True).content.decode()
    assert "需先识别文字或转换格式，可能需要几分钟" in page

    with mock.patch("imports.services.flow.enqueue", autospec=True, return_value=True) as enqueue:
        upload(admin_client, django_capture_on_commit_callbacks, PLAN.encode(), "要点.txt")
    assert enqueue.call_args.args[0] is jobs.parse_plan_import


def test_a_slow_read_that_runs_out_of_time_says_so_in_chinese(admin_user, settings):
    plan_import = PlanImport.objects.create(
        file=SimpleUploadedFile("扫描件.pdf", b"%PDF-1.4 scan"),
        original_name="扫描件.pdf",
        sha256="0" * 64,
        size=13,
        created_by=admin_user,
    )
    with mock.patch.object(jobs, "parse_bytes", autospec=True, side_effect=SoftTimeLimitExceeded()):
        assert jobs.read_plan_import(plan_import.pk) == "failed"
    plan_import.refresh_from_db()
    assert plan_import.status == ImportStatus.FAILED
    assert f"文字识别或格式转换超时（超过{settings.PLAN_OCR_TIME_LIMIT}秒）" in plan_import.error


def test_the_parser_warnings_are_shown_with_their_line_in_the_page_language(admin_client, parsed):
    body = preview(admin_client, parsed).content.decode()
    warnings = body.split('class="import-warnings"', 1)[1].split("</section>", 1)[0]
    assert re.search(r'<span class="muted">第 \d+ 行</span> 这一段是章节的说明文字', warnings)
    assert "line " not in warnings
