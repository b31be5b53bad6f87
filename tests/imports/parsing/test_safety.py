"""Bad input is refused before (or at the edge of) any reader, with a specific Chinese message.

Every bad file is built here; the bombs stay small on disk by lowering the limits through
``parse_bytes(..., limits=Limits(...))``, plus one check of each real default limit.
"""

import io
import re
import struct
import zipfile
import zlib

import pytest
from lxml import etree

from core.uploads.office import open_zip, prolog_declares_dtd
from core.uploads.pdf import check_pdf
from core.uploads.sniff import CFB_MAGIC
from imports.parsing import DEFAULT_MAX_BYTES, Limits, ParseError, parse_bytes, parse_file, safety
from imports.parsing.cleaning import fold_width
from imports.parsing.readers import html_to_text
from imports.parsing.wordml import W, table_rows

from . import plans

HAN = re.compile(r"[\u4e00-\u9fff]")


def refused(data, filename, *words, **kwargs):
    """The ParseError message for ``data``; it must be Chinese and contain each of ``words``."""
    with pytest.raises(ParseError) as caught:
        parse_bytes(data, filename, **kwargs)
    message = str(caught.value)
    assert len(HAN.findall(message)) >= 4, message
    for word in words:
        assert word in message, message
    return message


def package(entries, compression=zipfile.ZIP_DEFLATED):
    """A zip of (name, bytes) entries."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in entries:
            info = zipfile.ZipInfo(name)
            info.compress_type = compression
            archive.writestr(info, content)
    return out.getvalue()


def docx_entries(data=None):
    source = zipfile.ZipFile(
        io.BytesIO(
            data or plans.docx_bytes(["2023年某县卫生健康工作要点", "一、医疗", "1.推进医共体建设。（县卫生健康局）"])
        )
    )
    return [(name, source.read(name)) for name in source.namelist()]


def patch_entry(data, name, **fields):
    """Rewrite header fields of entry ``name`` in both its local header and the central directory
    (flag_bits, file_size) — how a hostile zip lies about itself."""
    raw = bytearray(data)
    encoded = name.encode("utf-8")
    for sig, flag_at, size_at, name_at in ((b"PK\x03\x04", 6, 22, 30), (b"PK\x01\x02", 8, 24, 46)):
        pos = raw.find(sig)
        while pos >= 0:
            if raw[pos + name_at : pos + name_at + len(encoded)] == encoded:
                if "flag_bits" in fields:
                    struct.pack_into("<H", raw, pos + flag_at, fields["flag_bits"])
                if "file_size" in fields:
                    struct.pack_into("<I", raw, pos + size_at, fields["file_size"])
            pos = raw.find(sig, pos + 4)
    return bytes(raw)


# -- size ----------------------------------------------------------------------------------------


def test_an_empty_file_is_refused():
    refused(b"", "plan.txt", "文件为空")
    refused(b"", "plan.docx", "文件为空")


def test_a_file_over_max_bytes_is_refused():
    data = plans.COVER_PLAN.encode("utf-8")
    message = refused(data, "plan.txt", "文件过大", max_bytes=len(data) - 1)
    assert "上限" in message
    assert parse_bytes(data, "plan.txt", max_bytes=len(data))["tasks"]


def test_the_default_size_limit_is_20_mb_and_applies_to_files_on_disk(tmp_path):
    assert DEFAULT_MAX_BYTES == 20 * 1024 * 1024
    path = tmp_path / "big.txt"
    path.write_bytes(b"1" * (DEFAULT_MAX_BYTES + 1))
    with pytest.raises(ParseError, match="文件过大"):
        parse_file(path)
    small = tmp_path / "small.txt"
    small.write_bytes(plans.COVER_PLAN.encode("utf-8"))
    with pytest.raises(ParseError, match="文件过大"):
        parse_file(small, max_bytes=100)


# -- junk and wrong extensions -------------------------------------------------------------------


def test_0xff_junk_is_refused():
    refused(b"\xff" * 4096, "plan.txt", "无法识别")


@pytest.mark.parametrize("filename", ["plan.txt", "plan.html", "plan.csv", "plan"])
def test_binary_junk_with_a_text_extension_is_refused(filename):
    junk = bytes((i * 167 + 13) % 256 for i in range(8192))
    refused(junk, filename, "无法识别")


def test_latin1_junk_is_refused():
    refused(bytes(range(0xC0, 0x100)) * 40, "plan.txt", "无法识别")


def test_text_in_characters_no_plan_uses_is_refused_as_not_text():
    refused(("Жёлтый ёж съел щи; " * 200).encode("utf-8"), "plan.txt", "无法识别", "不是文本")


def test_a_pdf_named_docx_is_sniffed_and_read_as_pdf():
    doc = parse_bytes(plans.pdf_bytes(plans.PAREN_TASK_PLAN.splitlines()), "plan.docx")
    assert [t["number"] for t in doc["tasks"]] == ["一", "二", "一"]


def test_a_docx_named_txt_is_sniffed_and_read_as_word():
    doc = parse_bytes(plans.docx_bytes(plans.COVER_PLAN.splitlines()), "plan.txt")
    assert len(doc["tasks"]) == 7


@pytest.mark.parametrize("filename", ["plan.docx", "plan.xlsx"])
def test_text_named_docx_or_xlsx_is_refused_as_a_mismatch(filename):
    refused(plans.COVER_PLAN.encode("utf-8"), filename, "扩展名", "不符")


def test_text_named_pdf_is_refused_as_a_mismatch():
    refused(plans.COVER_PLAN.encode("utf-8"), "plan.pdf", "扩展名", "不是 PDF")


def test_a_zip_that_is_no_office_file_is_refused():
    refused(package([("readme.txt", b"hello")]), "plan.txt", "无法识别", "压缩包")


def test_a_corrupt_zip_is_refused():
    data = plans.docx_bytes(["2023年某县卫生健康工作要点"])
    refused(data[: len(data) // 2], "plan.docx", "损坏")


# -- encrypted files -----------------------------------------------------------------------------


def test_an_encrypted_pdf_is_refused():
    refused(plans.pdf_bytes(["内容"], encrypt=True), "secret.pdf", "加密")


def test_an_encrypted_zip_entry_is_refused():
    data = package(docx_entries())
    refused(patch_entry(data, "word/document.xml", flag_bits=0x1), "plan.docx", "文件已加密")


def test_a_password_protected_office_file_is_refused_as_encrypted():
    # Office saves an encrypted .docx/.xlsx as an OLE compound file with these two streams.
    data = (
        CFB_MAGIC
        + b"\x00" * 504
        + "EncryptionInfo".encode("utf-16-le")
        + b"\x00" * 64
        + "EncryptedPackage".encode("utf-16-le")
        + b"\x00" * 512
    )
    refused(data, "plan.docx", "文件已加密", "密码")


def test_a_damaged_old_office_file_is_refused_as_damaged():
    pytest.importorskip("olefile")
    refused(CFB_MAGIC + b"\x00" * 1024, "plan.doc", "旧版", "损坏")


# -- corrupt PDFs --------------------------------------------------------------------------------


def test_a_truncated_pdf_is_refused():
    data = plans.pdf_bytes(plans.PAREN_TASK_PLAN.splitlines())
    refused(data[: len(data) // 3], "plan.pdf", "PDF", "损坏")


def test_a_pdf_header_followed_by_junk_is_refused():
    refused(b"%PDF-1.7\n" + bytes(range(256)) * 4, "plan.pdf", "PDF", "损坏")


def test_a_corrupt_pdf_named_docx_gets_the_pdf_message():
    refused(b"%PDF-1.4\n garbage", "plan.docx", "PDF")


def test_a_pdf_without_a_text_layer_is_refused():
    refused(plans.pdf_bytes(["内容"], text=False), "scan.pdf", "文字层")


# -- zip bombs and hostile archives --------------------------------------------------------------


def test_a_zip_bomb_entry_is_refused_on_its_compression_ratio():
    entries = [*docx_entries(), ("word/media/image1.png", b"\x00" * (4 * 1024 * 1024))]
    data = package(entries)
    assert len(data) < 64 * 1024  # ~1000:1
    message = refused(data, "plan.docx", "压缩比异常", limits=Limits(ratio_floor=1024 * 1024, max_ratio=100))
    assert "image1.png" in message


def test_a_zip_bomb_is_refused_with_the_default_limits():
    entries = [*docx_entries(), ("word/media/image1.png", b"\x00" * (40 * 1024 * 1024))]
    refused(package(entries), "plan.docx", "压缩比异常")


def test_many_moderately_compressible_entries_are_refused_on_the_overall_ratio():
    entries = docx_entries() + [(f"word/media/i{i}.bin", (b"\x00" * 900 + b"x") * 600) for i in range(40)]
    limits = Limits(ratio_floor=1024 * 1024, max_ratio=1000, max_total_ratio=50)
    refused(package(entries), "plan.docx", "压缩比异常", "整体", limits=limits)


def test_a_zip_that_declares_a_huge_entry_is_refused_before_anything_inflates_it():
    data = package([*docx_entries(), ("word/media/big.bin", b"x" * 1000)])
    data = patch_entry(data, "word/media/big.bin", file_size=150 * 1024 * 1024)
    refused(data, "plan.docx", "解压后过大")


def test_too_many_entries_are_refused():
    entries = docx_entries() + [(f"customXml/item{i}.bin", b"x") for i in range(60)]
    refused(package(entries), "plan.docx", "文件过多", limits=Limits(max_entries=50))
    entries = docx_entries() + [(f"customXml/item{i}.bin", b"x") for i in range(1001)]
    refused(package(entries), "plan.docx", "文件过多")


@pytest.mark.parametrize("name", ["../evil.xml", "word/../../evil.xml", "/etc/evil.xml", "C:/evil.xml", "..\\evil.xml"])
def test_entries_escaping_the_archive_are_refused(name):
    refused(package([*docx_entries(), (name, b"<x/>")]), "plan.docx", "路径异常")


def test_overlapping_entries_are_refused():
    data = package(docx_entries())
    start = data.find(b"PK\x01\x02")
    end = data.find(b"PK\x05\x06")
    name_len = struct.unpack_from("<H", data, start + 28)[0]
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    big = max(infos, key=lambda i: i.compress_size)
    copies = []
    for i in range(len(data) // max(1, big.compress_size) + 2):  # enough to exceed the file size
        entry = bytearray(data[start : start + 46 + name_len])  # the first entry's record, no extras
        struct.pack_into("<HH", entry, 30, 0, 0)
        struct.pack_into("<I", entry, 42, big.header_offset)
        struct.pack_into("<I", entry, 20, big.compress_size)
        struct.pack_into("<I", entry, 24, big.file_size)
        struct.pack_into("<I", entry, 16, big.CRC)
        struct.pack_into("<H", entry, 10, big.compress_type)
        entry[46 : 46 + name_len] = str(i).zfill(name_len).encode()[:name_len]
        copies.append(bytes(entry))
    eocd = bytearray(data[end:])
    count = struct.unpack_from("<H", eocd, 10)[0] + len(copies)
    struct.pack_into("<HH", eocd, 8, count, count)
    struct.pack_into("<I", eocd, 12, struct.unpack_from("<I", eocd, 12)[0] + sum(map(len, copies)))
    forged = data[:end] + b"".join(copies) + bytes(eocd)
    refused(forged, "plan.docx", "重叠")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>
<w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"""

XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets>&xxe;</sheets></workbook>"""


def replaced(entries, name, content):
    return [(n, content if n == name else c) for n, c in entries]


def test_billion_laughs_in_a_docx_part_is_refused():
    message = refused(
        package(replaced(docx_entries(), "word/document.xml", BILLION_LAUGHS)), "plan.docx", "DOCTYPE", "实体"
    )
    assert "word/document.xml" in message


def test_an_external_entity_in_an_xlsx_part_is_refused():
    source = zipfile.ZipFile(io.BytesIO(plans.xlsx_bytes(plans.BREAKDOWN_ROWS)))
    entries = [(n, source.read(n)) for n in source.namelist()]
    refused(package(replaced(entries, "xl/workbook.xml", XXE)), "plan.xlsx", "DOCTYPE")


def test_a_doctype_in_a_utf16_part_is_refused():
    part = BILLION_LAUGHS.decode("ascii").replace('version="1.0"?', 'version="1.0" encoding="UTF-16"?')
    data = package(replaced(docx_entries(), "[Content_Types].xml", b"\xff\xfe" + part.encode("utf-16-le")))
    refused(data, "plan.docx", "DOCTYPE")


def test_a_doctype_in_a_part_expat_cannot_read_is_still_found():
    part = b'<?xml version="1.0" encoding="x-unknown"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>'
    refused(package(replaced(docx_entries(), "docProps/app.xml", part)), "plan.docx", "DOCTYPE")


def test_the_xml_check_reads_only_the_prolog():
    class Counting(io.BytesIO):
        taken = 0

        def read(self, n=-1):
            out = super().read(n)
            Counting.taken += len(out)
            return out

    body = b'<?xml version="1.0"?><w:document>' + b"<w:p/>" * 1_000_000 + b"</w:document>"
    assert prolog_declares_dtd(Counting(body)) is False
    assert Counting.taken <= 64 * 1024


def test_a_real_docx_passes_the_archive_checks():
    archive = open_zip(plans.docx_bytes(plans.COVER_PLAN.splitlines()))
    assert "word/document.xml" in archive.namelist()


# -- PDF bombs -----------------------------------------------------------------------------------


def pdf_with_stream(payload):
    """A PDF whose page content is one Flate stream (pdfminer would inflate it in full)."""
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(payload) + payload + b"\nendstream"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        stream,
    ]
    return plans.pdf_from_objects(objects)


def zeros_deflated(megabytes):
    packer = zlib.compressobj(9)
    chunk = b"\x00" * (1024 * 1024)
    return b"".join(packer.compress(chunk) for _ in range(megabytes)) + packer.flush()


def test_a_pdf_flate_bomb_is_refused():
    data = pdf_with_stream(zeros_deflated(4))
    refused(data, "plan.pdf", "PDF", "过大", limits=Limits(max_uncompressed=2 * 1024 * 1024))


def test_a_pdf_flate_bomb_is_refused_with_the_default_limits():
    refused(pdf_with_stream(zeros_deflated(120)), "plan.pdf", "PDF", "压缩炸弹")


def test_a_nested_pdf_flate_bomb_is_refused():
    inner = zeros_deflated(8)  # ~8 KB that inflates to 8 MB, deflated once more
    data = pdf_with_stream(zlib.compress(inner, 9))
    assert len(data) < 4096
    refused(data, "plan.pdf", "PDF", limits=Limits(max_uncompressed=4 * 1024 * 1024))


def test_a_pdf_with_a_text_layer_passes_the_pdf_check():
    check_pdf(plans.pdf_bytes(plans.PAREN_TASK_PLAN.splitlines()))


def lzw_zeros(resets):
    """LZW data (PDF's, EarlyChange 1) that inflates to about 7 MB of zero bytes per table reset."""
    codes = []
    for _ in range(resets):
        codes += [(256, 9), (0, 9)]  # clear the table, then a literal
        code, width = 258, 9
        while code < 4094:  # each code names the string before it plus one byte: 1, 2, 3 … bytes
            codes.append((code, width))
            code += 1
            if code + 1 >= 1 << width and width < 12:
                width += 1
    codes.append((257, 12))
    out, acc, bits = bytearray(), 0, 0
    for code, width in codes:
        acc, bits = ((acc << width) | code) & 0xFFFFFF, bits + width
        while bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if bits:
        out.append((acc << (8 - bits)) & 0xFF)
    return bytes(out)


@pytest.mark.parametrize(
    "filter_name,payload",
    [
        ("LZWDecode", lambda: lzw_zeros(60)),  # 0.3 MB inflating to 440 MB
        ("RunLengthDecode", lambda: b"\x81\x20" * (2 * 1024 * 1024) + b"\x80"),  # 4 MB to 256 MB
    ],
)
def test_a_pdf_bomb_the_check_does_not_measure_is_read_within_bounds(filter_name, payload, tmp_path):
    """check_pdf measures Flate streams only; PDFium reads LZW and RunLength bombs without
    inflating them (a child process, so that its peak memory is its own)."""
    import subprocess
    import sys

    data = payload()
    stream = b"<< /Length %d /Filter /%s >>\nstream\n" % (len(data), filter_name.encode()) + data + b"\nendstream"
    path = tmp_path / "bomb.pdf"
    path.write_bytes(
        plans.pdf_from_objects(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                stream,
            ]
        )
    )
    check_pdf(path.read_bytes())  # not refused: the check does not inflate these
    probe = (
        "import os, resource, sys\n"
        "import django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
        "django.setup()\n"
        "from imports.parsing.pdftext import text_pages\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "pages = text_pages(open(sys.argv[1], 'rb').read())\n"
        "assert not any(line.strip() for page in pages for line in page)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=60, check=True
    )
    assert int(done.stdout.split()[-1]) < 100 * 1024  # kB of peak memory: far below what the stream inflates to


