"""The printable 督办单 (escalation.printing): the .docx from our template and from a
bureau's own, what people typed printed as written, and the PDF where LibreOffice is
installed (the failure paths run against a stand-in soffice, so they run everywhere)."""

import datetime
import io
import os
import shutil
import stat
import time

import pytest
from django.utils.http import content_disposition_header
from docx import Document

from escalation import printing
from escalation.choices import Level, Origin
from escalation.models import Notice
from tests.fixtures.tasks import make_task

pytestmark = pytest.mark.django_db
HOSTILE = "<b>&{{x}}</b> {% if 1 %}\"'"
needs_libreoffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")


@pytest.fixture
def notice(plan, section, agency_a, agency_b, supervisor):
    task = make_task(plan, section, "12", lead=agency_a, co_owners=[agency_b], heading="推进基层医疗服务能力提升")
    notice = Notice.objects.create(
        series="督办",
        year=2026,
        seq=12,
        number="督办〔2026〕12号",
        level=Level.RED,
        task=task,
        agency=agency_a,
        origin=Origin.HAND,
        facts="任务已逾期15个工作日。\r\n\r\n　　当前进度40%，落后时间进度45个百分点。",
        requirements="请主要负责同志亲自部署。\n限期整改到位。",
        wants_evidence=True,
        wants_plan=True,
        reply_due_on=datetime.date(2026, 6, 30),
        issued_on=datetime.date(2026, 6, 24),
        issued_by=supervisor,
    )
    notice.copied_to.set([agency_b])
    return notice


def paragraphs(data: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(data)).paragraphs]


def test_it_prints_an_official_notice_from_our_template(notice):
    # when
    lines = paragraphs(printing.render_docx(notice))

    # then
    assert lines[:4] == ["督查室督办单", "督办〔2026〕12号", "督办等级：红色督办（严重）", "医政医管处："]
    assert "任务：12. 推进基层医疗服务能力提升" in lines
    # each line of the facts its own paragraph, blank lines and typed indents dropped
    first = lines.index("任务已逾期15个工作日。")
    assert lines[first + 1] == "当前进度40%，落后时间进度45个百分点。"
    assert "请主要负责同志亲自部署。" in lines and "限期整改到位。" in lines
    assert "反馈时请一并报送佐证材料和整改计划（整改措施、责任人、完成时限）。" in lines
    assert "请于2026年6月30日前反馈办理情况。" in lines
    assert lines[-3:] == ["督查室", "2026年6月24日", "抄送：疾病预防控制处"]
    # the Jinja paragraphs ({%p %}) leave nothing behind
    assert not [line for line in lines if "{%" in line or "{{" in line]


def test_it_asks_only_for_what_the_notice_wants_and_copies_nobody_when_none(notice):
    # given
    notice.wants_plan = False
    notice.copied_to.clear()

    # when
    lines = paragraphs(printing.render_docx(notice))

    # then
    assert "反馈时请一并报送佐证材料。" in lines
    assert not [line for line in lines if "整改计划" in line or line.startswith("抄送")]
    assert lines[-1] == "2026年6月24日"


def test_it_prints_what_people_typed_as_written(notice, agency_a):
    # given
    notice.requirements = HOSTILE + "\n第二行\x07\x0c"
    notice.facts = "A & B < C"
    agency_a.name = "医政<医管>处&"

    # when
    lines = paragraphs(printing.render_docx(notice))

    # then
    assert HOSTILE in lines
    assert "第二行" in lines
    assert "A & B < C" in lines
    assert "医政<医管>处&：" in lines


def test_it_fills_an_unsaved_notice_with_the_copied_agencies_given(notice, agency_b, commission):
    # given
    draft = Notice(
        number="督办〔2026〕13号",
        level=Level.BLUE,
        task=notice.task,
        agency=notice.agency,
        facts="临近到期。",
        requirements="加快推进。",
        reply_due_on=datetime.date(2026, 7, 7),
        issued_on=datetime.date(2026, 7, 1),
    )

    # when
    context = printing.notice_context(draft, copied=[agency_b, commission])

    # then
    assert context["copied_to"] == "疾病预防控制处、测试市卫生健康委员会"
    assert context["meaning"] == "提醒"
    assert context["issuer"] == "督查室"
    assert printing.notice_context(draft)["copied_to"] == ""


