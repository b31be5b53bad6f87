"""Property test: whatever text or bytes arrive, the parser returns a document or raises ParseError.

Anything else (a KeyError from python-docx, a BadZipFile, a UnicodeDecodeError, a RecursionError…)
would be a server error in the import view, so it fails here.
"""

import io
import os
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imports.parsing import ParseError, parse_bytes

from . import plans

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXTENSIONS = (".txt", ".html", ".docx", ".xlsx", ".csv", ".pdf", ".ofd", ".doc", ".wps")

# Text built from what plans are made of: Han characters, numbering, brackets, digits, units.
PLAN_CHARS = st.sampled_from(
    list(
        "一二三四五六七八九十百第部分、(（）)).。．.:：;；,，%‰/万个家名人年月日底前季度"
        "达到控制在以上以内不少于分别和及牵头市县卫生健康委局中心“”《》?\n \t0123456789"
    )
)
PLAN_TEXT = st.lists(
    st.one_of(PLAN_CHARS, st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), st.characters()), max_size=400
).map("".join)
# Plan-shaped text: numbered lines whose bodies mix words, numbers, dates and owner notes.
WORDS = st.sampled_from(
    [
        "到",
        "年底",
        "年末",
        "月底前",
        "季度末",
        "上半年",
        "达到",
        "控制在",
        "以内",
        "以上",
        "分别",
        "不少于",
        "新增",
        "建成",
        "年",
        "月",
        "日",
        "%",
        "‰",
        "个",
        "家",
        "1/10万",
        "“十四五”末",
        "、",
        "和",
        "。",
        "，",
        "；",
        "(市卫生健康委)",
        "（县财政局、县卫健局",
        "牵头",
        "率",
        "数",
    ]
)
TOKENS = st.one_of(PLAN_CHARS, WORDS, st.from_regex(r"\d{1,4}(\.\d{1,2})?", fullmatch=True))
BODY = st.lists(TOKENS, max_size=40).map("".join)
LABELS = st.sampled_from(["", "一、", "二、", "（一）", "(二)", "1.", "2、", "3．", "12", "第一部分", "第二部分："])
PLAN_LINES = st.lists(st.tuples(LABELS, BODY).map("".join), max_size=15).map(
    lambda lines: "\n".join(["2023年某市卫生健康工作要点", *lines])
)
CSV_ROWS = st.lists(st.lists(BODY, min_size=1, max_size=6).map(",".join), max_size=10).map(
    lambda rows: "\n".join(["序号,重点任务,牵头单位,完成时限,量化指标,类别", *rows])
)
ANY_TEXT = st.one_of(
    st.text(max_size=400),
    PLAN_TEXT,
    st.text(alphabet=st.characters(min_codepoint=0x3000, max_codepoint=0x9FFF), max_size=300),
)
ENCODINGS = st.sampled_from(["utf-8", "gb18030", "big5", "utf-16", "latin-1"])


def _check(data, filename):
    try:
        doc = parse_bytes(data, filename)
    except ParseError as exc:
        message = str(exc)
        assert message and any("\u4e00" <= ch <= "\u9fff" for ch in message), message
        return None
    plans.assert_spec_shape(doc)
    return doc


@SETTINGS
@given(text=ANY_TEXT, encoding=ENCODINGS, ext=st.sampled_from(EXTENSIONS))
def test_any_text_yields_a_document_or_a_parse_error(text, encoding, ext):
    _check(text.encode(encoding, "replace"), "plan" + ext)


@SETTINGS
@given(text=PLAN_LINES, encoding=st.sampled_from(["utf-8", "gb18030"]))
def test_plan_shaped_text_yields_a_document_or_a_parse_error(text, encoding):
    _check(text.encode(encoding, "replace"), "plan.txt")


@SETTINGS
@given(text=CSV_ROWS)
def test_breakdown_tables_with_arbitrary_cells_yield_a_document_or_a_parse_error(text):
    _check(text.encode("utf-8"), "plan.csv")


@SETTINGS
@given(data=st.binary(max_size=2000), ext=st.sampled_from((*EXTENSIONS, "", ".bin")))
def test_any_bytes_yield_a_document_or_a_parse_error(data, ext):
    _check(data, "upload" + ext)


