"""Readers: encodings detected, HTML sniffed, docx/xlsx/csv/PDF read, bad files refused in Chinese."""

import csv
import io

import pytest

from imports.parsing import ParseError, parse_bytes
from imports.parsing.readers import read, reflow

from . import plans


def test_it_reads_utf8_strictly_first():
    extracted = read(plans.COVER_PLAN.encode("utf-8"), "plan.txt")
    assert extracted.encoding == "utf-8"
    assert extracted.text == plans.COVER_PLAN


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_it_detects_gb_encodings(encoding):
    extracted = read(plans.PARTS_PLAN.encode(encoding), "plan.txt")
    assert extracted.encoding.replace("_", "").lower() in ("gb18030", "gbk", "gb2312", "cp936")
    assert extracted.text == plans.PARTS_PLAN


def test_it_detects_big5():
    extracted = read(plans.TRAD_PLAN.encode("big5"), "plan.txt")
    assert "big5" in extracted.encoding.lower() or extracted.encoding.lower() == "cp950"
    assert extracted.text == plans.TRAD_PLAN


def test_it_parses_a_big5_plan_in_its_own_script():
    doc = parse_bytes(plans.TRAD_PLAN.encode("big5"), "plan.txt")
    assert doc["plan"]["title"] == "2022年霧峰市衛生工作計劃"
    assert [t["heading"] for t in doc["tasks"]][:2] == ["推動急診分級照護", "提升長期照顧量能"]


def test_it_sniffs_html_saved_as_txt_and_drops_chrome():
    doc = parse_bytes(plans.HTML_PAGE.encode("utf-8"), "page.txt")
    text = "".join(t["text"] for t in doc["tasks"])
    assert doc["plan"]["title"] == "2024年青禾市卫生健康工作要点"
    assert [t["number"] for t in doc["tasks"]] == ["1", "2", "3"]
    assert "统计代码" not in text and "首页" not in text and "主办单位" not in text
    assert doc["plan"]["issued_on"] == "2024-03-08"
    assert doc["plan"]["issuer"] == "青禾市卫生健康委员会"


def test_it_reads_html_in_gb18030():
    page = plans.HTML_PAGE.replace("<head>", '<head><meta charset="gb2312">')
    doc = parse_bytes(page.encode("gb18030"), "page.html")
    assert len(doc["tasks"]) == 3


def test_it_reads_docx_paragraphs():
    doc = parse_bytes(plans.docx_bytes(plans.COVER_PLAN.splitlines()), "plan.docx")
    assert doc["plan"]["doc_number"] == "云卫发〔2023〕7号"
    assert [t["number"] for t in doc["tasks"] if t["number"]] == ["1", "2", "3", "4", "5"]


def test_it_reads_word_automatic_numbering():
    import docx

    document = docx.Document()
    document.add_paragraph("2023年白沙县卫生健康工作要点")
    document.add_paragraph("推进紧密型医共体建设。完成医共体信息平台建设。（县卫生健康局）", style="List Number")
    document.add_paragraph("加强基层人才队伍建设。招聘基层卫生人才40名。（县人社局）", style="List Number")
    out = io.BytesIO()
    document.save(out)
    doc = parse_bytes(out.getvalue(), "numbered.docx")
    assert [(t["number"], t["heading"]) for t in doc["tasks"]] == [
        ("1", "推进紧密型医共体建设"),
        ("2", "加强基层人才队伍建设"),
    ]


def test_it_reads_a_breakdown_table_inside_docx():
    data = plans.docx_bytes(["2023年临川县卫生健康工作要点任务分解表"], plans.BREAKDOWN_ROWS[2:])
    doc = parse_bytes(data, "table.docx")
    assert doc["plan"]["title"] == "2023年临川县卫生健康工作要点"
    assert [t["number"] for t in doc["tasks"]] == ["1", "2", "3"]
    assert doc["tasks"][0]["owners"] == ["县卫生健康局", "县发改局", "县财政局"]


def test_it_reads_xlsx_with_header_below_a_merged_title_and_section_rows():
    doc = parse_bytes(plans.xlsx_bytes(plans.BREAKDOWN_ROWS), "breakdown.xlsx")
    assert doc["plan"]["year"] == 2023
    assert doc["sections"] == [{"path": ["一"], "title": "提升基层服务能力"}, {"path": ["二"], "title": "加强公共卫生"}]
    first, second, third = doc["tasks"]
    assert first["section"] == ["一"] and third["section"] == ["二"]
    assert first["milestones"][0]["due"] == "2023-10-31"
    assert second["milestones"][0]["due"] == "2023-06-30"
    assert second["indicators"][0]["target"] == 70
    assert third["owners"] == ["县疾控中心"]


