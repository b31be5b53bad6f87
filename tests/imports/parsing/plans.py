"""Invented plans and file builders shared by the parser tests (no text from the shared seeds)."""

import io

# A county plan with a cover letter, lost dots and brackets, context numbers and a deliverables list.
COVER_PLAN = """云溪市卫生健康委员会
关于印发《2023年云溪市卫生健康工作要点》的通知
云卫发〔2023〕7号
各区县卫生健康局，委属各单位：
现将《2023年云溪市卫生健康工作要点》印发给你们，请认真贯彻执行。
云溪市卫生健康委员会
2023年2月14日

2023年云溪市卫生健康工作要点
2023年是实施“十四五”规划承上启下的关键一年，全市卫生健康系统要围绕群众看病就医的急难愁盼问题，持续发力。
一、夯实基层医疗服务网络
1.推进村卫生室标准化建设。年内新建标准化村卫生室35个，改造提升乡镇卫生院8家。（市卫生健康委、市财政局）
2.提升家庭医生签约服务质量。重点人群签约率达到75%以上，签约居民满意度保持在90%以上。9月底前完成签约服务包修订。（市卫生健康委）
二、守牢公共卫生安全底线
3.加强传染病监测预警。三季度末前建成传染病智慧预警平台，法定传染病报告及时率达到98%。市疾控局
4优化妇幼健康服务。孕产妇死亡率控制在8/10万以内，婴儿死亡率、5岁以下儿童死亡率分别控制在4‰、5.5‰以内。市卫生健康委、市妇联）
5.做好重大活动医疗保障。全力做好第五届山地马拉松等活动的医疗保障，落实24小时应急值守制度，对0-3岁婴幼儿开展“1+3”健康随访，巩固已建成的12家胸痛中心。（市卫生健康委
三、拟研究制定的文件
《云溪市基层卫生人才招引办法》
《云溪市医养结合服务规范》
"""

# A provincial-style plan: parts, (一) sections, numbered items, sub-items, and a cut-off end.
PARTS_PLAN = """北岭省2024年健康促进行动工作计划

第一部分：总体安排
（一）重点举措
1.建立健康促进联席会议制度，每季度召开一次工作例会。（省卫生健康委牵头，省教育厅、省体育局参与）
2.开展健康县区建设评估。
第二部分：专项行动
一、合理膳食行动
（一）工作目标
引导居民养成清淡饮食习惯，减盐减油减糖。
（二）重点举措
1.推广营养健康食堂。完成以下工作：
(1)新建营养健康食堂120家；
(2)培训营养指导员300名以上。
（省卫生健康委、省市场监管局）
2.开展学生营养改善行动，中小学生肥胖率控制在12%以内。（省教育厅
二、控烟行动
（一）重点举措
1.推进无烟机关建设，到2025年底无烟党政机关建成率达到100%，到“十四五”末15岁以上人群吸烟率低于20%。（省爱卫办）
2.开展控烟执法检查，检查公共场所不少于5000家次，发现违法行为依法查处
"""

# Items numbered only with (一) inside 一、 sections: (一) is the lowest level and carries the tasks.
PAREN_TASK_PLAN = """2022年溪口县卫生健康工作安排
一、医疗服务
（一）推进县域医共体建设。年底前实现县乡一体化管理全覆盖。（县卫生健康局）
（二）改善医疗服务。门诊预约诊疗率达到60%。（县人民医院、县中医院）
二、公共卫生
（一）做好疫苗接种。适龄儿童免疫规划疫苗接种率保持在95%以上。（县疾控中心）
"""

# Traditional script, written for Big5 and with a pinyin-damaged copy.
TRAD_PLAN = """霧峰市衛生局
2022年霧峰市衛生工作計劃
一、強化醫療服務
1.推動急診分級照護。年內新增急救責任醫院3家，到院前心跳停止病人救活率達到30%以上。(市衛生局、市消防局)
2.提升長期照顧量能。新增日間照顧中心12所。(市社會局)
二、精進防疫體系
3.落實疫苗接種。65歲以上長者流感疫苗接種率達到55%。(市衛生局)
"""

TRAD_PINYIN = """2022年霧峰市衛(wèi)生工作計劃
一、強化醫(yī)療服務
1.推動急診分級照護。年內新增急救責(zé)任醫(yī)院3家。(市衛(wèi)生局)
2.提升長(zhǎng)期照顧量能。新增日間照顧中心12所?(市社會局)
"""