def test_it_uses_the_bureaus_template_and_office(notice, settings, tmp_path):
    # given
    bureau = Document()
    bureau.add_paragraph("{{ office }}（{{ number }}）致{{ addressee }}：{{ reply_due }}前反馈，签发：{{ issuer }}")
    path = tmp_path / "bureau.docx"
    bureau.save(str(path))
    settings.ESCALATION_NOTICE_TEMPLATE = str(path)
    settings.ESCALATION_ISSUING_OFFICE = "市卫生健康委督查室"

    # when
    lines = paragraphs(printing.render_docx(notice))

    # then
    assert printing.template_path() == path
    assert lines == ["市卫生健康委督查室（督办〔2026〕12号）致医政医管处：2026年6月30日前反馈，签发：supervisor"]


def test_a_missing_or_broken_template_is_said_in_chinese(notice, settings, tmp_path):
    settings.ESCALATION_NOTICE_TEMPLATE = str(tmp_path / "gone.docx")
    with pytest.raises(printing.NoticeTemplateError, match="找不到督办单模板"):
        printing.render_docx(notice)

    (tmp_path / "text.docx").write_text("not a docx")
    settings.ESCALATION_NOTICE_TEMPLATE = str(tmp_path / "text.docx")
    with pytest.raises(printing.NoticeTemplateError, match="不是有效的 Word 文档"):
        printing.render_docx(notice)

    broken = Document()
    broken.add_paragraph("{{ number ")
    broken.save(str(tmp_path / "broken.docx"))
    settings.ESCALATION_NOTICE_TEMPLATE = str(tmp_path / "broken.docx")
    with pytest.raises(printing.NoticeTemplateError, match="填充标记有误"):
        printing.render_docx(notice)


def test_a_template_cannot_reach_into_python(notice, settings, tmp_path):
    # given
    sneaky = Document()
    sneaky.add_paragraph("{{ number.__class__.__mro__[1].__subclasses__() }}")
    sneaky.save(str(tmp_path / "sneaky.docx"))
    settings.ESCALATION_NOTICE_TEMPLATE = str(tmp_path / "sneaky.docx")

    # then
    with pytest.raises(printing.NoticeTemplateError):
        printing.render_docx(notice)


def test_the_file_name_is_the_notice_number(notice):
    # given
    notice.number = '督办〔2026〕12号/../"x"'

    # when
    name = printing.filename(notice, "docx")

    # then
    assert name == "督办单-督办〔2026〕12号_.._x_.docx"
    assert "filename*=utf-8''" in content_disposition_header(True, name)


def test_no_libreoffice_no_pdf(notice, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")

    assert printing.pdf_available() is False
    assert printing.render_pdf(notice) is None


def _stand_in_soffice(directory, script: str) -> None:
    program = directory / "soffice"
    program.write_text("#!/bin/sh\n" + script + "\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)


def _gone(pid: int) -> bool:
    """Whether the process has ended (a zombie nobody reaped yet counts as ended)."""
    for _ in range(50):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.1)
    return False


def test_a_slow_conversion_is_stopped_and_said(notice, monkeypatch, tmp_path):
    # given: a LibreOffice that hangs, and its child (as soffice.bin would be)
    _stand_in_soffice(tmp_path, f"sleep 30 & echo $! > {tmp_path}/child\nwait")
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    monkeypatch.setattr(printing, "PDF_TIME_LIMIT", 1)

    # when
    started = time.monotonic()
    with pytest.raises(printing.PdfUnavailable, match="超时") as caught:
        printing.render_pdf(notice)

    # then
    assert time.monotonic() - started < 10
    assert ".docx" in str(caught.value)
    assert _gone(int((tmp_path / "child").read_text()))


def test_a_failed_conversion_is_said(notice, monkeypatch, tmp_path):
    _stand_in_soffice(tmp_path, "exit 1")
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")

    with pytest.raises(printing.PdfUnavailable, match="未能生成督办单 PDF"):
        printing.render_pdf(notice)


@needs_libreoffice
def test_libreoffice_makes_the_pdf(notice):
    # when
    pdf = printing.render_pdf(notice)

    # then
    assert pdf is not None and pdf.startswith(b"%PDF")
    assert printing.filename(notice, "pdf") == "督办单-督办〔2026〕12号.pdf"
