"""Evidence files are judged by their content: what passes, what is refused, and what the message says."""

import io
import struct
import zipfile
import zlib

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from docx import Document
from PIL import Image, PngImagePlugin

from supervision.evidence import ACCEPT_ATTRIBUTE, KINDS, check_evidence_file

MB = 1024 * 1024
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 4
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


# ---------------------------------------------------------------------------------------------
# samples, all built here


def pdf(*, encrypted=False, padding=0):
    """A minimal one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    if encrypted:
        objects.append(b"<< /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 /O <00> /U <00> >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    if padding:
        out += b"%" + b"x" * padding + b"\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    encrypt = b" /Encrypt 4 0 R /ID [<01> <01>]" if encrypted else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, encrypt, xref)
    return bytes(out)


def docx():
    document = Document()
    document.add_paragraph("2025 年第一季度：已完成全部社区卫生服务中心的巡查。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx():
    workbook = openpyxl.Workbook()
    workbook.active.append(["任务", "进度"])
    workbook.active.append(["基层医疗卫生服务能力提升", 60])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rezip(data, *, replace=None, add=None, drop=()):
    """The package ``data`` with parts replaced, added or dropped (names are kept as given)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename not in drop:
                target.writestr(info.filename, (replace or {}).get(info.filename, source.read(info)))
        for name, body in (add or {}).items():
            target.writestr(name, body)
    return out.getvalue()


def zip_comment(data, comment):
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as archive:
        archive.comment = comment
    return out.getvalue()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>