HTML_PAGE = """<!DOCTYPE html><html><head><title>2024年青禾市卫生健康工作要点_青禾市人民政府</title>
<script>var tracker = "1.统计代码不应出现";</script><style>.nav{color:red}</style></head>
<body><nav><a href="/">首页</a> <a href="/zw">政务公开</a></nav>
<div class="crumb">当前位置：首页 &gt; 政务公开 &gt; 工作计划</div>
<div class="article"><h1>2024年青禾市卫生健康工作要点</h1>
<div class="info">发布日期：2024-03-08 浏览次数：126</div>
<p>一、提升医疗服务能力</p>
<p>1.建设区域医疗中心。推进市第一人民医院创建三级甲等医院。</p>
<p>2.加强重点专科建设。新增省级临床重点专科4个。</p>
<p>二、深化医改</p><p>3.推进医保支付方式改革。</p>
<div class="source">信息来源：青禾市卫生健康委员会</div>
<div class="share">分享：</div><p>【关闭】【打印】</p>
</div><footer>主办单位：青禾市人民政府办公室</footer></body></html>
"""


def docx_bytes(paragraphs=(), table=None, after=()):
    """A .docx with paragraphs, an optional table (list of rows) and trailing paragraphs."""
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=max(len(r) for r in table))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    for text in after:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


BREAKDOWN_ROWS = [
    ["2023年临川县卫生健康工作要点任务分解表"],
    ["", "", "", "", "", ""],
    ["序号", "重点任务", "牵头单位", "配合单位", "完成时限", "量化指标"],
    ["一、提升基层服务能力"],
    ["1", "推进乡镇卫生院提标扩能。改造提升乡镇卫生院6家。", "县卫生健康局", "县发改局、县财政局", "2023年10月", ""],
    ["2", "做实家庭医生签约服务。", "县卫生健康局", "各乡镇人民政府", "6月底前", "重点人群签约率达到70%"],
    ["二、加强公共卫生"],
    ["3", "完善疾病预防控制体系", "县疾控中心", "", "年底前", "传染病报告及时率100%"],
]


