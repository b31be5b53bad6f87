"""Write the default 督办单 template (escalation/docx/notice.docx) that escalation.printing
fills with docxtpl: an A4 notice laid out like an official document (GB/T 9704: margins,
三号仿宋 body at a fixed line pitch, a red title and rule), every part in a named paragraph
style so a bureau can restyle the copy it replaces it with in Word.

usage: .venv/bin/python scripts/make_notice_template.py [output.docx]

The file is generated, not drawn by hand, so a change to the layout is a reviewable diff
here. Each Jinja tag sits inside one run (each paragraph is one run of text): docxtpl only
sees tags that Word has not split across runs. The variables are escalation.printing's
notice_context; facts and requirements arrive one paragraph per line.
"""

import datetime
import sys
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "escalation" / "docx" / "notice.docx"

# Font names as Word and WPS know them; where one is missing the viewer substitutes.
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
LATIN_FONT = "Times New Roman"
RED = RGBColor(0xC0, 0x00, 0x00)
BODY_PT = 16  # 三号
LINE_PT = 28  # 22 lines to an A4 page of GB/T 9704's type area


def set_fonts(style, east_asian: str, size_pt: float, latin: str = LATIN_FONT) -> None:
    """Latin and East Asian fonts by name (python-docx sets only the Latin ones), no theme fonts."""
    style.font.name = latin
    style.font.size = Pt(size_pt)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:eastAsia"), east_asian)


def set_indent_chars(style, first_line: int = 0, left: int = 0, right: int = 0) -> None:
    """Indents in characters (w:*Chars, hundredths of a character), which Word scales with the
    font, with the twips equivalent at the body size for viewers that ignore them."""
    ppr = style.element.get_or_add_pPr()
    ind = ppr.find(qn("w:ind"))
    if ind is None:
        ind = OxmlElement("w:ind")
        ppr.append(ind)
    twips_per_char = BODY_PT * 20
    for name, chars in (("firstLine", first_line), ("left", left), ("right", right)):
        if chars:
            ind.set(qn(f"w:{name}Chars"), str(chars * 100))
            ind.set(qn(f"w:{name}"), str(chars * twips_per_char))


def set_border(style, side: str, size_eighths: int, color: str) -> None:
    """A rule above or below the paragraph (w:pBdr), `size_eighths` in eighths of a point."""
    ppr = style.element.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    line = OxmlElement(f"w:{side}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(size_eighths))
    line.set(qn("w:space"), "4")
    line.set(qn("w:color"), color)
    borders.append(line)


def paragraph_style(document, name: str, *, east_asian=BODY_FONT, size=BODY_PT, align=None, exact_line=True):
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    style.quick_style = True
    set_fonts(style, east_asian, size)
    fmt = style.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    if exact_line:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(LINE_PT)
    else:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    if align is not None:
        fmt.alignment = align
    return style


def page_number_footer(section) -> None:
    """ "— 1 —" centred at the foot of each page, in 四号 Latin digits."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("— ").font.size = Pt(14)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)
    paragraph.add_run(" —").font.size = Pt(14)


def build() -> DocumentObject:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(20)

    normal = document.styles["Normal"]
    set_fonts(normal, BODY_FONT, BODY_PT)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)

    title = paragraph_style(document, "督办单标题", east_asian=TITLE_FONT, size=22, exact_line=False)
    title.font.color.rgb = RED
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(12)

    number = paragraph_style(document, "督办单编号", align=WD_ALIGN_PARAGRAPH.CENTER)
    number.paragraph_format.space_after = Pt(14)
    set_border(number, "bottom", 12, "C00000")  # the red rule under the masthead

    level = paragraph_style(document, "督办单等级", east_asian=HEADING_FONT, align=WD_ALIGN_PARAGRAPH.LEFT)
    level.paragraph_format.space_after = Pt(6)
    addressee = paragraph_style(document, "督办单主送", align=WD_ALIGN_PARAGRAPH.LEFT)
    body = paragraph_style(document, "督办单正文", align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    set_indent_chars(body, first_line=2)
    heading = paragraph_style(document, "督办单小标题", east_asian=HEADING_FONT, align=WD_ALIGN_PARAGRAPH.LEFT)
    set_indent_chars(heading, first_line=2)
    signature = paragraph_style(document, "督办单落款", align=WD_ALIGN_PARAGRAPH.RIGHT)
    set_indent_chars(signature, right=4)
    copied = paragraph_style(document, "督办单抄送", size=14, align=WD_ALIGN_PARAGRAPH.LEFT)
    set_indent_chars(copied, left=1, right=1)
    set_border(copied, "top", 4, "000000")
    set_border(copied, "bottom", 4, "000000")
    copied.paragraph_format.space_before = Pt(28)

    def add(text: str, style) -> None:
        # One run per paragraph: a Jinja tag split across runs is invisible to docxtpl.
        document.add_paragraph(style=style).add_run(text)

    # python-docx's blank document opens with no paragraph, so this is the first line.
    add("{{ office }}督办单", title)
    add("{{ number }}", number)
    add("督办等级：{{ level }}（{{ meaning }}）", level)
    add("{{ addressee }}：", addressee)
    add("任务：{{ task }}", body)
    add("{{ facts }}", body)
    add("督办要求", heading)
    add("{{ requirements }}", body)
    # {%p %}: docxtpl drops the whole paragraph holding the tag, so no blank line is left.
    add("{%p if wants_evidence and wants_plan %}", body)
    add("反馈时请一并报送佐证材料和整改计划（整改措施、责任人、完成时限）。", body)
    add("{%p elif wants_evidence %}", body)
    add("反馈时请一并报送佐证材料。", body)
    add("{%p elif wants_plan %}", body)
    add("反馈时请一并报送整改计划（整改措施、责任人、完成时限）。", body)
    add("{%p endif %}", body)
    add("请于{{ reply_due }}前反馈办理情况。", body)
    add("", body)
    add("", body)
    add("{{ office }}", signature)
    add("{{ issued_on }}", signature)
    add("{%p if copied_to %}", copied)
    add("抄送：{{ copied_to }}", copied)
    add("{%p endif %}", copied)

    page_number_footer(section)

    properties = document.core_properties
    properties.title = "督办单"
    properties.author = properties.last_modified_by = ""
    properties.comments = "escalation.printing 的默认模板，由 scripts/make_notice_template.py 生成"
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
