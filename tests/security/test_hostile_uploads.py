"""Hostile files through the real pages, as a user would send them: the plan import (admins'
upload page) and evidence on a progress update (staff's task page) refuse each with a
Chinese message and write nothing. HTML from a saved web page is reduced to text and never
rendered; the exported ledger never holds a formula."""

import io
import re
import struct
import zipfile
import zlib

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.models import Agency
from dashboards.models import Export, ExportStatus
from imports.choices import ImportStatus
from imports.forms import mapping_field_name
from imports.models import PlanImport
from tasks.models import Attachment, ProgressUpdate, Task
from tests.imports.parsing import plans
from workplans.models import Plan, Section

pytestmark = pytest.mark.django_db

HAN = re.compile(r"[\u4e00-\u9fff]")
PLAN_LINES = [
    "2026年测试市卫生健康工作要点",
    "一、提升医疗服务能力",
    "1.推进城市医疗集团建设。年内组建3个城市医疗集团。（医政医管处）",
]
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>"
)


def docx() -> bytes:
    return plans.docx_bytes(PLAN_LINES)


def rezip(data: bytes, replace=None, extra=()) -> bytes:
    """The package `data` with some parts replaced and extra (name, bytes) entries added."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            archive.writestr(name, (replace or {}).get(name, source.read(name)))
        for name, content in extra:
            archive.writestr(zipfile.ZipInfo(name), content)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, "PNG")
    return out.getvalue()


def png_with_text_chunk(text: bytes) -> bytes:
    """A valid PNG with HTML hidden inside it, in a tEXt chunk (CRC correct)."""
    data = png()
    body = b"Comment\x00" + text
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    return data[:33] + chunk + data[33:]


EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 4
HTML_TAIL = b"<html><body><script>alert(document.cookie)</script></body></html>"
# name, bytes: every one of these is hostile whatever the page it is sent to
HOSTILE = {
    "exe_renamed": ("工作要点.docx", EXE),
    "polyglot_appended": ("截图.png", png() + HTML_TAIL),
    "polyglot_embedded": ("截图.png", png_with_text_chunk(b"<script>alert(1)</script>")),
    "truncated_docx": ("工作要点.docx", docx()[: len(docx()) // 2]),
    "truncated_xlsx": ("任务分解表.xlsx", plans.xlsx_bytes([["序号", "任务"], ["1", "推进"]])[:600]),
    "billion_laughs": ("工作要点.docx", rezip(docx(), replace={"word/document.xml": BILLION_LAUGHS})),
    "zip_slip": ("工作要点.docx", rezip(docx(), extra=[("../../evil.sh", b"rm -rf /")])),
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def chinese(message: str) -> bool:
    return len(HAN.findall(message)) >= 4


# --- plan import ---------------------------------------------------------------------------


def upload_plan(client, capture, name, data):
    with capture(execute=True):
        return client.post(reverse("imports:upload"), {"file": SimpleUploadedFile(name, data)})


def import_refusal(client, response) -> str:
    """The Chinese message the admin sees: on the upload page, or on the import's status page."""
    if response.status_code == 400:
        body = response.content.decode()
        return " ".join(re.findall(r'class="error[^"]*">([^<]+)<', body)) or body
    assert response.status_code == 302, response.status_code
    plan_import = PlanImport.objects.get()
    assert plan_import.status == ImportStatus.FAILED
    page = client.get(reverse("imports:status", args=[plan_import.pk]))
    assert plan_import.error in page.content.decode()
    return plan_import.error


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_the_plan_import_refuses_a_hostile_file_and_writes_no_plan(
    client, admin_user, agency_a, case, django_capture_on_commit_callbacks
):
    name, data = HOSTILE[case]
    if name.endswith(".png"):
        name = name[:-4] + ".htm"  # the import takes saved web pages, not images
    # given an admin on the upload page
    client.force_login(admin_user)
    agencies_before = Agency.objects.count()
    # when they upload the hostile file
    response = upload_plan(client, django_capture_on_commit_callbacks, name, data)
    # then a Chinese message says why, and no plan, section, task or agency is written
    message = import_refusal(client, response)
    assert chinese(message), message
    assert not Plan.objects.exists() and not Section.objects.exists() and not Task.objects.exists()
    assert Agency.objects.count() == agencies_before


def test_the_plan_import_refuses_an_oversized_file(client, admin_user, settings, django_capture_on_commit_callbacks):
    settings.PLAN_UPLOAD_MAX_BYTES = 4096
    client.force_login(admin_user)
    response = upload_plan(client, django_capture_on_commit_callbacks, "工作要点.docx", docx() + b"\0" * 8192)
    assert response.status_code == 400
    assert "文件过大" in response.content.decode()
    assert not PlanImport.objects.exists() and not Plan.objects.exists()