# -- spreadsheets and Word tables that would explode in the readers ------------------------------


def test_a_spreadsheet_with_a_far_away_cell_is_refused_as_too_large():
    import openpyxl

    book = openpyxl.Workbook()
    book.active["A1"] = "重点任务"
    book.active["XFD1048576"] = "x"
    out = io.BytesIO()
    book.save(out)
    refused(out.getvalue(), "plan.xlsx", "表格过大")


def test_styled_empty_cells_do_not_count_as_used_area():
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in plans.BREAKDOWN_ROWS:
        sheet.append(row)
    sheet["AZ5000"].number_format = "0.00"  # a format, no value
    out = io.BytesIO()
    book.save(out)
    assert len(parse_bytes(out.getvalue(), "plan.xlsx")["tasks"]) == 3


def test_a_word_table_cell_spanning_a_billion_columns_is_read_once():
    data = plans.docx_bytes(["2023年临川县卫生健康工作要点任务分解表"], plans.BREAKDOWN_ROWS[2:])
    entries = docx_entries(data)
    document = dict(entries)["word/document.xml"]
    document = document.replace(b"<w:tcPr>", b'<w:tcPr><w:gridSpan w:val="1000000000"/>', 1)
    assert b"1000000000" in document
    doc = parse_bytes(package(replaced(entries, "word/document.xml", document)), "table.docx")
    assert [t["number"] for t in doc["tasks"]] == ["1", "2", "3"]


