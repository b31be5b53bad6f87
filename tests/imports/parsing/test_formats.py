"""Legacy Word (.doc) and WPS text, OFD and scanned PDFs: the same plan reads the same as in .docx,
and each format's damaged, encrypted and bomb variants are refused in Chinese.

The .doc and the scan are small fixtures of our own (plans.ROUND_TRIP, made with LibreOffice and
plans.scanned_pdf_bytes); tests that need a program the machine lacks are skipped, and the
refusal without it is tested by hiding the programs."""

import io
import os
import re
import shutil
import zipfile

import pytest

from imports.parsing import Limits, ParseError, parse_bytes

from . import plans

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
HAN = re.compile(r"[\u4e00-\u9fff]")


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return handle.read()


def needs(*programs):
    if any(p in ("soffice", "antiword", "catdoc") for p in programs):
        pytest.importorskip("olefile", reason="olefile checks .doc files before they are converted")
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.skip("not installed: {}".format(", ".join(missing)))


def needs_ocr():
    needs("tesseract", "pdftoppm")
    from imports.parsing import ocr

    if ocr.missing():
        pytest.skip("tesseract has no Chinese language data")


def hide(monkeypatch, *programs):
    """Make the parser see ``programs`` as not installed."""
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name in programs else real(name, *a, **k))


def refused(data, filename, *words, **kwargs):
    with pytest.raises(ParseError) as caught:
        parse_bytes(data, filename, **kwargs)
    message = str(caught.value)
    assert len(HAN.findall(message)) >= 4, message
    for word in words:
        assert word in message, message
    return message


def tasks_and_owners(doc):
    return [(t["section"], t["number"], t["heading"], t["owners"]) for t in doc["tasks"]]


@pytest.fixture(scope="module")
def expected():
    return tasks_and_owners(parse_bytes(plans.docx_bytes(plans.ROUND_TRIP), "plan.docx"))


def test_the_docx_baseline_has_the_round_trip_plan(expected):
    assert [number for _s, number, _h, _o in expected] == ["1", "2", "3", "4"]
    assert expected[3][3] == ["县爱卫办", "各乡镇"]


# -- .doc and .wps -------------------------------------------------------------------------------


def test_a_doc_reads_like_the_same_plan_in_docx(expected):
    needs("soffice")
    doc = parse_bytes(fixture("round_trip.doc"), "plan.doc")
    assert doc["format"] == "doc"
    assert tasks_and_owners(doc) == expected


def test_a_doc_made_now_by_libreoffice_reads_the_same(expected):
    needs("soffice")
    data = plans.libreoffice_convert(plans.docx_bytes(plans.ROUND_TRIP), ".docx", "doc")
    assert tasks_and_owners(parse_bytes(data, "fresh.doc")) == expected


def test_wps_text_reads_like_a_doc(expected):
    needs("soffice")
    assert tasks_and_owners(parse_bytes(fixture("round_trip.doc"), "plan.wps")) == expected


@pytest.mark.parametrize("reader", ["antiword", "catdoc"])
def test_without_libreoffice_a_text_reader_reads_the_doc(monkeypatch, expected, reader):
    needs(reader)
    hide(monkeypatch, "soffice", "libreoffice", *({"antiword", "catdoc"} - {reader}))
    assert tasks_and_owners(parse_bytes(fixture("round_trip.doc"), "plan.doc")) == expected


def test_without_any_converter_a_doc_is_refused_naming_what_is_missing(monkeypatch):
    pytest.importorskip("olefile")
    hide(monkeypatch, "soffice", "libreoffice", "antiword", "catdoc")
    refused(fixture("round_trip.doc"), "plan.doc", "LibreOffice", "antiword", ".docx")