def test_it_reads_xlsx_with_a_category_column_and_other_header_names():
    rows = [
        ["类别", "工作任务", "责任单位", "协同单位", "时间节点", "目标值"],
        ["医疗服务", "1.推进胸痛中心建设", "县人民医院", "", "三季度末", "新建胸痛中心1家"],
        ["医疗服务", "2.推进卒中中心建设", "县中医院", "县人民医院", "", ""],
        ["公共卫生", "3.开展癌症早筛", "县疾控中心", "", "2023-11-30", "筛查人数不少于3000人"],
    ]
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.active.merge_cells("A2:A3")
    out = io.BytesIO()
    book.save(out)
    doc = parse_bytes(out.getvalue(), "tasks.xlsx")
    assert [t["section"] for t in doc["tasks"]] == [["医疗服务"], ["医疗服务"], ["公共卫生"]]
    assert [t["number"] for t in doc["tasks"]] == ["1", "2", "3"]
    assert doc["tasks"][1]["owners"] == ["县中医院", "县人民医院"]
    assert doc["tasks"][2]["milestones"][0]["due"] == "2023-11-30"
    assert doc["tasks"][2]["indicators"][0]["target"] == 3000


def test_it_reads_csv_in_gb18030():
    buf = io.StringIO()
    csv.writer(buf).writerows(plans.BREAKDOWN_ROWS)
    doc = parse_bytes(buf.getvalue().encode("gb18030"), "breakdown.csv")
    assert [t["heading"] for t in doc["tasks"]] == [
        "推进乡镇卫生院提标扩能",
        "做实家庭医生签约服务",
        "完善疾病预防控制体系",
    ]


def test_it_refuses_a_spreadsheet_without_a_task_column():
    with pytest.raises(ParseError, match="任务"):
        parse_bytes("姓名,电话\n张三,123\n".encode(), "people.csv")


def test_it_reads_a_pdf_text_layer():
    doc = parse_bytes(plans.pdf_bytes(plans.PAREN_TASK_PLAN.splitlines()), "plan.pdf")
    assert doc["plan"]["title"] == "2022年溪口县卫生健康工作安排"
    assert [t["number"] for t in doc["tasks"]] == ["一", "二", "一"]
    assert doc["tasks"][1]["owners"] == ["县人民医院", "县中医院"]


def test_it_joins_pdf_lines_wrapped_by_the_page_width():
    text = "一、医疗服务\n1.推进县域医共体建设，完善县乡村三级\n医疗服务网络。（县卫生健康局）\n2.改善医疗服务。\n"
    assert "1.推进县域医共体建设，完善县乡村三级医疗服务网络。（县卫生健康局）" in reflow(text).split("\n")


def test_it_refuses_an_encrypted_pdf():
    with pytest.raises(ParseError, match="加密"):
        parse_bytes(plans.pdf_bytes(["内容"], encrypt=True), "secret.pdf")


def test_it_refuses_a_pdf_without_text_layer():
    with pytest.raises(ParseError, match="文字层"):
        parse_bytes(plans.pdf_bytes(["内容"], text=False), "scan.pdf")


def test_it_refuses_a_corrupt_docx():
    with pytest.raises(ParseError, match="损坏"):
        parse_bytes(b"PK\x03\x04 this is not a zip", "broken.docx")


def test_it_refuses_a_docx_that_is_not_a_package():
    with pytest.raises(ParseError):
        parse_bytes(b"just some bytes", "fake.docx")


def test_it_refuses_a_damaged_old_office_file():
    pytest.importorskip("olefile")
    with pytest.raises(ParseError, match="损坏"):
        parse_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "old.doc")


def test_it_refuses_unknown_binary_content():
    with pytest.raises(ParseError) as exc:
        parse_bytes(bytes(range(256)) * 8, "blob.bin")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(exc.value))


def test_it_refuses_an_empty_file():
    with pytest.raises(ParseError, match="空"):
        parse_bytes(b"", "empty.txt")