def test_word_table_merges_read_as_python_docx_reads_them():
    import docx

    document = docx.Document()
    document.add_paragraph("2023年某县卫生健康工作要点任务分解表")
    table = document.add_table(rows=4, cols=4)
    for r, row in enumerate(
        [
            ["序号", "重点任务", "牵头单位", "完成时限"],
            ["1", "推进医共体建设", "县卫生健康局", "6月底前"],
            ["2", "推进家庭医生签约", "", "9月底前"],
            ["3", "完善疾控体系", "县疾控中心", ""],
        ]
    ):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(1, 2).merge(table.cell(2, 2))  # vertical merge
    table.cell(3, 2).merge(table.cell(3, 3))  # horizontal merge
    out = io.BytesIO()
    document.save(out)

    def expected(tbl):
        rows = []
        for row in tbl.rows:
            cells = []
            for cell in row.cells:
                value = cell.text.strip()
                if not cells or value != cells[-1] or not value:
                    cells.append(value)
            rows.append(cells)
        return rows

    loaded = docx.Document(io.BytesIO(out.getvalue())).tables[0]
    tbl = etree.fromstring(zipfile.ZipFile(out).read("word/document.xml")).find(f"{W}body/{W}tbl")
    assert table_rows(tbl, Limits().max_span) == expected(loaded)


