"""Write the default 通报 template (dashboards/docx/bulletin.docx) that dashboards.bulletins
fills with docxtpl: an A4 bulletin laid out like an official document (GB/T 9704 margins,
title in 方正小标宋简体, 三号仿宋_GB2312 body at a fixed line pitch, 黑体 headings, 四号
tables, "— 1 —" page numbers), every part in a named style so a bureau can restyle the
copy it replaces it with in Word (settings.BULLETIN_TEMPLATE).

usage: .venv/bin/python scripts/make_bulletin_template.py [output.docx]

Where a machine lacks the official fonts, the font table names what to use instead
(w:altName): 宋体 for the title, 仿宋 for the body (every Windows since Vista has it;
LibreOffice maps it further to what is installed), so Word and LibreOffice fall back to
the nearest face instead of a Latin default. Each Jinja tag sits inside one run; table
rows loop with docxtpl's {%tr %}, optional parts with {%p %}. The variables are
dashboards.bulletins.document_context's.
"""

import datetime
import sys
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from lxml import etree
from make_notice_template import (
    BODY_FONT,
    BODY_PT,
    HEADING_FONT,
    LATIN_FONT,
    RED,
    TITLE_FONT,
    page_number_footer,
    paragraph_style,
    set_border,
    set_fonts,
    set_indent_chars,
)

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "dashboards" / "docx" / "bulletin.docx"
TABLE_PT = 14  # 四号
# Font → what to use where it is not installed (the font table's w:altName), and its family.
FALLBACKS = {
    TITLE_FONT: ("宋体", "roman"),
    BODY_FONT: ("仿宋", "modern"),
    HEADING_FONT: ("SimHei", "modern"),
    "宋体": ("SimSun", "auto"),
    "仿宋": ("FangSong", "modern"),
}