def test_the_plan_import_takes_one_file_at_a_time(client, admin_user, django_capture_on_commit_callbacks):
    # given an admin who picks two plan files at once
    client.force_login(admin_user)
    files = [SimpleUploadedFile("一.docx", docx()), SimpleUploadedFile("二.docx", docx())]
    # when they upload them in one request
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:upload"), {"file": files})
    # then neither is imported, and the page says to pick one
    assert response.status_code == 400
    assert "一次只能导入一个计划文件" in response.content.decode()
    assert not PlanImport.objects.exists() and not Plan.objects.exists()


def test_too_many_files_in_one_request_are_refused_before_any_view(client, admin_user, settings, staff_a, task, media):
    # given more files in one request than any page takes
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    files = [SimpleUploadedFile(f"{n}.docx", docx()) for n in range(4)]
    # when they are sent to the plan import and to a task's report
    client.force_login(admin_user)
    plan_response = client.post(reverse("imports:upload"), {"file": files})
    client.force_login(staff_a)
    report_response = client.post(
        reverse("tasks:task_report", args=[task.pk]),
        {"version": task.version, "note": "材料", "files": [SimpleUploadedFile(f"{n}.docx", docx()) for n in range(4)]},
    )
    # then both are refused with the Chinese 400 page and nothing is stored
    for response in (plan_response, report_response):
        assert response.status_code == 400
        assert "请求有误" in response.content.decode()
    assert not PlanImport.objects.exists() and not ProgressUpdate.objects.exists()
    assert stored_files(media) == []


# --- evidence on the task page -----------------------------------------------------------------


def report(client, task, *files):
    return client.post(
        reverse("tasks:task_report", args=[task.pk]),
        {"version": task.version, "status": "in_progress", "percent": 20, "note": "附佐证材料", "files": list(files)},
    )


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_evidence_refuses_a_hostile_file_and_stores_nothing(client, staff_a, task, media, case):
    name, data = HOSTILE[case]
    # given staff of the lead agency on the task page
    client.force_login(staff_a)
    # when they report with the hostile file attached
    response = report(client, task, SimpleUploadedFile(name, data))
    # then the report is refused in Chinese, naming the file, and nothing is stored
    assert response.status_code == 400
    errors = re.findall(r'class="error">([^<]+)<', response.content.decode())
    assert any(name in error and chinese(error) for error in errors), errors
    task.refresh_from_db()
    assert task.percent == 0 and not ProgressUpdate.objects.exists() and not Attachment.objects.exists()
    assert stored_files(media) == []


def test_evidence_refuses_an_oversized_file_and_too_many_files(client, staff_a, task, media, settings):
    settings.EVIDENCE_MAX_BYTES = 2048
    settings.EVIDENCE_MAX_FILES = 2
    client.force_login(staff_a)
    big = report(client, task, SimpleUploadedFile("扫描件.png", png() + b"\0" * 4096))
    many = report(client, task, *(SimpleUploadedFile(f"{n}.png", png()) for n in range(3)))
    assert big.status_code == 400 and "扫描件.png" in big.content.decode()
    assert many.status_code == 400 and "一次最多上传 2 个文件" in many.content.decode()
    assert not ProgressUpdate.objects.exists() and stored_files(media) == []


# --- a saved web page is text, never markup ------------------------------------------------------

HOSTILE_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>要点</title>\n'
    "<script>alert('head')</script><style>body{background:url(javascript:alert(9))}</style></head><body>\n"
    "<p>测试市卫生健康委员会关于印发《2026年测试市卫生健康工作要点》的通知</p>\n"
    "<p>测卫发〔2026〕5号</p>\n"
    "<h1>2026年测试市卫生健康工作要点</h1>\n"
    '<iframe src="https://evil.example/"></iframe>\n'
    "<h2>一、提升医疗服务能力</h2>\n"
    '<p>1.推进城市医疗集团建设<img src=x onerror="alert(1)">。'
    '年内组建3个城市医疗集团（<a href="javascript:alert(2)">名单</a>），6月底前完成集团章程制定。（医政医管处）</p>\n'
    '<p onclick="alert(4)">2.改善就医体验&lt;script&gt;alert(3)&lt;/script&gt;。'
    "二级以上公立医院预约诊疗率达到60%以上。（医政医管处）</p>\n"
    '<svg onload="alert(5)"><script>alert(6)</script></svg>\n'
    "<p>测试市卫生健康委员会</p><p>2026年2月10日</p>\n"
    "</body></html>"
)
NEVER = ("<script", "onerror", "onclick", "onload", "<iframe", "javascript:", "<svg", "alert(1)", "alert(2)")


