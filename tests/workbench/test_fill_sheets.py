"""The Excel round trip (填报表): a unit downloads its sheet for the cycle, fills it in Excel
(here: openpyxl), imports it, checks the preview of every row and confirms; each good row
becomes a normal report through the report service. A bad sheet changes nothing."""

import datetime
import io

import openpyxl
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from supervision import reports
from supervision.choices import ReportState
from supervision.models import PeriodReport, ReportRevision
from tasks.choices import TaskStatus
from tasks.models import ProgressUpdate
from tests.fixtures.tasks import make_task
from workbench import sheets
from workbench.models import SheetImport, SheetImportState

pytestmark = pytest.mark.django_db

# A Wednesday in June: the 2026年6月 cycle is due on the 25th, a task at 50 % is on pace.
JUNE_10 = datetime.datetime(2026, 6, 10, 2, 0, tzinfo=datetime.UTC)
MAY_10 = datetime.datetime(2026, 5, 10, 2, 0, tzinfo=datetime.UTC)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEETS = reverse("tasks:fill_sheets")
DOWNLOAD = reverse("tasks:fill_sheet_download")


@pytest.fixture
def on_june_10():
    with time_machine.travel(JUNE_10, tick=False):
        yield


@pytest.fixture
def tasks(plan, section, agency_a, agency_b, on_june_10):
    """Four tasks agency A leads (in progress, 50 %), and one agency B leads."""
    made = {}
    for number in ("1", "2", "3", "4"):
        made[number] = make_task(
            plan,
            section,
            number,
            lead=agency_a,
            co_owners=[agency_b],
            status=TaskStatus.IN_PROGRESS,
            percent=50,
            due_on=datetime.date(2026, 12, 31),
        )
    made["b"] = make_task(
        plan, section, "5", lead=agency_b, status=TaskStatus.IN_PROGRESS, percent=50, due_on=datetime.date(2026, 12, 31)
    )
    return made


def download(client, plan, agency=None):
    query = {"plan": plan.pk}
    if agency is not None:
        query["agency"] = agency.pk
    return client.get(DOWNLOAD, query)


def open_sheet(content: bytes):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return workbook, workbook.worksheets[0]


def row_of(sheet, task) -> int:
    id_col = sheets.COLUMNS.index("task_id") + 1
    for row in range(sheets.FIRST_ROW, sheet.max_row + 1):
        if sheet.cell(row, id_col).value == task.pk:
            return row
    raise AssertionError(f"task {task.pk} not in the sheet")


def fill(sheet, row, **values):
    for key, value in values.items():
        sheet.cell(row, sheets.COLUMNS.index(key) + 1).value = value


def saved(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, content: bytes, name="填报表.xlsx"):
    return client.post(SHEETS, {"file": SimpleUploadedFile(name, content, content_type=XLSX)})


def the_import_url(response):
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def rows_by_line(response):
    return {row.line: row for row in response.context["rows"]}