# -- HTML ----------------------------------------------------------------------------------------


def test_html_entities_declared_in_a_doctype_are_not_expanded_and_external_ones_not_loaded():
    page = (
        '<!DOCTYPE html [<!ENTITY a "AAAAAAAAAA"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        "<html><body><p>一、医疗</p><p>1.推进&c;工作。&xxe;</p></body></html>"
    )
    text = html_to_text(page)
    assert "AAAAAAAAAA" not in text and "root:" not in text
    assert "&c;" in text  # left as written


def test_deeply_nested_html_is_read_without_recursion():
    page = "<html><body>" + "<div>" * 20000 + "2023年某县卫生健康工作要点<p>一、医疗</p><p>1.推进医共体建设。</p>"
    doc = parse_bytes(page.encode("utf-8"), "page.html")
    assert [t["heading"] for t in doc["tasks"]] == ["推进医共体建设"]


# -- no plan in the text -------------------------------------------------------------------------


def test_a_text_without_plan_structure_is_refused():
    text = "这是一段会议纪要。大家讨论了明年的工作，会后整理成文。\n请各单位认真阅读。\n".encode()
    refused(text, "notes.txt", "未能识别出工作要点的结构")
    doc = parse_bytes(text, "notes.txt", require_structure=False)  # on request: empty, with a warning
    assert doc["tasks"] == [] and any("没有识别出任何工作任务" in w for w in doc["warnings"])