def assert_inert(body: str):
    lowered = body.lower()
    for marker in NEVER:
        assert marker not in lowered, marker


def test_a_saved_web_page_is_imported_as_text_and_shown_escaped(
    client, admin_user, staff_a, agency_a, django_capture_on_commit_callbacks
):
    # given an admin who uploads a saved web page full of script, handlers, frames and links
    client.force_login(admin_user)
    response = upload_plan(client, django_capture_on_commit_callbacks, "要点.htm", HOSTILE_PAGE.encode())
    plan_import = PlanImport.objects.get()
    assert response.status_code == 302 and plan_import.status == ImportStatus.PARSED, plan_import.error

    # when they open the preview
    preview = client.get(reverse("imports:preview", args=[plan_import.pk]))
    body = preview.content.decode()
    # then the tasks are there as text, the literal tag text escaped, and no markup came through
    assert preview.status_code == 200 and "推进城市医疗集团建设" in body
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in body
    assert_inert(body.replace('<script src="/static/', "").replace("<script src='/static/", ""))

    # when they confirm the import, active
    data = {
        "plan-title": "2026年测试市卫生健康工作要点",
        "plan-year": "2026",
        "plan-issuer": "测试市卫生健康委员会",
        "plan-doc_number": "测卫发〔2026〕5号",
        "plan-issued_on": "2026-02-10",
        "plan-activate": "on",
        "action": "confirm",
        mapping_field_name("医政医管处"): str(agency_a.pk),
    }
    done = client.post(reverse("imports:preview", args=[plan_import.pk]), data)
    assert done.status_code == 302, re.findall(r'class="[^"]*(?:error|warn)[^"]*">([^<]+)<', done.content.decode())
    # then the stored text holds none of the page's real tags, only the literal text it showed
    tasks = list(Task.objects.order_by("number"))
    assert len(tasks) == 2
    for task in tasks:
        stored = (task.heading + task.text).lower()
        for marker in ("onerror", "onclick", "onload", "<iframe", "javascript:", "<svg", "alert('head')", "alert(6)"):
            assert marker not in stored, marker
    assert "<script>alert(3)</script>" in tasks[1].heading + tasks[1].text

    # and staff of the lead agency see them escaped on 我的任务 and on the task pages
    client.force_login(staff_a)
    pages = [client.get(reverse("tasks:my_tasks"))] + [
        client.get(reverse("tasks:task_detail", args=[task.pk])) for task in tasks
    ]
    for page in pages:
        assert page.status_code == 200
        assert_inert(re.sub(r"<script src=\"/static/[^\"]+\"( defer)?></script>", "", page.content.decode()))
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in pages[2].content.decode()


# --- the exported ledger holds no formula -------------------------------------------------------

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def test_the_ledger_export_writes_formula_like_text_as_text(
    client, leader, staff_a, plan, section, agency_a, django_capture_on_commit_callbacks
):
    from tests.conftest import make_task

    # given tasks and a note whose text a spreadsheet would read as formulas
    headings = ['=HYPERLINK("http://evil.example","点此")', "+1+2", "-3+4", "@SUM(A1:A2)", "\t=1+1", "\r=2+2"]
    tasks = [make_task(plan, section, str(n), lead=agency_a, heading=h) for n, h in enumerate(headings, 1)]
    client.force_login(staff_a)
    noted = client.post(
        reverse("tasks:task_report", args=[tasks[0].pk]),
        {"version": tasks[0].version, "note": "=cmd|' /C calc'!A0"},
    )
    assert noted.status_code == 302

    # when a leader exports the ledger and downloads it
    client.force_login(leader)
    with django_capture_on_commit_callbacks(execute=True):
        requested = client.post(reverse("dashboards:export_ledger"), {"year": plan.year})
    assert requested.status_code == 303
    export = Export.objects.get()
    assert export.status == ExportStatus.DONE, export.error
    download = client.get(reverse("dashboards:export_download", args=[export.pk]))
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))

    # then no cell is a formula, and every formula-like text is a string cell
    texts, strings = [], []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    strings.append(cell.value)
                    if cell.value.startswith(FORMULA_LEADS):
                        assert cell.data_type == "s"
                        texts.append(cell.value)
    # The ledger writes a task as "1. heading", so each heading is inside a text cell.
    for heading in headings:
        assert any(heading in value for value in strings), heading
    assert "=cmd|' /C calc'!A0" in texts