def test_it_imports_good_rows_and_marks_the_others(client, plan, tasks, staff_a):
    # given the sheet of agency A, downloaded by its staff
    client.force_login(staff_a)
    content = download(client, plan).content
    workbook, sheet = open_sheet(content)
    one, two, three, four, other = tasks["1"], tasks["2"], tasks["3"], tasks["4"], tasks["b"]
    # when two rows are filled well, one is filled for a task whose report changed since,
    # one has a percent out of range, and a row is added for a task agency B leads
    fill(
        sheet,
        row_of(sheet, one),
        status="滞后",
        percent=55,
        progress="完成全市摸底",
        problems="经费未到位",
        next_steps="协调财政",
    )
    fill(sheet, row_of(sheet, two), percent=70, progress="印发实施方案")
    fill(sheet, row_of(sheet, three), percent=80, progress="表中的进展")
    fill(sheet, row_of(sheet, four), percent=150, progress="进展")
    extra = sheets.FIRST_ROW + 4
    fill(sheet, extra, task_id=other.pk, status="进行中", percent=90, progress="替别人报")
    reports.save_draft(three.pk, staff_a, version=None, progress="同事在系统里写的草稿", today=JUNE_10.date())
    response = upload(client, saved(workbook))
    preview = client.get(the_import_url(response))

    # then the preview shows every row, old → new, with its problems
    rows = rows_by_line(preview)
    good = rows[row_of(sheet, one)]
    assert good.outcome == "apply"
    assert {(c.label, c.old, c.new) for c in good.changes} >= {
        ("状态", "进行中", "滞后"),
        ("完成百分比", "50%", "55%"),
        ("本期进展", "", "完成全市摸底"),
    }
    assert rows[row_of(sheet, two)].outcome == "apply"
    assert [kind for kind, _m in rows[row_of(sheet, three)].problems] == ["stale"]
    assert [kind for kind, _m in rows[row_of(sheet, four)].problems] == ["range"]
    assert "0 到 100" in rows[row_of(sheet, four)].problems[0][1]
    assert [kind for kind, _m in rows[extra].problems] == ["foreign"]
    assert preview.context["counts"] == {"apply": 2, "unchanged": 0, "problem": 3}
    assert not ReportRevision.objects.exists()  # nothing applied before the confirmation

    # when the user confirms
    with time_machine.travel(JUNE_10, tick=False):
        done = client.post(reverse("tasks:fill_sheet_confirm", args=[preview.context["sheet_import"].pk]))
    assert done.status_code == 302

    # then the good rows are submitted reports, through the service, and nothing else moved
    report = PeriodReport.objects.get(task=one)
    assert (report.state, report.status, report.percent, report.progress) == (
        ReportState.PENDING_REVIEW,
        TaskStatus.LAGGING,
        55,
        "完成全市摸底",
    )
    assert PeriodReport.objects.get(task=two).state == ReportState.PENDING_REVIEW
    one.refresh_from_db()
    assert (one.status, one.percent) == (TaskStatus.LAGGING, 55)
    assert PeriodReport.objects.get(task=three).progress == "同事在系统里写的草稿"
    assert PeriodReport.objects.get(task=three).state == ReportState.DRAFT
    assert not PeriodReport.objects.filter(task__in=[four, other]).exists()
    assert set(ReportRevision.objects.values_list("task_id", flat=True)) == {one.pk, two.pk}
    assert AuditEvent.objects.filter(object_type="supervision.periodreport", object_id=str(report.pk)).exists()
    sheet_import = SheetImport.objects.get()
    assert sheet_import.state == SheetImportState.CONFIRMED
    assert [item["task_id"] for item in sheet_import.results["applied"]] == [one.pk, two.pk]


def test_it_does_not_apply_a_confirmed_import_twice(client, plan, tasks, staff_a):
    # given an import confirmed once
    client.force_login(staff_a)
    workbook, sheet = open_sheet(download(client, plan).content)
    fill(sheet, row_of(sheet, tasks["1"]), percent=60, progress="完成摸底")
    url = the_import_url(upload(client, saved(workbook)))
    sheet_import = SheetImport.objects.get()
    confirm = reverse("tasks:fill_sheet_confirm", args=[sheet_import.pk])
    client.post(confirm)
    assert ReportRevision.objects.count() == 1

    # when it is confirmed again (a second tab, a double click)
    response = client.post(confirm, follow=True)

    # then nothing is written twice, and the user is told why
    assert ReportRevision.objects.count() == 1
    assert "不会重复提交" in response.content.decode()
    assert client.get(url).status_code == 200


def test_a_row_that_marks_the_task_done_asks_for_evidence_on_the_task_page(client, plan, tasks, staff_a):
    client.force_login(staff_a)
    workbook, sheet = open_sheet(download(client, plan).content)
    fill(sheet, row_of(sheet, tasks["1"]), status="已完成", percent=100, progress="全部完成")
    fill(sheet, row_of(sheet, tasks["2"]), percent=70, progress="")
    preview = client.get(the_import_url(upload(client, saved(workbook))))
    rows = rows_by_line(preview)
    assert rows[row_of(sheet, tasks["1"])].problems == [("evidence", "需上传佐证材料，请在任务页面报送")]
    assert rows[row_of(sheet, tasks["2"])].problems == [("required", "请填写本期进展。")]
    assert "需上传佐证材料，请在任务页面报送" in preview.content.decode()