def xlsx_bytes(rows, merge_title=True, merge_sections=True):
    """A task-breakdown workbook; title and section rows merged across the sheet like real ones."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    width = max(len(r) for r in rows)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value != "":
                sheet.cell(r, c, value)
        if len(row) == 1 and (merge_sections or (r == 1 and merge_title)):
            sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pdf_bytes(lines, encrypt=False, text=True):
    """A one-page PDF whose text layer holds ``lines`` (CJK via a Type0 font with a ToUnicode map)."""
    chars = sorted({ch for line in lines for ch in line})
    cid = {ch: i + 1 for i, ch in enumerate(chars)}
    content = []
    if text:
        y = 800
        for line in lines:
            hexes = "".join(f"{cid[ch]:04X}" for ch in line)
            content.append(f"BT /F1 12 Tf 40 {y} Td <{hexes}> Tj ET")
            y -= 18
    stream = "\n".join(content).encode("ascii")
    bf = "\n".join(f"<{cid[ch]:04X}> <{ord(ch):04X}>" for ch in chars if ord(ch) <= 0xFFFF)
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) "
        "/Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 def "
        f"1 begincodespacerange <0000> <FFFF> endcodespacerange {len(chars)} beginbfchar\n{bf}\nendbfchar endcmap "
        "CMapName currentdict /CMap defineresource pop end end"
    ).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H "
        b"/DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 "
        b"/FontDescriptor 8 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 4 /FontBBox [0 -200 1000 900] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>",
    ]
    trailer_extra = b""
    if encrypt:
        trailer_extra = (
            b" /Encrypt << /Filter /Standard /V 1 /R 2 /Length 40 /P -44 /O <%s> /U <%s> >>"
            b" /ID [<%s> <%s>]" % (b"11" * 32, b"22" * 32, b"33" * 16, b"33" * 16)
        )
    return pdf_from_objects(objects, trailer_extra)


def pdf_pages_bytes(pages, media_box=(595, 842)):
    """A PDF of several pages, each a list of (x, y, text) drawn in that order: the order a PDF
    draws its lines in need not be the reading order (Word may draw header and footer first)."""
    chars = sorted({ch for page in pages for _, _, text in page for ch in text})
    cid = {ch: i + 1 for i, ch in enumerate(chars)}
    bf = "\n".join(f"<{cid[ch]:04X}> <{ord(ch):04X}>" for ch in chars)
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) "
        "/Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 def "
        f"1 begincodespacerange <0000> <FFFF> endcodespacerange {len(chars)} beginbfchar\n{bf}\nendbfchar endcmap "
        "CMapName currentdict /CMap defineresource pop end end"
    ).encode("ascii")
    first_page = 6  # objects 3-5: the font, its descendant and its ToUnicode map
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (first_page + 2 * k) for k in range(len(pages))), len(pages)),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H "
        b"/DescendantFonts [4 0 R] /ToUnicode 5 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
    ]
    for k, page in enumerate(pages):
        stream = "\n".join(
            f"BT /F1 12 Tf {x} {y} Td <{''.join(f'{cid[ch]:04X}' for ch in text)}> Tj ET" for x, y, text in page
        ).encode("ascii")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents %d 0 R >>" % (*media_box, first_page + 2 * k + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    return pdf_from_objects(objects)


def pdf_from_objects(objects, trailer_extra=b""):
    """A PDF file of the given object bodies (object 1 is the catalogue), with its xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    trailer = b"trailer\n<< /Size %d /Root 1 0 R" % (len(objects) + 1) + trailer_extra
    out.write(trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


# The spec's keys, and the optional ones the parser adds for the preview (why each item was
# read so, what was dropped, which reader): consumers that know only the spec ignore them.
DOC_KEYS = {"plan", "sections", "tasks", "warnings"}
DOC_EXTRA = {"dropped", "format"}
TASK_KEYS = {"section", "number", "heading", "text", "owners", "milestones", "indicators"}
TASK_EXTRA = {"rule", "confidence", "owner_details"}
INDICATOR_KEYS = {"name", "comparator", "target", "unit", "due"}
INDICATOR_EXTRA = {"rule", "confidence", "source"}


def assert_spec_shape(doc):
    """The document has every key of the spec, and nothing but the spec's and the optional ones."""
    assert DOC_KEYS <= set(doc) <= DOC_KEYS | DOC_EXTRA
    assert set(doc["plan"]) == {"title", "year", "issuer", "doc_number", "issued_on"}
    assert isinstance(doc["sections"], list) and isinstance(doc["tasks"], list)
    assert all(isinstance(w, str) for w in doc["warnings"])
    for task in doc["tasks"]:
        assert TASK_KEYS <= set(task) <= TASK_KEYS | TASK_EXTRA
        assert [d["name"] for d in task.get("owner_details", [])] == task["owners"]
        for ind in task["indicators"]:
            assert INDICATOR_KEYS <= set(ind) <= INDICATOR_KEYS | INDICATOR_EXTRA


def hard_wrap(paragraphs, width=22):
    """Paragraphs broken every ``width`` characters, as a PDF's text layer (or a copy of it) has them."""
    return [p[i : i + width] for p in paragraphs for i in range(0, len(p), width)]


# Items of a city plan whose PDF copy breaks lines at the page edge: inside names
# (国家⏎卫生健康委), inside owner notes (按职责分⏎工负责, 市体育总⏎局牵头负责) and headings.
WRAPPED_ITEMS = [
    "1.推进县域医共体建设，完善县乡村三级医疗服务网络，提升基层首诊能力和县域就诊率。（国家卫生健康委、市医保局）",
    "2.加强老年健康服务体系建设，推动医养结合机构提质增效。（市民政局、市卫生健康委按职责分工负责）",
    "3.开展全民健身运动会系列赛事，办好群众性体育活动，扩大群众参与面和覆盖人群。（市体育总局牵头负责）",
    "4.完善院前急救网络布局，新建急救站点6个，城区急救平均反应时间缩短至12分钟以内。（市卫生健康委）",
    "5.深化公立医院薪酬制度改革，合理确定医务人员薪酬水平和内部分配办法。（市人社局、市卫生健康委）",
]
WRAPPED_TITLE = "青岚市2024年卫生健康工作要点"


def wrapped_plan():
    """WRAPPED_ITEMS hard-wrapped, with a page break inside item 4: a page number and the title
    as a running header stand between its two halves."""
    lines = [WRAPPED_TITLE, "一、医疗卫生服务", *hard_wrap(WRAPPED_ITEMS)]
    cut = next(i for i, line in enumerate(lines) if line.startswith("4.")) + 1
    return "\n".join([*lines[:cut], "— 2 —", WRAPPED_TITLE, *lines[cut:]]) + "\n"


# One plan written out in every format the importer reads: each must give the same tasks and owners.
# (The preamble is there for antiword, which refuses a Word file with very little text.)
ROUND_TRIP = [
    "2024年白沙县卫生健康工作要点",
    *["为推进健康白沙建设，提高群众健康水平，现将本年度卫生健康工作要点印发如下，请各单位认真贯彻落实。"] * 5,
    "一、医疗服务",
    "1.推进县域医共体建设。（县卫生健康局、县医保局）",
    "2.加强胸痛中心建设。（县人民医院）",
    "二、公共卫生",
    "3.做好疫苗接种工作。（县疾控中心）",
    "4.开展爱国卫生运动。（县爱卫办、各乡镇）",
]


def ofd_bytes(lines, pages=None, extra_entries=(), content_override=None):
    """An OFD package (GB/T 33190) whose pages hold ``lines`` as TextCode elements, one per line;
    ``pages`` splits them (a list of line lists). ``extra_entries`` adds (name, bytes) entries."""
    import zipfile
    from xml.sax.saxutils import escape

    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    pages = pages or [list(lines)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "OFD.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {ns} Version="1.0" DocType="OFD"><ofd:DocBody>'
            "<ofd:DocInfo><ofd:DocID>test</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
            "</ofd:DocBody></ofd:OFD>",
        )
        page_refs = "".join(
            f'<ofd:Page ID="{n + 10}" BaseLoc="Pages/Page_{n}/Content.xml"/>' for n in range(len(pages))
        )
        archive.writestr(
            "Doc_0/Document.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {ns}><ofd:CommonData>'
            "<ofd:MaxUnitID>999</ofd:MaxUnitID>"
            "<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>"
            "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>"
            f"<ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>",
        )
        archive.writestr(
            "Doc_0/PublicRes.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res {ns} BaseLoc="Res"><ofd:Fonts>'
            '<ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>',
        )
        for n, page in enumerate(pages):
            objects = "".join(
                f'<ofd:TextObject ID="{100 + k}" Boundary="20 {20 + 7 * k} 170 6" Font="2" Size="4.2">'
                f'<ofd:TextCode X="0" Y="4.2">{escape(line)}</ofd:TextCode></ofd:TextObject>'
                for k, line in enumerate(page)
            )
            content = content_override or (
                f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {ns}><ofd:Content>'
                f'<ofd:Layer ID="3">{objects}</ofd:Layer></ofd:Content></ofd:Page>'
            )
            archive.writestr(f"Doc_0/Pages/Page_{n}/Content.xml", content)
        for name, data in extra_entries:
            archive.writestr(name, data)
    return out.getvalue()


CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)