def test_a_damaged_doc_is_refused():
    pytest.importorskip("olefile")
    data = fixture("round_trip.doc")
    refused(data[: len(data) // 3], "plan.doc", "损坏")


def _word_stream_offset(data):
    """Where the Word stream's header (FIB, starting with wIdent 0xA5EC) is in the file."""
    olefile = pytest.importorskip("olefile")
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        fib = ole.openstream("WordDocument").read(32)
    at = data.find(fib)
    assert at > 0 and fib[:2] == b"\xec\xa5"
    return at


def test_an_encrypted_doc_is_refused_as_encrypted():
    data = bytearray(fixture("round_trip.doc"))
    at = _word_stream_offset(bytes(data)) + 0x0B
    data[at] |= 0x01  # FIB fEncrypted
    refused(bytes(data), "plan.doc", "加密", "密码")


def test_a_doc_that_declares_too_many_entries_or_too_much_data_is_refused():
    pytest.importorskip("olefile")
    data = fixture("round_trip.doc")
    refused(data, "plan.doc", "疑似恶意文件", limits=Limits(max_entries=3))
    refused(data, "plan.doc", "疑似恶意文件", limits=Limits(max_uncompressed=1000))


# -- OFD ---------------------------------------------------------------------------------------


def test_an_ofd_reads_like_the_same_plan_in_docx(expected):
    doc = parse_bytes(plans.ofd_bytes(plans.ROUND_TRIP), "plan.ofd")
    assert doc["format"] == "ofd"
    assert tasks_and_owners(doc) == expected


def test_an_ofd_over_pages_drops_its_running_header_and_continues_the_item():
    title, items = plans.ROUND_TRIP[0], plans.ROUND_TRIP[-6:]
    first = [title, *items[:2], "2.加强胸痛中心建设，提升县域急诊急救和院前急救能"]
    second = [title, "力。（县人民医院）", *items[3:]]
    doc = parse_bytes(plans.ofd_bytes([], pages=[first, second]), "plan.ofd")
    task = doc["tasks"][1]
    assert task["heading"] == "加强胸痛中心建设,提升县域急诊急救和院前急救能力" and task["owners"] == ["县人民医院"]
    assert any("页眉" in w and title in w for w in doc["warnings"])


def _paged_pdf(header_and_footer_first):
    """ROUND_TRIP's last items over two A4 pages, item 2 broken at the page end; each page has a
    running header (the title) and a footer with the issuer and the page number."""
    title, items = plans.ROUND_TRIP[0], plans.ROUND_TRIP[-6:]
    first = [*items[:2], "2.加强胸痛中心建设，提升县域急诊急救和院前急救能"]
    second = ["力。（县人民医院）", *items[3:]]
    pages = []
    for number, lines in enumerate([first, second], start=1):
        margins = [(200, 800, title), (200, 40, "白沙县卫生健康局印发"), (280, 22, f"— {number} —")]
        body = [(60, 700 - 24 * k, line) for k, line in enumerate(lines)]
        pages.append(margins + body if header_and_footer_first else margins[:1] + body + margins[1:])
    return plans.pdf_pages_bytes(pages)


@pytest.mark.parametrize("header_and_footer_first", [False, True])
def test_a_pdf_over_pages_drops_its_running_header_and_footer_and_continues_the_item(header_and_footer_first):
    doc = parse_bytes(_paged_pdf(header_and_footer_first), "plan.pdf")
    assert doc["format"] == "pdf"
    assert [t["number"] for t in doc["tasks"]] == ["1", "2", "3", "4"]
    task = doc["tasks"][1]
    assert task["heading"] == "加强胸痛中心建设,提升县域急诊急救和院前急救能力" and task["owners"] == ["县人民医院"]
    assert doc["tasks"][3]["owners"] == ["县爱卫办", "各乡镇"]
    assert any("页眉" in w and "白沙县卫生健康局印发" in w for w in doc["warnings"])
    assert not any("白沙县卫生健康局印发" in t["text"] for t in doc["tasks"])


def test_pdfs_read_in_several_threads_at_once_read_as_one_at_a_time():
    # PDFium is not thread-safe: the reader holds a lock (a crash here would end the process)
    from concurrent.futures import ThreadPoolExecutor

    files = [_paged_pdf(False), _paged_pdf(True), plans.pdf_bytes(plans.PAREN_TASK_PLAN.splitlines())] * 4
    alone = [parse_bytes(data, "plan.pdf") for data in files]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(lambda data: parse_bytes(data, "plan.pdf"), files)) == alone


def test_a_damaged_ofd_is_refused():
    data = plans.ofd_bytes(plans.ROUND_TRIP)
    refused(data[: len(data) // 2], "plan.ofd", "损坏")
    refused(plans.ofd_bytes(plans.ROUND_TRIP, content_override="<ofd:Page"), "plan.ofd", "OFD", "损坏")


def test_an_ofd_without_its_entry_point_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("Doc_0/Document.xml", "<x/>")
    refused(out.getvalue(), "plan.ofd", "压缩包")


def test_an_encrypted_ofd_is_refused_as_encrypted():
    data = plans.ofd_bytes(plans.ROUND_TRIP, extra_entries=[("Doc_0/Encryptions.xml", b"<Encryptions/>")])
    refused(data, "plan.ofd", "加密")


def test_an_ofd_bomb_is_refused():
    data = plans.ofd_bytes(plans.ROUND_TRIP, extra_entries=[("Doc_0/Res/image.bin", b"\x00" * 3_000_000)])
    refused(data, "plan.ofd", "压缩炸弹", limits=Limits(max_uncompressed=2_000_000))
    refused(data, "plan.ofd", "压缩比", limits=Limits(ratio_floor=1000))


def test_an_ofd_part_with_entity_declarations_is_refused():
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><x>&a;</x>'
    data = plans.ofd_bytes(plans.ROUND_TRIP, content_override=bomb)
    refused(data, "plan.ofd", "DOCTYPE")


# -- scanned PDF -------------------------------------------------------------------------------


def test_a_scanned_pdf_reads_like_the_same_plan_in_docx(expected):
    needs_ocr()
    seen = []
    doc = parse_bytes(fixture("round_trip_scan.pdf"), "scan.pdf", progress=seen.append)
    assert doc["format"] == "pdf-ocr"
    assert tasks_and_owners(doc) == expected
    assert any("OCR" in w for w in doc["warnings"])
    assert seen == sorted(seen) and seen[-1] == 100 and any(20 < v < 100 for v in seen)


def test_a_scan_made_now_reads_the_same(expected):
    needs_ocr()
    font = plans.cjk_font()
    if font is None:
        pytest.skip("no CJK font to draw the scan with")
    data = plans.scanned_pdf_bytes(plans.ROUND_TRIP, font)
    assert tasks_and_owners(parse_bytes(data, "scan.pdf")) == expected


def test_without_tesseract_a_scan_is_refused_naming_what_is_missing(monkeypatch):
    hide(monkeypatch, "tesseract")
    refused(fixture("round_trip_scan.pdf"), "scan.pdf", "文字层", "tesseract")


def test_ocr_stops_at_its_own_time_limit():
    needs_ocr()
    refused(fixture("round_trip_scan.pdf"), "scan.pdf", "超时", ocr_time_limit=0.0)


def test_a_damaged_scan_is_refused():
    data = fixture("round_trip_scan.pdf")
    refused(data[: len(data) // 2], "scan.pdf", "PDF")


def test_an_encrypted_scan_is_refused_as_encrypted():
    refused(plans.pdf_bytes(["内容"], encrypt=True, text=False), "scan.pdf", "加密")


def test_a_scan_whose_page_is_absurdly_large_is_refused_before_rendering():
    needs_ocr()
    data = fixture("round_trip_scan.pdf").replace(b"/MediaBox [0 0 595 842]", b"/MediaBox [0 0 99999 99999]")
    refused(data, "scan.pdf", "页面尺寸")


def test_a_scan_bomb_is_refused():
    import zlib

    stream = zlib.compress(b"\x00" * 5_000_000, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 4 0 R >> >> >>",
        b"<< /Type /XObject /Subtype /Image /Width 2500 /Height 2000 /ColorSpace /DeviceGray /BitsPerComponent 8 "
        b"/Filter /FlateDecode /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    refused(plans.pdf_from_objects(objects), "scan.pdf", "压缩", limits=Limits(max_uncompressed=1_000_000))


def test_a_scan_can_be_told_apart_before_parsing_so_the_job_can_give_ocr_its_own_limit():
    from imports.parsing import needs_ocr

    assert needs_ocr(fixture("round_trip_scan.pdf"))
    assert not needs_ocr(plans.pdf_bytes(plans.PAREN_TASK_PLAN.splitlines()))
    assert not needs_ocr(plans.docx_bytes(plans.ROUND_TRIP))
    assert not needs_ocr(b"%PDF-1.4 broken")