def test_rows_left_as_downloaded_are_unchanged_and_not_sent(client, plan, tasks, staff_a):
    client.force_login(staff_a)
    content = download(client, plan).content
    preview = client.get(the_import_url(upload(client, content)))
    assert {row.outcome for row in preview.context["rows"]} == {"unchanged"}
    assert "确认提交" not in preview.content.decode()


def _malformed(client, plan, tasks, staff_a):
    """Bad files, each with the words its refusal must say."""
    client.force_login(staff_a)
    content = download(client, plan).content
    no_meta, sheet = open_sheet(content)
    del no_meta[sheets.META_TITLE]
    forged, _sheet = open_sheet(content)
    forged[sheets.META_TITLE].cell(4, 2).value = "forged:signature"
    moved, sheet = open_sheet(content)
    sheet.delete_cols(sheets.COLUMNS.index("percent") + 1)
    with time_machine.travel(MAY_10, tick=False):
        may = download(client, plan).content
    client.force_login(staff_a)  # a new session: the one stamped in May has idled out
    return [
        ("not an Excel file", b"just some text, renamed", "文件无法读取"),
        ("an old .xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "文件无法读取"),
        ("a damaged zip", b"PK\x03\x04" + b"\x00" * 100, "文件无法读取"),
        ("no signature", saved(no_meta), "不是本系统导出的填报表"),
        ("a forged signature", saved(forged), "不是本系统导出的填报表"),
        ("a column deleted", saved(moved), "表头与填报表模板不符"),
        ("another cycle", may, "其他报送周期"),
    ]


def test_a_malformed_sheet_is_refused_in_chinese_and_changes_nothing(client, plan, tasks, staff_a):
    cases = _malformed(client, plan, tasks, staff_a)
    reports_before, events_before = PeriodReport.objects.count(), AuditEvent.objects.count()
    for what, content, words in cases:
        response = upload(client, content)
        assert response.status_code == 400, what
        assert words in response.content.decode(), what
    assert not SheetImport.objects.exists()
    assert PeriodReport.objects.count() == reports_before
    assert AuditEvent.objects.count() == events_before


def test_only_xlsx_files_are_taken(client, plan, tasks, staff_a):
    client.force_login(staff_a)
    response = upload(client, download(client, plan).content, name="填报表.xls")
    assert response.status_code == 400
    assert "只能导入 .xlsx 格式的填报表" in response.content.decode()
    assert not SheetImport.objects.exists()


def test_another_agencys_sheet_is_refused(client, plan, tasks, staff_b, supervisor, agency_a):
    # given agency A's sheet, made by the supervision office
    client.force_login(supervisor)
    content = download(client, plan, agency_a).content
    # when staff of agency B import it
    client.force_login(staff_b)
    response = upload(client, content)
    # then it is refused and nothing is kept
    assert response.status_code == 400
    assert "只能导入本单位的填报表" in response.content.decode()
    assert not SheetImport.objects.exists()


def test_staff_of_another_agency_get_404_for_a_sheet_or_an_import_not_theirs(
    client, plan, tasks, staff_a, staff_b, agency_a, staff_outside
):
    client.force_login(staff_a)
    workbook, sheet = open_sheet(download(client, plan).content)
    fill(sheet, row_of(sheet, tasks["1"]), percent=60, progress="完成摸底")
    url = the_import_url(upload(client, saved(workbook)))
    sheet_import = SheetImport.objects.get()

    client.force_login(staff_b)
    assert download(client, plan, agency_a).status_code == 404
    assert client.get(url).status_code == 404
    assert client.post(reverse("tasks:fill_sheet_confirm", args=[sheet_import.pk])).status_code == 404
    assert client.post(reverse("tasks:fill_sheet_discard", args=[sheet_import.pk])).status_code == 404
    client.force_login(staff_outside)
    assert download(client, plan).status_code == 404
    sheet_import.refresh_from_db()
    assert sheet_import.state == SheetImportState.PREVIEWED
    assert not ReportRevision.objects.exists()


def test_the_supervision_office_downloads_any_agencys_sheet_but_imports_none(
    client, plan, tasks, supervisor, agency_a, agency_b
):
    client.force_login(supervisor)
    page = client.get(SHEETS, {"agency": agency_b.pk})
    assert page.status_code == 200
    assert [p.pk for p in page.context["plans"]] == [plan.pk]
    _workbook, sheet = open_sheet(download(client, plan, agency_b).content)
    assert [sheet.cell(row, 3).value for row in range(sheets.FIRST_ROW, sheet.max_row + 1)] == ["任务5"]
    assert upload(client, b"x").status_code == 403


def test_the_downloaded_sheet_is_locked_with_validated_input_cells(client, plan, tasks, staff_a):
    # given a sheet as staff download it
    client.force_login(staff_a)
    response = download(client, plan)
    assert response["Content-Type"] == XLSX
    workbook, sheet = open_sheet(response.content)
    rows = range(sheets.FIRST_ROW, sheets.FIRST_ROW + 4)

    # then the structure is locked and only the input cells are editable
    assert sheet.protection.sheet is True
    assert workbook.security.lockStructure is True
    for row in rows:
        for index, key in enumerate(sheets.COLUMNS, start=1):
            assert sheet.cell(row, index).protection.locked is (key not in sheets.INPUT_COLUMNS), (row, key)
    assert sheet.column_dimensions["I"].hidden and sheet.column_dimensions["J"].hidden
    assert workbook[sheets.META_TITLE].sheet_state == "veryHidden"
    # and status is a list of the statuses, percent a whole number 0–100
    validations = {dv.type: dv for dv in sheet.data_validations.dataValidation}
    assert validations["list"].formula1 == '"未开始,进行中,已完成,滞后,暂缓"'
    assert str(validations["list"].sqref) == "D5:D8"
    assert (validations["whole"].formula1, validations["whole"].formula2) == ("0", "100")
    assert str(validations["whole"].sqref) == "E5:E8"
    # and it reads and prints as an official sheet: 宋体 of at least 10 pt, landscape
    assert sheet.cell(1, 1).value == f"{plan.title} · 进展填报表"
    assert "医政医管处" in sheet.cell(2, 1).value and "2026年6月" in sheet.cell(2, 1).value
    assert all(sheet.cell(row, 3).font.name == "SimSun" and sheet.cell(row, 3).font.sz >= 10 for row in rows)
    assert sheet.page_setup.orientation == "landscape"
    assert [sheet.cell(row, 4).value for row in rows] == ["进行中"] * 4
    assert [sheet.cell(row, 5).value for row in rows] == [50] * 4


def test_a_formula_typed_into_a_task_stays_text(client, plan, section, agency_a, staff_a, on_june_10):
    make_task(plan, section, "9", lead=agency_a, heading='=HYPERLINK("http://x")', due_on=datetime.date(2026, 12, 31))
    client.force_login(staff_a)
    _workbook, sheet = open_sheet(download(client, plan).content)
    cell = sheet.cell(sheets.FIRST_ROW, 3)
    assert cell.data_type == "s" and cell.value.startswith("=")


def test_download_and_preview_run_a_bounded_number_of_queries(
    client, plan, section, agency_a, staff_a, on_june_10, django_assert_max_num_queries
):
    for number in range(1, 31):
        make_task(plan, section, str(number), lead=agency_a, status=TaskStatus.IN_PROGRESS, percent=50)
    client.force_login(staff_a)
    with django_assert_max_num_queries(12):
        content = download(client, plan).content
    workbook, sheet = open_sheet(content)
    for row in range(sheets.FIRST_ROW, sheets.FIRST_ROW + 30):
        fill(sheet, row, percent=60, progress="进展")
    url = the_import_url(upload(client, saved(workbook)))
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.context["counts"]["apply"] == 30


def test_discarding_an_import_writes_no_report(client, plan, tasks, staff_a):
    client.force_login(staff_a)
    workbook, sheet = open_sheet(download(client, plan).content)
    fill(sheet, row_of(sheet, tasks["1"]), percent=60, progress="完成摸底")
    the_import_url(upload(client, saved(workbook)))
    sheet_import = SheetImport.objects.get()
    assert client.post(reverse("tasks:fill_sheet_discard", args=[sheet_import.pk])).status_code == 302
    sheet_import.refresh_from_db()
    assert sheet_import.state == SheetImportState.DISCARDED
    assert client.post(reverse("tasks:fill_sheet_confirm", args=[sheet_import.pk])).status_code == 302
    assert not PeriodReport.objects.exists()


def test_my_tasks_links_to_the_sheets(client, staff_a):
    client.force_login(staff_a)
    assert SHEETS in client.get(reverse("tasks:my_tasks")).content.decode()


def test_a_sheet_is_one_action_for_the_reporting_quota(client, settings, plan, tasks, staff_a):
    # given a quota of one report a minute, and an import of two good rows
    settings.REPORTS_PER_USER_MINUTE = 1
    client.force_login(staff_a)
    workbook, sheet = open_sheet(download(client, plan).content)
    fill(sheet, row_of(sheet, tasks["1"]), percent=60, progress="完成摸底")
    fill(sheet, row_of(sheet, tasks["2"]), percent=70, progress="印发方案")
    upload(client, saved(workbook))
    sheet_import = SheetImport.objects.get()

    # when it is confirmed
    client.post(reverse("tasks:fill_sheet_confirm", args=[sheet_import.pk]))

    # then both rows go in at once: the sheet is counted once, not once a row
    sheet_import.refresh_from_db()
    assert sheet_import.state == SheetImportState.CONFIRMED and not sheet_import.results["stopped"]
    assert sorted(ReportRevision.objects.values_list("task_id", flat=True)) == [tasks["1"].pk, tasks["2"].pk]


def test_a_used_up_quota_holds_the_whole_sheet_for_a_later_confirmation(client, settings, plan, tasks, staff_a):
    # given an import of two good rows, and the minute's one report already used
    settings.REPORTS_PER_USER_MINUTE = 1
    client.force_login(staff_a)
    workbook, sheet = open_sheet(download(client, plan).content)
    fill(sheet, row_of(sheet, tasks["1"]), percent=60, progress="完成摸底")
    fill(sheet, row_of(sheet, tasks["2"]), percent=70, progress="印发方案")
    upload(client, saved(workbook))
    sheet_import = SheetImport.objects.get()
    confirm = reverse("tasks:fill_sheet_confirm", args=[sheet_import.pk])
    ProgressUpdate.objects.create(task=tasks["3"], author=staff_a, status=tasks["3"].status, percent=tasks["3"].percent)

    # when it is confirmed: nothing is sent, and it says why
    client.post(confirm)
    sheet_import.refresh_from_db()
    assert sheet_import.state == SheetImportState.PREVIEWED
    assert "每分钟最多提交 1 次" in sheet_import.results["stopped"]
    assert not ReportRevision.objects.exists()

    # when it is confirmed again a few minutes later, both go in
    with time_machine.travel(JUNE_10 + datetime.timedelta(minutes=3), tick=False):
        client.force_login(staff_a)
        client.post(confirm)
    sheet_import.refresh_from_db()
    assert sheet_import.state == SheetImportState.CONFIRMED
    assert sorted(ReportRevision.objects.values_list("task_id", flat=True)) == [tasks["1"].pk, tasks["2"].pk]