<w:t>&lol4;</w:t></w:r></w:p></w:body></w:document>"""


def image(fmt, size=(40, 30), **options):
    picture = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


def noisy_jpeg(**options):
    """A JPEG of noise: tens of kilobytes, so its first and last kilobyte are far apart."""
    picture = Image.effect_noise((300, 300), 80).convert("RGB")
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=95, **options)
    return out.getvalue()


def jpeg_with_exif():
    exif = Image.Exif()
    exif[0x010F] = "Huawei"  # Make
    exif[0x0132] = "2025:03:31 10:00:00"  # DateTime
    return image("JPEG", exif=exif)


def animated(fmt):
    frames = [Image.new("RGB", (20, 20), colour) for colour in ((200, 0, 0), (0, 200, 0), (0, 0, 200))]
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def animated_gif():
    frames = [Image.new("P", (20, 20), colour) for colour in (1, 2, 3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def mpo():
    """A JPEG whose MPF index lists a second image stored after the first one's EOI, the way
    phones store Ultra HDR gain maps and depth maps."""
    first, second = Image.new("RGB", (40, 30), (200, 30, 30)), Image.new("RGB", (20, 15), (30, 30, 200))
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    return out.getvalue()


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def blank_png(width, height):
    """A 1-bit black PNG built row by row: 64 M pixels take a few kilobytes on disk."""
    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def png_with_text(text):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    return image("PNG", pnginfo=info)


def corrupt_crc(data):
    at = data.index(b"IDAT") + 6
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def cut(data):
    """``data`` without its last quarter, as an interrupted upload leaves it."""
    return data[: len(data) * 3 // 4]


def compound_file(*streams):
    """The start of an OLE compound file (what .doc/.xls and password-protected .docx are)."""
    return CFB_MAGIC + bytes(504) + b"".join(name.encode("utf-16-le") for name in streams) + bytes(1024)


def upload(name, data):
    return SimpleUploadedFile(name, data)


def refusal(name, data, **options):
    with pytest.raises(ValidationError) as caught:
        check_evidence_file(upload(name, data), **options)
    (message,) = caught.value.messages
    return message, caught.value.error_list[0].code


# ---------------------------------------------------------------------------------------------
# accepted


@pytest.mark.parametrize(
    "name, build, key, content_type",
    [
        pytest.param("报告.pdf", pdf, "pdf", "application/pdf", id="pdf"),
        pytest.param("报告.PDF", pdf, "pdf", "application/pdf", id="pdf-upper-case-extension"),
        pytest.param("加密.pdf", lambda: pdf(encrypted=True), "pdf", "application/pdf", id="encrypted-pdf"),
        pytest.param("前导.pdf", lambda: b"\x00" * 1000 + pdf(), "pdf", "application/pdf", id="pdf-leading-bytes"),
        pytest.param("进展.docx", docx, "docx", DOCX_TYPE, id="docx"),
        pytest.param("台账.xlsx", xlsx, "xlsx", XLSX_TYPE, id="xlsx"),
        pytest.param("进展.docx", lambda: zip_comment(docx(), "备注".encode()), "docx", DOCX_TYPE, id="zip-comment"),
        pytest.param("现场.png", lambda: image("PNG"), "png", "image/png", id="png"),
        pytest.param("现场.jpg", lambda: image("JPEG"), "jpeg", "image/jpeg", id="jpg"),
        pytest.param("现场.jpeg", lambda: image("JPEG"), "jpeg", "image/jpeg", id="jpeg"),
        pytest.param("现场.gif", lambda: image("GIF"), "gif", "image/gif", id="gif"),
        pytest.param("动图.gif", animated_gif, "gif", "image/gif", id="animated-gif"),
        pytest.param("现场.webp", lambda: image("WEBP"), "webp", "image/webp", id="webp"),
        pytest.param("动图.webp", lambda: animated("WEBP"), "webp", "image/webp", id="animated-webp"),
        pytest.param("动图.png", lambda: animated("PNG"), "png", "image/png", id="animated-png"),
        pytest.param("现场.jpg", lambda: noisy_jpeg(progressive=True), "jpeg", "image/jpeg", id="progressive-jpeg"),
        pytest.param("现场.jpg", jpeg_with_exif, "jpeg", "image/jpeg", id="jpeg-with-exif"),
        pytest.param("手机.jpg", mpo, "jpeg", "image/jpeg", id="jpeg-with-mpf-second-image"),
        pytest.param("补零.jpg", lambda: image("JPEG") + b"\x00\x00", "jpeg", "image/jpeg", id="jpeg-two-padding"),
        pytest.param("纯黑.png", lambda: blank_png(100, 100), "png", "image/png", id="hand-built-png"),
    ],
)
def test_it_accepts_a_valid_file_of_every_kind(name, build, key, content_type):
    # given
    uploaded = upload(name, build())
    # when
    kind = check_evidence_file(uploaded)
    # then
    assert (kind.key, kind.content_type) == (key, content_type)
    assert uploaded.tell() == 0


def test_the_kinds_have_chinese_labels():
    # given
    labels = {kind.key: kind.label for kind in KINDS}
    # then
    assert labels == {
        "pdf": "PDF 文档",
        "docx": "Word 文档",
        "xlsx": "Excel 表格",
        "png": "图片",
        "jpeg": "图片",
        "gif": "图片",
        "webp": "图片",
    }


def test_the_accept_attribute_lists_every_accepted_extension():
    assert ACCEPT_ATTRIBUTE == ".pdf,.docx,.xlsx,.png,.jpg,.jpeg,.gif,.webp"


# ---------------------------------------------------------------------------------------------
# refused


REFUSALS = [
    # name and size
    pytest.param("空.pdf", lambda: b"", ["空文件"], "empty", id="empty"),
    pytest.param(
        "工具.exe",
        lambda: EXE,
        ["不在可上传范围内", "PDF、Word（.docx）、Excel（.xlsx）、图片（PNG/JPEG/GIF/WebP）"],
        "unsupported_type",
        id="exe-extension",
    ),
    pytest.param(
        "说明.txt", lambda: b"hello", ["（.txt）", "不在可上传范围内"], "unsupported_type", id="txt-extension"
    ),
    pytest.param(
        "README", lambda: b"hello", ["没有扩展名", "PDF、Word（.docx）"], "unsupported_type", id="no-extension"
    ),
    pytest.param(
        "旧.doc", lambda: compound_file("WordDocument"), ["旧版 Word", "另存为 .docx"], "unsupported_type", id="old-doc"
    ),
    pytest.param(
        "旧.xls", lambda: compound_file("Workbook"), ["旧版 Excel", "另存为 .xlsx"], "unsupported_type", id="old-xls"
    ),
    pytest.param("图.svg", lambda: SVG, ["SVG", "脚本", "PNG 或 JPEG"], "unsupported_type", id="svg-extension"),
    # content that is not what the name says
    pytest.param("报告.docx", lambda: EXE, ["实际上是可执行程序", "不是 Word 文档"], "unsafe", id="exe-renamed-docx"),
    pytest.param("报告.pdf", lambda: EXE, ["实际上是可执行程序", "不是 PDF 文档"], "unsafe", id="exe-renamed-pdf"),
    pytest.param("照片.png", lambda: EXE, ["实际上是可执行程序", "不是 PNG 图片"], "unsafe", id="exe-renamed-png"),
    pytest.param("报告.docx", lambda: HTML, ["实际上是网页（HTML）文件"], "unsafe", id="html-renamed-docx"),
    pytest.param("报告.pdf", lambda: HTML, ["实际上是网页（HTML）文件"], "unsafe", id="html-renamed-pdf"),
    pytest.param("照片.png", lambda: HTML, ["实际上是网页（HTML）文件"], "unsafe", id="html-renamed-png"),
    pytest.param("照片.png", lambda: SVG, ["实际上是 SVG 图像"], "unsafe", id="svg-renamed-png"),
    pytest.param(
        "照片.png",
        lambda: image("JPEG"),
        ["内容是 JPEG 图片", "扩展名 .png 不符", "必须一致", ".jpg"],
        "content_mismatch",
        id="jpeg-renamed-png",
    ),
    pytest.param(
        "照片.jpg",
        lambda: image("PNG"),
        ["内容是 PNG 图片", "扩展名 .jpg 不符", ".png"],
        "content_mismatch",
        id="png-renamed-jpg",
    ),
    pytest.param("报告.png", pdf, ["内容是 PDF 文档", "不符", ".pdf"], "content_mismatch", id="pdf-renamed-png"),
    pytest.param("报告.pdf", docx, ["内容是压缩包", "不符"], "content_mismatch", id="docx-renamed-pdf"),
    pytest.param(
        "台账.xlsx",
        docx,
        ["内容是 Word 文档", "扩展名 .xlsx 不符", ".docx"],
        "content_mismatch",
        id="docx-renamed-xlsx",
    ),
    pytest.param(
        "进展.docx",
        xlsx,
        ["内容是 Excel 表格", "扩展名 .docx 不符", ".xlsx"],
        "content_mismatch",
        id="xlsx-renamed-docx",
    ),
    # PDF
    pytest.param("报告.pdf", lambda: "就是一段文字".encode() * 20, ["不是有效的 PDF 文件"], "invalid", id="pdf-text"),
    pytest.param(
        "报告.pdf", lambda: pdf()[: pdf().index(b"trailer")], ["不完整", "%%EOF"], "invalid", id="pdf-truncated"
    ),
    pytest.param(
        "报告.pdf", lambda: b"\n" * 2000 + pdf(), ["不是有效的 PDF 文件"], "invalid", id="pdf-header-after-1024-bytes"
    ),
    pytest.param("报告.pdf", lambda: b"%PDF-x" + pdf(), ["不是有效的 PDF 文件"], "invalid", id="pdf-bad-version"),
    pytest.param(
        "报告.pdf",
        lambda: b"<html><script>alert(1)</script>" + pdf(),
        ["PDF 文件头之前", "网页代码"],
        "unsafe",
        id="html-before-pdf-header",
    ),
    pytest.param(
        "报告.pdf",
        lambda: pdf() + b"<script>alert(1)</script>",
        ["结束标记之后", "网页代码"],
        "unsafe",
        id="html-after-pdf-eof",
    ),
    # Word and Excel
    pytest.param("进展.docx", lambda: cut(docx()), ["压缩包结构无法读取"], "invalid", id="truncated-docx"),
    pytest.param(
        "进展.docx",
        lambda: rezip(docx(), add={"../../etc/cron.d/evil": b"* * * * * root sh"}),
        ["路径异常", "../../etc/cron.d/evil", "已拒绝"],
        "unsafe",
        id="zip-slip-entry",
    ),
    pytest.param(
        "进展.docx",
        lambda: rezip(docx(), replace={"word/document.xml": BILLION_LAUGHS}),
        ["word/document.xml", "DOCTYPE/实体声明"],
        "unsafe",
        id="billion-laughs-docx",
    ),
    pytest.param(
        "进展.docx",
        lambda: rezip(docx(), add={"word/vbaProject.bin": CFB_MAGIC + bytes(100)}),
        ["含有宏", "vbaProject.bin", ".docx"],
        "unsafe",
        id="docx-with-macros",
    ),
    pytest.param(
        "台账.xlsx",
        lambda: rezip(xlsx(), add={"xl/vbaProject.bin": CFB_MAGIC + bytes(100)}),
        ["含有宏", ".xlsx"],
        "unsafe",
        id="xlsx-with-macros",
    ),
    pytest.param(
        "进展.docx",
        lambda: rezip(docx(), drop={"word/document.xml"}),
        ["缺少 Word 文档的主体部分", "word/document.xml"],
        "invalid",
        id="docx-without-document",
    ),
    pytest.param(
        "进展.docx",
        lambda: rezip(docx(), drop={"[Content_Types].xml"}),
        ["[Content_Types].xml"],
        "invalid",
        id="docx-without-content-types",
    ),
    pytest.param("进展.docx", lambda: docx() + HTML, ["压缩包结尾之后", "已拒绝"], "unsafe", id="docx-html-polyglot"),
    pytest.param("进展.docx", lambda: zip_comment(docx(), HTML), ["压缩包结尾之后"], "unsafe", id="docx-comment-html"),
    pytest.param(
        "进展.docx",
        lambda: compound_file("WordDocument"),
        ["旧版 Office 格式", ".docx"],
        "invalid",
        id="doc-renamed-docx",
    ),
    pytest.param(
        "进展.docx",
        lambda: compound_file("EncryptionInfo", "EncryptedPackage"),
        ["已加密", "密码"],
        "invalid",
        id="password-protected-docx",
    ),
    pytest.param(
        "台账.xlsx", lambda: b"\x00\x01\x02" * 100, ["不是有效的 Excel 表格（.xlsx）"], "invalid", id="xlsx-junk"
    ),
    # images
    pytest.param(
        "照片.png",
        lambda: image("PNG") + HTML,
        ["PNG 图片数据结束之后", "网页代码", "已拒绝"],
        "unsafe",
        id="png-html-polyglot",
    ),
    pytest.param(
        "照片.png",
        lambda: image("PNG") + b"\x00",
        ["PNG 图片数据结束之后", "1 字节"],
        "unsafe",
        id="png-byte-after-iend",
    ),
    pytest.param(
        "照片.jpg",
        lambda: image("JPEG") + HTML,
        ["JPEG 图片数据结束之后", "网页代码", "动态照片"],
        "unsafe",
        id="jpeg-trailing-html",
    ),
    pytest.param(
        "照片.jpg", lambda: image("JPEG") + b"\x00" * 100, ["100 字节的其他数据"], "unsafe", id="jpeg-trailing-data"
    ),
    pytest.param("照片.jpg", lambda: image("JPEG") + b"<svg/>", ["网页代码"], "unsafe", id="jpeg-short-trailing-tag"),
    pytest.param("手机.jpg", lambda: mpo() + HTML, ["网页代码"], "unsafe", id="mpf-jpeg-trailing-html"),
    pytest.param(
        "动图.gif", lambda: image("GIF") + HTML, ["GIF 图片数据结束之后", "网页代码"], "unsafe", id="gif-trailing-html"
    ),
    pytest.param(
        "图.webp",
        lambda: image("WEBP") + HTML,
        ["WebP 图片数据结束之后", "网页代码"],
        "unsafe",
        id="webp-trailing-html",
    ),
    pytest.param(
        "照片.png",
        lambda: png_with_text("<script>alert(1)</script>"),
        ["网页代码（<script）"],
        "unsafe",
        id="png-text-chunk-script",
    ),
    pytest.param(
        "照片.jpg",
        lambda: noisy_jpeg(comment=b"x" * 2000 + b"<SCRIPT>alert(1)</SCRIPT>"),
        ["网页代码（<SCRIPT）"],
        "unsafe",
        id="jpeg-comment-script-past-first-kb",
    ),
    pytest.param(
        "照片.png", lambda: image("PNG")[:-30], ["不完整", "PNG 图片数据提前结束"], "invalid", id="png-truncated"
    ),
    pytest.param(
        "照片.jpg",
        lambda: cut(image("JPEG", size=(400, 300))),
        ["不完整", "JPEG 图片数据提前结束"],
        "invalid",
        id="jpeg-truncated",
    ),
    pytest.param("照片.png", lambda: corrupt_crc(image("PNG")), ["不是有效的 PNG 图片"], "invalid", id="png-bad-crc"),
    pytest.param(
        "照片.png",
        lambda: b"\x89PNG\r\n\x1a\n" + bytes(200),
        ["不是有效的 PNG 图片"],
        "invalid",
        id="png-signature-only",
    ),
    pytest.param("照片.webp", lambda: b"\x01\x02\x03" * 50, ["不是有效的 WebP 图片"], "invalid", id="webp-junk"),
    pytest.param(
        "巨幅.png",
        lambda: blank_png(8000, 8000),
        ["8000×8000", "超过上限 5000 万像素"],
        "too_large",
        id="64-megapixel-png",
    ),
    pytest.param(
        "巨幅.png",
        lambda: blank_png(20000, 20000),
        ["超过上限 5000 万像素"],
        "too_large",
        id="pillow-decompression-bomb-png",
    ),
]


@pytest.mark.parametrize("name, build, reasons, code", REFUSALS)
def test_it_refuses_a_file_with_a_message_naming_it_and_the_reason(name, build, reasons, code):
    # given
    data = build()
    # when
    message, error_code = refusal(name, data)
    # then
    assert message.startswith(f"“{name}”"), message
    for reason in reasons:
        assert reason in message, message
    assert error_code == code


def test_it_says_a_broken_pdf_is_not_a_valid_pdf():
    # when
    message, _ = refusal("报告.pdf", b"not a pdf at all")
    # then
    assert message == "“报告.pdf”不是有效的 PDF 文件，请重新导出后上传。"


def test_it_refuses_exe_renamed_docx():
    # when
    message, code = refusal("报告.docx", EXE)
    # then
    assert message == "“报告.docx”实际上是可执行程序，不是 Word 文档，已拒绝。"
    assert code == "unsafe"


def test_it_keeps_the_zip_check_message_after_the_file_name():
    # given: a zip cut short, which the plan importer's check refuses
    data = docx()[:2000]
    # when
    message, _ = refusal("进展.docx", data)
    # then
    assert message.startswith("“进展.docx”：文件已损坏：压缩包结构无法读取")


def test_it_refuses_a_file_over_the_limit_and_says_the_limit():
    # when
    message, code = refusal("照片.png", image("PNG"), max_bytes=100)
    # then
    assert message.startswith("“照片.png”超过了大小上限 100 字节")
    assert code == "too_large"


def test_the_limit_defaults_to_the_setting_in_mb(settings):
    # given
    settings.EVIDENCE_MAX_BYTES = 1 * MB
    data = pdf(padding=MB)
    # when
    message, code = refusal("扫描件.pdf", data)
    # then
    assert "超过了大小上限 1 MB（该文件 1 MB）" in message
    assert code == "too_large"


def test_a_file_just_under_the_setting_passes(settings):
    # given
    settings.EVIDENCE_MAX_BYTES = 1 * MB
    data = pdf(padding=MB - 2000)
    # when
    kind = check_evidence_file(upload("扫描件.pdf", data))
    # then
    assert kind.key == "pdf"


def test_it_reads_no_more_than_the_limit_when_the_size_is_wrong():
    # given: a file that reports a smaller size than it has
    uploaded = upload("照片.png", image("PNG", size=(200, 200)))
    real_size, uploaded.size = uploaded.size, 10
    # when
    with pytest.raises(ValidationError) as caught:
        check_evidence_file(uploaded, max_bytes=real_size - 1)
    # then
    assert "超过了大小上限" in caught.value.messages[0]
    assert uploaded.tell() == 0


def test_it_leaves_the_file_at_the_start_after_a_refusal():
    # given
    uploaded = upload("照片.png", image("PNG") + HTML)
    uploaded.read(10)
    # when
    with pytest.raises(ValidationError):
        check_evidence_file(uploaded)
    # then
    assert uploaded.tell() == 0


def test_it_leaves_the_file_at_the_start_when_the_name_is_refused():
    # given
    uploaded = upload("工具.exe", EXE)
    uploaded.read(10)
    # when
    with pytest.raises(ValidationError):
        check_evidence_file(uploaded)
    # then
    assert uploaded.tell() == 0


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_it_refuses_an_image_pillow_only_warns_about():
    # given: 100 M pixels, between Pillow's warning and its error
    data = blank_png(10000, 10000)
    # when
    message, code = refusal("巨幅.png", data)
    # then
    assert "（10000×10000），超过上限 5000 万像素" in message
    assert code == "too_large"


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_it_refuses_the_image_when_pillows_warning_is_an_error():
    # given
    data = blank_png(10000, 10000)
    # when
    message, code = refusal("巨幅.png", data)
    # then: refused where Pillow raised, before the size was known
    assert message == "“巨幅.png”的尺寸过大，超过上限 5000 万像素，请缩小图片后再上传。"
    assert code == "too_large"


def test_it_does_not_change_pillows_global_pixel_limit():
    # given
    before = Image.MAX_IMAGE_PIXELS
    # when
    refusal("巨幅.png", blank_png(8000, 8000))
    refusal("巨幅.png", blank_png(20000, 20000))
    # then
    assert before == Image.MAX_IMAGE_PIXELS


def test_it_names_a_long_file_by_its_start_and_end():
    # given
    name = "关于" + "很长" * 60 + "的报告.pdf"
    # when
    message, _ = refusal(name, b"")
    # then
    assert message.startswith("“关于很长")
    assert "…" in message
    assert "的报告.pdf”是空文件" in message