# Bytes that pass the first sniffing: magic numbers of each format followed by junk, and real
# files of each format with bytes flipped or cut off.
def _real_files():
    return {
        ".docx": plans.docx_bytes(plans.COVER_PLAN.splitlines()[:12], plans.BREAKDOWN_ROWS[2:5]),
        ".xlsx": plans.xlsx_bytes(plans.BREAKDOWN_ROWS),
        ".pdf": plans.pdf_bytes(plans.PAREN_TASK_PLAN.splitlines()),
        ".html": plans.HTML_PAGE.encode("utf-8"),
        ".txt": plans.COVER_PLAN.encode("gb18030"),
        ".csv": "\n".join(",".join(r) for r in plans.BREAKDOWN_ROWS).encode("utf-8"),
        ".ofd": plans.ofd_bytes(plans.ROUND_TRIP),
    }


REAL = _real_files()
MAGIC = st.sampled_from(
    [
        b"%PDF-1.4\n",
        b"PK\x03\x04",
        b"PK\x05\x06",
        b"\xd0\xcf\x11\xe0",
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        b"<!DOCTYPE html><html>",
        b"<?xml version='1.0'?>",
    ]
)


@SETTINGS
@given(magic=MAGIC, tail=st.binary(max_size=1500), ext=st.sampled_from(EXTENSIONS))
def test_magic_numbers_followed_by_junk_yield_a_parse_error_or_a_document(magic, tail, ext):
    _check(magic + tail, "upload" + ext)


@SETTINGS
@given(ext=st.sampled_from(sorted(REAL)), name_ext=st.sampled_from(EXTENSIONS), data=st.data())
def test_damaged_real_files_yield_a_document_or_a_parse_error(ext, name_ext, data):
    raw = bytearray(REAL[ext])
    how = data.draw(st.sampled_from(["flip", "cut", "splice"]))
    if how == "cut":
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    elif how == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            at = data.draw(st.integers(0, len(raw) - 1))
            raw[at] = data.draw(st.integers(0, 255))
    else:
        at = data.draw(st.integers(0, len(raw)))
        raw[at:at] = data.draw(st.binary(max_size=64))
    _check(bytes(raw), "damaged" + name_ext)


@SETTINGS
@given(
    entries=st.dictionaries(
        st.sampled_from(
            [
                "word/document.xml",
                "xl/workbook.xml",
                "[Content_Types].xml",
                "_rels/.rels",
                "xl/worksheets/sheet1.xml",
                "word/numbering.xml",
                "docProps/core.xml",
            ]
        ),
        st.one_of(st.binary(max_size=200), PLAN_TEXT.map(lambda t: t.encode("utf-8", "replace"))),
        min_size=1,
        max_size=5,
    ),
    ext=st.sampled_from([".docx", ".xlsx"]),
)
def test_zips_with_office_part_names_and_junk_contents_yield_a_parse_error_or_a_document(entries, ext):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    _check(out.getvalue(), "package" + ext)


@SETTINGS
@given(ext=st.sampled_from([".docx", ".xlsx"]), data=st.data())
def test_real_office_packages_with_one_part_replaced_yield_a_parse_error_or_a_document(ext, data):
    source = zipfile.ZipFile(io.BytesIO(REAL[ext]))
    names = source.namelist()
    victim = data.draw(st.sampled_from(names))
    original = source.read(victim)
    how = data.draw(st.sampled_from(["junk", "cut", "text"]))
    if how == "junk":
        replacement = data.draw(st.binary(max_size=300))
    elif how == "cut":
        replacement = original[: data.draw(st.integers(0, len(original)))]
    else:
        replacement = (
            original.replace(b"<w:t>", ("<w:t>" + data.draw(PLAN_TEXT)).encode("utf-8", "replace"), 1)
            if b"<w:t>" in original
            else original + data.draw(st.binary(max_size=50))
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.writestr(name, replacement if name == victim else source.read(name))
    _check(out.getvalue(), "package" + ext)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_legacy_word_files_yield_a_document_or_a_parse_error(data):
    # few examples: what passes the compound-file checks is handed to a converter (seconds each)
    with open(os.path.join(os.path.dirname(__file__), "fixtures", "round_trip.doc"), "rb") as handle:
        raw = bytearray(handle.read())
    how = data.draw(st.sampled_from(["flip", "cut"]))
    if how == "cut":
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    else:
        for _ in range(data.draw(st.integers(1, 8))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    _check(bytes(raw), "damaged.doc")