def test_a_breakdown_table_with_no_task_rows_is_refused_when_structure_is_required():
    refused("序号,重点任务,牵头单位\n".encode(), "plan.csv", "任务分解表", require_structure=True)


def test_a_plan_passes_when_structure_is_required():
    assert parse_bytes(plans.COVER_PLAN.encode("utf-8"), "plan.txt", require_structure=True)["tasks"]


# -- inputs that used to escape as other exceptions ----------------------------------------------


def test_a_year_out_of_range_in_a_target_is_no_crash():
    doc = parse_bytes("2023年某市卫生工作要点\n一、医疗\n1.到0000年底床位达到5张。\n".encode(), "a.txt")
    assert doc["tasks"][0]["indicators"][0]["due"] is None


def test_a_month_out_of_range_in_a_due_column_is_no_crash():
    data = "序号,重点任务,牵头单位,完成时限\n1,推进工作,县卫生健康局,2023年13月\n".encode()
    assert parse_bytes(data, "plan.csv")["tasks"][0]["milestones"] == []


def test_a_csv_field_over_the_csv_module_limit_is_refused():
    refused(('"' + "任务" * 100_000 + '"\n').encode("utf-8"), "plan.csv", "CSV")


def test_word_numbering_with_odd_values_is_no_crash():
    import docx

    document = docx.Document()
    document.add_paragraph("2023年某县卫生健康工作要点")
    document.add_paragraph("推进医共体建设。（县卫生健康局）", style="List Number")
    out = io.BytesIO()
    document.save(out)
    entries = docx_entries(out.getvalue())
    numbering = dict(entries)["word/numbering.xml"]
    numbering = re.sub(rb'<w:start w:val="\d+"/>', b'<w:start w:val="250"/>', numbering)
    numbering = numbering.replace(b'w:val="decimal"', b'w:val="chineseCounting"')
    doc = parse_bytes(package(replaced(entries, "word/numbering.xml", numbering)), "n.docx")
    # 二百五十 in Word's Chinese counting is item 250
    assert [(t["number"], t["heading"], t["owners"]) for t in doc["tasks"]] == [
        ("250", "推进医共体建设", ["县卫生健康局"])
    ]


# -- the boundary --------------------------------------------------------------------------------


def test_the_boundary_wraps_library_errors_but_not_our_own_bugs():
    with pytest.raises(ParseError, match="读不了"), safety.reader_boundary("读不了"):
        zipfile.ZipFile(io.BytesIO(b"junk"))
    with pytest.raises(TypeError), safety.reader_boundary("读不了"):
        fold_width(None)  # a bug in the package's own code stays a bug