def cjk_font():
    import os

    return next((path for path in CJK_FONTS if os.path.exists(path)), None)


def scanned_pdf_bytes(lines, font_path, media_box=(595, 842)):
    """A one-page PDF with no text layer: ``lines`` drawn into a 150 dpi greyscale image, as a scanner
    makes it (JPEG inside /DCTDecode)."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = 1240, 1754  # A4 at 150 dpi
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(font_path, 30)
    y = 110
    for line in hard_wrap(lines, 34):
        draw.text((100, y), line, font=font, fill=0)
        y += 52
    jpeg = io.BytesIO()
    image.save(jpeg, "JPEG", quality=60)
    picture = jpeg.getvalue()
    content = b"q %d 0 0 %d 0 0 cm /Im1 Do Q" % media_box
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /XObject << /Im1 5 0 R >> >> "
        b"/Contents 4 0 R >>" % media_box,
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 "
        b"/Filter /DCTDecode /Length %d >>\nstream\n" % (width, height, len(picture)) + picture + b"\nendstream",
    ]
    return pdf_from_objects(objects)


def libreoffice_convert(data, source_ext, target):
    """``data`` converted by LibreOffice (``target`` as for --convert-to, e.g. "doc"), or None when
    LibreOffice is not installed."""
    import os
    import shutil
    import subprocess
    import tempfile

    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        return None
    with tempfile.TemporaryDirectory() as work:
        source = os.path.join(work, "plan" + source_ext)
        with open(source, "wb") as handle:
            handle.write(data)
        subprocess.run(
            [
                office,
                "--headless",
                "--norestore",
                "-env:UserInstallation=file://" + work + "/profile",
                "--convert-to",
                target,
                "--outdir",
                work,
                source,
            ],
            check=True,
            capture_output=True,
            timeout=180,
            env={**os.environ, "HOME": work},
        )
        with open(os.path.join(work, "plan." + target.split(":")[0]), "rb") as handle:
            return handle.read()
