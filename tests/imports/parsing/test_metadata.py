"""Plan metadata as published: portal tables, split titles, 代章 lines, cited 文号, damaged dates,
copy-site dates and multi-year plans. Every document here is our own."""

from imports.parsing import parse_bytes

BODY = "一、医疗服务\n1.推进县域医共体建设。（市卫生健康委）\n"


def _plan(text, name="plan.txt"):
    return parse_bytes(text.encode("utf-8"), name)


PORTAL = """<html><body><div class="xxgk"><table>
<tr><td>索 引 号：</td><td>QL-0012/2024-00031</td><td>主题分类：</td><td>卫生、体育</td></tr>
<tr><td>发布机构：</td><td>青岚市卫生健康委员会</td><td>成文日期：</td><td>2024年02月06日</td></tr>
<tr><td>文  号：</td><td>青卫发〔2024〕3号</td><td>发布日期：</td><td>2024年02月18日</td></tr>
</table></div>
<h1>2024年青岚市卫生健康工作要点</h1>
<p>根据《白沙省卫生健康委关于做好2024年基层卫生健康工作的通知》（白卫基层〔2024〕2号）要求，结合我市实际，制定本要点。</p>
<p>一、医疗服务</p><p>1.推进县域医共体建设。（市卫生健康委）</p>
<p>2.加强胸痛中心建设。（市人民医院）</p></body></html>"""


def test_it_reads_issuer_doc_number_and_written_date_from_a_portal_table():
    plan = _plan(PORTAL, "page.html")["plan"]
    assert plan == {
        "title": "2024年青岚市卫生健康工作要点",
        "year": 2024,
        "issuer": "青岚市卫生健康委员会",
        "doc_number": "青卫发〔2024〕3号",
        "issued_on": "2024-02-06",
    }


def test_a_signature_wins_over_the_portal_table():
    page = PORTAL.replace("</body>", "<p>青岚市卫生健康委员会办公室</p><p>2024年2月5日</p></body>")
    plan = _plan(page, "page.html")["plan"]
    assert plan["issuer"] == "青岚市卫生健康委员会办公室" and plan["issued_on"] == "2024-02-05"


def test_a_cited_doc_number_is_never_the_plans():
    text = (
        "2024年白沙县卫生健康工作要点\n"
        "根据《白沙省卫生健康委关于做好2024年基层卫生工作的通知》（白卫基层〔2024〕2号）要求，制定本要点。\n"
        "按照县政府白政发〔2023〕9号文件精神，结合实际。\n" + BODY
    )
    assert _plan(text)["plan"]["doc_number"] is None


def test_a_doc_number_inside_a_book_title_is_cited():
    text = "2024年白沙县卫生健康工作要点\n贯彻落实《白沙县卫生健康事业发展规划（白政发〔2021〕4号）》。\n" + BODY
    assert _plan(text)["plan"]["doc_number"] is None


def test_the_plans_own_doc_number_on_a_line_of_its_own_is_read():
    text = "白沙县卫生健康局\n白卫发〔2024〕11号\n2024年白沙县卫生健康工作要点\n" + BODY
    assert _plan(text)["plan"]["doc_number"] == "白卫发〔2024〕11号"


def test_a_title_broken_over_two_lines_is_joined():
    text = "青岚市卫生健康委员会\n2024年青岚市卫生健康\n工作要点\n" + BODY
    plan = _plan(text)["plan"]
    assert plan["title"] == "2024年青岚市卫生健康工作要点" and plan["year"] == 2024


def test_a_stamp_line_between_signer_and_date_is_skipped():
    text = "2024年青岚市卫生健康工作要点\n" + BODY + "青岚市卫生健康委员会\n（青岚市中医药管理局代章）\n2024年3月1日\n"
    doc = _plan(text)
    assert doc["plan"]["issuer"] == "青岚市卫生健康委员会" and doc["plan"]["issued_on"] == "2024-03-01"
    assert "代章" not in doc["tasks"][-1]["text"]


def test_a_damaged_date_is_repaired_with_a_warning():
    text = "2024年青岚市卫生健康工作要点\n" + BODY + "青岚市卫生健康委员会\n20243月1日\n"
    doc = _plan(text)
    assert doc["plan"]["issued_on"] == "2024-03-01"
    assert any("20243月1日" in w and "2024-03-01" in w for w in doc["warnings"])


def test_a_copy_sites_upload_date_is_never_the_issue_date():
    text = "范文参考网\n时间：2024-05-06 来源：网络整理\n2024年青岚市卫生健康工作要点\n" + BODY
    plan = _plan(text)["plan"]
    assert plan["issued_on"] is None and plan["issuer"] is None


def test_a_government_sites_publication_date_is_used_when_nothing_better_is_said():
    text = "发布日期：2024-03-08 浏览次数：12\n来源：青岚市卫生健康委员会\n2024年青岚市卫生健康工作要点\n" + BODY
    assert _plan(text)["plan"]["issued_on"] == "2024-03-08"


def test_a_multi_year_plans_year_is_the_first_of_its_range():
    plan = _plan("健康青岚行动实施方案（2024—2026年）\n" + BODY)["plan"]
    assert plan["year"] == 2024


def test_a_single_plan_year_wins_over_a_range():
    plan = _plan("健康青岚行动（2023—2025年）2024年工作计划\n" + BODY)["plan"]
    assert plan["year"] == 2024