def font_table(document) -> None:
    """Add the CJK fonts to word/fontTable.xml with their alternatives (w:altName, GB2312
    charset), so a viewer without 方正小标宋简体 or 仿宋_GB2312 substitutes 宋体 or 仿宋."""
    part = next(p for p in document.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml")
    root = etree.fromstring(part.blob)
    for name, (alternative, family) in FALLBACKS.items():
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        etree.SubElement(font, qn("w:altName")).set(qn("w:val"), alternative)
        etree.SubElement(font, qn("w:charset")).set(qn("w:val"), "86")  # GB2312
        etree.SubElement(font, qn("w:family")).set(qn("w:val"), family)
        etree.SubElement(font, qn("w:pitch")).set(qn("w:val"), "variable")
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def build() -> DocumentObject:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(20)

    normal = document.styles["Normal"]
    set_fonts(normal, BODY_FONT, BODY_PT)
    rpr = normal.element.get_or_add_rPr()
    lang = etree.SubElement(rpr, qn("w:lang"))
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")

    masthead = paragraph_style(document, "通报版头", east_asian=TITLE_FONT, size=36, exact_line=False)
    masthead.font.color.rgb = RED
    masthead.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    masthead.paragraph_format.space_after = Pt(12)
    number = paragraph_style(document, "通报期号", align=WD_ALIGN_PARAGRAPH.CENTER)
    number.paragraph_format.space_after = Pt(14)
    set_border(number, "bottom", 12, "C00000")  # the red rule under the masthead
    title = paragraph_style(document, "通报标题", east_asian=TITLE_FONT, size=22, exact_line=False)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_before = Pt(14)
    title.paragraph_format.space_after = Pt(14)
    body = paragraph_style(document, "通报正文", align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    set_indent_chars(body, first_line=2)
    heading = paragraph_style(document, "通报一级标题", east_asian=HEADING_FONT, align=WD_ALIGN_PARAGRAPH.LEFT)
    set_indent_chars(heading, first_line=2)
    subheading = paragraph_style(document, "通报二级标题", east_asian="楷体_GB2312", align=WD_ALIGN_PARAGRAPH.LEFT)
    set_indent_chars(subheading, first_line=2)
    cell = paragraph_style(document, "通报表格", size=TABLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER, exact_line=False)
    cell_left = paragraph_style(
        document, "通报表格左对齐", size=TABLE_PT, align=WD_ALIGN_PARAGRAPH.LEFT, exact_line=False
    )
    header = paragraph_style(document, "通报表头", east_asian=HEADING_FONT, size=TABLE_PT, exact_line=False)
    header.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    note = paragraph_style(document, "通报注", size=TABLE_PT, align=WD_ALIGN_PARAGRAPH.LEFT)
    signature = paragraph_style(document, "通报落款", align=WD_ALIGN_PARAGRAPH.RIGHT)
    set_indent_chars(signature, right=4)
    set_fonts(document.styles["Table Grid"], BODY_FONT, TABLE_PT, LATIN_FONT)

    def add(text: str, style) -> None:
        # One run per paragraph: a Jinja tag split across runs is invisible to docxtpl.
        document.add_paragraph(style=style).add_run(text)

    def table(headers: list[str], cells: list[str], widths_mm: list[float], loop: str, left: set[int] = frozenset()):
        """A grid table: the header row (repeated on each page), then one row per item of
        `loop` ("r in ranking") with `cells` (Jinja on `r`)."""
        grid = document.add_table(rows=4, cols=len(headers))
        grid.style = document.styles["Table Grid"]
        grid.alignment = WD_TABLE_ALIGNMENT.CENTER
        grid.autofit = False
        repeat = etree.SubElement(grid.rows[0]._tr.get_or_add_trPr(), qn("w:tblHeader"))
        repeat.set(qn("w:val"), "true")
        # Fixed layout with the grid's own column widths: Word reads the cells' widths, but
        # LibreOffice lays a table out by its grid (w:tblGrid), equal columns unless told.
        layout = etree.SubElement(grid._tbl.tblPr, qn("w:tblLayout"))
        layout.set(qn("w:type"), "fixed")
        for n, (width, heading_text, value) in enumerate(zip(widths_mm, headers, cells, strict=True)):
            grid.columns[n].width = Mm(width)
            for row in range(4):
                grid.cell(row, n).width = Mm(width)
            grid.cell(0, n).paragraphs[0].style = header
            grid.cell(0, n).paragraphs[0].add_run(heading_text)
            grid.cell(2, n).paragraphs[0].style = cell_left if n in left else cell
            grid.cell(2, n).paragraphs[0].add_run(value)
        grid.cell(1, 0).paragraphs[0].add_run(f"{{%tr for {loop} %}}")
        grid.cell(3, 0).paragraphs[0].add_run("{%tr endfor %}")

    add("{{ office }}", masthead)
    add("{%p if draft %}", number)
    add("（草稿，未印发）", number)
    add("{%p else %}", number)
    add("{{ number }}", number)
    add("{%p endif %}", number)
    add("{{ title }}", title)

    add("一、总体情况", heading)
    add("{{ summary }}", body)
    add("{%p if comparison %}", body)
    add("与上期（{{ compared }}）相比：", body)
    table(
        ["项目", "本期", "上期", "变化"],
        ["{{ c.item }}", "{{ c.now }}", "{{ c.before }}", "{{ c.change }}"],
        [52, 34, 34, 36],
        "c in comparison",
    )
    add("{%p endif %}", body)
    add("{{ comparison_note }}", note)

    add("二、单位排名", heading)
    add("{%p if ranking %}", body)
    add("按{% if has_scores %}考核得分、{% endif %}任务完成进度、按时报送率排序如下：", body)
    table(
        ["名次", "单位", "完成进度", "按时报送率", "考核得分"],
        ["{{ r.rank }}", "{{ r.agency }}", "{{ r.completion }}", "{{ r.on_time_rate }}", "{{ r.score }}"],
        [16, 60, 26, 28, 26],
        "r in ranking",
        left={1},
    )
    add("{%p else %}", body)
    add("本计划暂无牵头单位。", body)
    add("{%p endif %}", body)

    add("三、未报送单位", heading)
    add("{{ unreported_text }}", body)
    add("{%p if unreported %}", body)
    table(
        ["单位", "未报送", "逾期报送", "涉及任务"],
        ["{{ u.agency }}", "{{ u.missing }}", "{{ u.late }}", "{{ u.tasks }}"],
        [40, 20, 24, 72],
        "u in unreported",
        left={0, 3},
    )
    add("{%p else %}", body)
    add("各单位均按时报送。", body)
    add("{%p endif %}", body)

    add("四、红色、黄色预警任务", heading)
    for label, name, more in (("（一）红色预警", "red", "more_red"), ("（二）黄色预警", "amber", "more_amber")):
        add(label, subheading)
        add(f"{{%p if {name} %}}", body)
        table(
            ["序号", "任务", "牵头单位", "进度", "完成时限", "预警原因"],
            ["{{ t.n }}", "{{ t.task }}", "{{ t.agency }}", "{{ t.percent }}", "{{ t.due_on }}", "{{ t.reason }}"],
            [14, 46, 26, 14, 26, 30],
            f"t in {name}",
            left={1, 5},
        )
        add(f"{{{{ {more} }}}}", note)
        add("{%p else %}", body)
        add("无。", body)
        add("{%p endif %}", body)

    add("五、在办督办单", heading)
    add("{{ notices_text }}", body)
    add("{%p if notices %}", body)
    table(
        ["序号", "编号", "等级", "主送单位", "任务", "反馈时限", "办理情况"],
        [
            "{{ d.n }}",
            "{{ d.number }}",
            "{{ d.level }}",
            "{{ d.agency }}",
            "{{ d.task }}",
            "{{ d.reply_due_on }}",
            "{{ d.situation }}",
        ],
        [13, 27, 16, 24, 32, 22, 22],
        "d in notices",
        left={4},
    )
    add("{{ more_notices }}", note)
    add("{%p endif %}", body)

    add("六、未达标指标", heading)
    add("{%p if indicators %}", body)
    table(
        ["序号", "指标", "牵头单位", "目标", "最新值", "日期"],
        ["{{ i.n }}", "{{ i.name }}", "{{ i.agency }}", "{{ i.target }}", "{{ i.value }}", "{{ i.as_of }}"],
        [14, 46, 28, 26, 18, 24],
        "i in indicators",
        left={1},
    )
    add("{{ more_indicators }}", note)
    add("{%p else %}", body)
    add("截至{{ as_of }}，无已填报而未达标的量化指标。", body)
    add("{%p endif %}", body)

    add("七、下步要求", heading)
    add("{{ next_steps }}", body)
    add("", body)
    add("{{ office }}", signature)
    add("{% if issued_on %}{{ issued_on }}{% else %}{{ as_of }}{% endif %}", signature)

    page_number_footer(section)
    font_table(document)

    properties = document.core_properties
    properties.title = "通报"
    properties.author = properties.last_modified_by = ""
    properties.comments = "dashboards.bulletins 的默认模板，由 scripts/make_bulletin_template.py 生成"
    properties.created = properties.modified = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    properties.revision = 1
    return document


def main(argv: list[str]) -> int:
    output = Path(argv[1]) if len(argv) > 1 else OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    build().save(str(output))
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
