"""What published plans also show (spec: import-format.md): owners on labelled lines, explained
owner notes, implicit leads, generic owners, page-width line breaks, running headers, uneven
numbering depth, 一是…二是… runs and run-on items. Every document here is our own."""

import re

import pytest

from imports.parsing import parse_bytes
from imports.parsing.cleaning import fold_width

from . import plans


def _parse(text, name="plan.txt"):
    return parse_bytes(text.encode("utf-8"), name)


def _task(doc, number, section=None):
    return next(t for t in doc["tasks"] if t["number"] == number and (section is None or t["section"] == section))


# -- owners on their own labelled lines ----------------------------------------------------------

LABELLED = """青岚市2024年卫生健康重点工作任务分解
一、强化基层服务
1.推进紧密型县域医共体建设。完成医共体信息平台互联互通。
牵头责任单位：市卫生健康委
主要协作单位：市医保局、市财政局
2.建设社区医院12家
牵头单位：市卫生健康委
配合单位：各区县人民政府
完成时限：2024年9月底前
3.开展基层卫生人才定向培养
责任单位：市卫生健康委、市教育局
"""


def test_it_reads_owners_from_labelled_lines_lead_first():
    doc = _parse(LABELLED)
    assert _task(doc, "1")["owners"] == ["市卫生健康委", "市医保局", "市财政局"]
    assert _task(doc, "3")["owners"] == ["市卫生健康委", "市教育局"]


def test_it_never_takes_a_label_into_a_name_or_the_task_text():
    doc = _parse(LABELLED)
    for task in doc["tasks"]:
        assert not any("单位" in owner for owner in task["owners"])
        assert "牵头" not in task["text"] and "协作" not in task["text"]


def test_an_item_without_a_full_stop_still_takes_its_labelled_owners():
    task = _task(_parse(LABELLED), "2")
    assert task["heading"] == "建设社区医院12家"
    assert task["owners"] == ["市卫生健康委", "各区县人民政府"]
    assert task["milestones"][0]["due"] == "2024-09-30"  # the line after the owners is still read
    assert {d["rule"] for d in task["owner_details"]} == {"labelled_line"}


# -- owner notes that explain themselves, implicit leads, generic owners ---------------------------

EXPLAINED = """白沙县2024年健康白沙行动工作要点
一、健康知识普及
1.开展健康科普进万家活动。（县卫生健康局、县委宣传部负责。列第一位者为牵头单位，其他单位按职责分工负责，下同）
2.建设县级健康科普专家库。（县卫生健康局、县科协负责）
3.推广家庭健康工具包。（县妇联、县卫生健康局按职责分工负责）
二、控烟限酒
4.开展无烟党政机关创建（县政府有关部门、各乡镇、有关直属单位）
"""


def test_it_reads_the_names_of_a_note_that_explains_itself():
    doc = _parse(EXPLAINED)
    task = _task(doc, "1")
    assert task["owners"] == ["县卫生健康局", "县委宣传部"]
    assert task["heading"] == "开展健康科普进万家活动"
    assert "列第一位" not in task["text"]


def test_the_rule_announced_with_xiatong_holds_for_the_items_after_it():
    doc = _parse(EXPLAINED)
    lead = _task(doc, "3")["owner_details"][0]
    assert lead["name"] == "县妇联" and lead["lead"] and lead["confidence"] == "high"


def test_a_shared_duty_list_names_every_agency_and_the_first_leads_with_low_confidence():
    doc = _parse("2024年白沙县卫生工作要点\n一、医疗\n1.推广家庭健康工具包。（县妇联、县卫生健康局按职责分工负责）\n")
    task = doc["tasks"][0]
    assert task["owners"] == ["县妇联", "县卫生健康局"]
    assert task["owner_details"][0]["rule"] == "shared_duty"
    assert task["owner_details"][0]["confidence"] == "low"


def test_a_shared_duty_sentence_without_brackets_names_its_agencies():
    doc = _parse("2024年白沙县卫生工作要点\n一、医疗\n1.推广家庭健康工具包。县妇联、县卫生健康局按职责分工负责。\n")
    assert doc["tasks"][0]["owners"] == ["县妇联", "县卫生健康局"]


def test_generic_owners_are_kept_as_written_and_flagged_for_mapping():
    task = _task(_parse(EXPLAINED), "4")
    assert task["owners"] == ["县政府有关部门", "各乡镇", "有关直属单位"]
    assert all(d["generic"] and d["confidence"] == "low" for d in task["owner_details"])


def test_a_generic_owner_with_brackets_inside_is_one_name():
    doc = _parse("2024年白沙县卫生工作要点\n一、医疗\n1.做好基层卫生人员培训。（各县（市、区）卫生健康局）\n")
    assert doc["tasks"][0]["owners"] == ["各县(市、区)卫生健康局"]
    doc = _parse("2024年白沙县卫生工作要点\n一、医疗\n1.做好基层卫生人员培训。（省卫生健康委、各县〔市、区〕政府）\n")
    assert doc["tasks"][0]["owners"] == ["省卫生健康委", "各县〔市、区〕政府"]


# -- hard line breaks, running headers, pages that start mid-item --------------------------------


def test_the_wrapped_copy_really_breaks_inside_names_and_notes():
    text = plans.wrapped_plan()
    assert "（国家\n卫生健康委" in text and "按职责分\n工负责" in text and "市体育总\n局" in text


def test_it_joins_lines_broken_at_the_page_edge_before_reading_owners():
    doc = _parse(plans.wrapped_plan())
    assert [t["owners"] for t in doc["tasks"]] == [
        ["国家卫生健康委", "市医保局"],
        ["市民政局", "市卫生健康委"],
        ["市体育总局"],
        ["市卫生健康委"],
        ["市人社局", "市卫生健康委"],
    ]


def test_it_joins_a_heading_broken_at_the_page_edge():
    doc = _parse(plans.wrapped_plan())
    assert _task(doc, "1")["heading"] == "推进县域医共体建设,完善县乡村三级医疗服务网络,提升基层首诊能力和县域就诊率"


def test_a_page_that_starts_mid_item_continues_the_item_past_its_running_header():
    doc = _parse(plans.wrapped_plan())
    task = _task(doc, "4")
    assert task["text"].startswith("完善院前急救网络布局,新建急救站点6个,城区急救平均反应时间缩短至12分钟以内。")
    assert plans.WRAPPED_TITLE not in task["text"] and "— 2 —" not in task["text"]
    assert any("页眉" in w and plans.WRAPPED_TITLE in w for w in doc["warnings"])
    assert (task["indicators"][-1]["comparator"], task["indicators"][-1]["target"]) == ("<=", 12)


def test_it_does_not_join_lines_of_a_text_that_was_not_wrapped():
    doc = _parse(plans.PAREN_TASK_PLAN)
    assert [t["heading"] for t in doc["tasks"]] == ["推进县域医共体建设", "改善医疗服务", "做好疫苗接种"]


# -- uneven numbering depth --------------------------------------------------------------------

UNEVEN = """2024年青岚市公共卫生工作要点
一、医疗服务
1.推进胸痛中心建设。（市卫生健康委）
二、公共卫生
（一）慢性病防治
1.主要目标指标。到2024年底，高血压患者规范管理率达到65%。（市疾控局）
2.重点工作举措
（1）开展慢性病早筛早诊。（市卫生健康委）
（2）推进慢性病综合防控示范区建设。（市疾控局、市体育局）
（二）妇幼健康
1.落实母婴安全五项制度。（市卫生健康委）
"""


def test_an_item_with_sub_items_under_a_bare_title_is_a_section_of_them():
    doc = _parse(UNEVEN)
    assert {"path": ["二", "(一)", "2"], "title": "重点工作举措"} in doc["sections"]
    subs = [t for t in doc["tasks"] if t["section"] == ["二", "(一)", "2"]]
    assert [(t["number"], t["owners"]) for t in subs] == [
        ("1", ["市卫生健康委"]),
        ("2", ["市疾控局", "市体育局"]),
    ]
    assert all(t["rule"] == "sub_item" for t in subs)


def test_its_sibling_without_sub_items_stays_a_task():
    doc = _parse(UNEVEN)
    task = _task(doc, "1", ["二", "(一)"])
    assert task["heading"] == "主要目标指标" and task["indicators"][0]["target"] == 65
    assert ["二", "(一)", "1"] not in [s["path"] for s in doc["sections"]]


def test_sub_items_numbered_with_a_closing_bracket_only_read_the_same():
    doc = _parse(UNEVEN.replace("（1）", "1）").replace("（2）", "2）"))
    subs = [t for t in doc["tasks"] if t["section"] == ["二", "(一)", "2"]]
    assert [t["number"] for t in subs] == ["1", "2"]


def test_sub_items_inside_an_item_that_has_a_sentence_stay_in_it():
    task = parse_bytes(plans.PARTS_PLAN.encode(), "p.txt")["tasks"][2]
    assert "(1)新建营养健康食堂120家" in task["text"] and task["rule"] == "numbered_item"


def test_a_paren_item_without_a_full_stop_is_the_heading_of_the_paragraph_below_it():
    text = (
        "2024年白沙县医疗服务工作安排\n一、医疗服务\n（一）推进分级诊疗\n"
        "落实基层首诊、双向转诊制度，基层诊疗量占比达到65%。（县卫生健康局）\n（二）改善就医体验\n推广预约诊疗服务。（县人民医院）\n"
    )
    doc = _parse(text)
    assert [(t["number"], t["heading"], t["owners"]) for t in doc["tasks"]] == [
        ("一", "推进分级诊疗", ["县卫生健康局"]),
        ("二", "改善就医体验", ["县人民医院"]),
    ]


RUNS = """2024年青岚市医疗质量工作要点
一、医疗质量
1.加强医疗质量管理。一是完善市级质控中心体系，二是开展专项检查，
三是强化检查结果运用。（市卫生健康委）
2.改善护理服务。
一是扩大优质护理覆盖面；
二是推进延续护理服务。（市卫生健康委、市医保局）
"""


def test_yishi_ershi_runs_stay_inside_their_task():
    doc = _parse(RUNS)
    assert [t["number"] for t in doc["tasks"]] == ["1", "2"]
    assert "三是强化检查结果运用" in doc["tasks"][0]["text"]
    assert "二是推进延续护理服务" in doc["tasks"][1]["text"]
    assert doc["tasks"][1]["owners"] == ["市卫生健康委", "市医保局"]


def test_items_run_together_on_one_line_are_split_by_their_numbers():
    text = (
        "2024年青岚市卫生工作要点\n一、重点任务\n"
        "1.重大慢病过早死亡率下降到15%。（市卫生健康委）2.70岁以下人群慢性呼吸系统疾病死亡率下降到9/10万。（市疾控局）\n"
    )
    doc = _parse(text)
    assert [(t["number"], t["owners"]) for t in doc["tasks"]] == [("1", ["市卫生健康委"]), ("2", ["市疾控局"])]
    second = doc["tasks"][1]["indicators"][0]
    assert second["name"] == "70岁以下人群慢性呼吸系统疾病死亡率" and second["unit"] == "1/10万"


# -- nothing silently lost ------------------------------------------------------------------------

SAFEGUARDS = [
    "2024年白沙县卫生健康工作要点",
    "一、医疗服务",
    "1.推进县域医共体建设。（县卫生健康局）",
    "2.加强胸痛中心建设。（县人民医院）",
    "二、保障措施",
    "（一）加强组织领导。各单位要把工作要点落实情况纳入年度考核。（局办公室）",
    "（二）强化督导检查。定期通报工作进展。（局督查室）",
    "（三）营造良好氛围。加大宣传力度。（局宣传科）",
]


@pytest.mark.parametrize("fmt", ["txt", "docx"])
def test_numbered_items_with_owners_under_safeguards_stay_tasks(fmt):
    doc = parse_bytes(plans.docx_bytes(SAFEGUARDS), "plan.docx") if fmt == "docx" else _parse("\n".join(SAFEGUARDS))
    kept = [t for t in doc["tasks"] if t["section"] == ["二"]]
    assert [(t["number"], t["heading"], t["owners"]) for t in kept] == [
        ("一", "加强组织领导", ["局办公室"]),
        ("二", "强化督导检查", ["局督查室"]),
        ("三", "营造良好氛围", ["局宣传科"]),
    ]
    assert [s["path"] for s in doc["sections"]] == [["一"], ["二"]]


GOALS = """2024年青岚市健康促进工作计划
2024年是健康青岚行动承上启下的一年，各地要持续发力。
一、健康知识普及
（一）工作目标
全市居民健康素养水平稳步提升。
（二）重点任务
1.开展健康科普。（市卫生健康委）
青岚市卫生健康委员会
2024年3月1日
附件：任务清单
"""


def test_every_body_line_ends_up_in_a_section_a_task_or_a_warning_that_names_it():
    doc = _parse(GOALS)
    placed = " ".join([s["title"] for s in doc["sections"]] + [t["text"] for t in doc["tasks"]])
    lines = fold_width(GOALS).strip("\n").split("\n")
    for no, line in enumerate(lines[1:], start=2):
        if line in ("青岚市卫生健康委员会", "2024年3月1日"):
            continue  # the signature: read into the plan's issuer and date
        words = re.sub(r"^(\(.\)|.、|\d\.)", "", line).replace("(市卫生健康委)", "")
        named = any(w.startswith(f"line {no}:") and line[:10] in w for w in doc["warnings"])
        assert words in placed or named, line


def test_the_document_counts_what_was_dropped_and_why():
    doc = _parse(GOALS)
    reasons = [(d["line"], d["reason"]) for d in doc["dropped"]]
    assert reasons == [(2, "preamble"), (5, "section_text"), (10, "end_matter")]
    assert doc["plan"]["issuer"] == "青岚市卫生健康委员会"


def test_owner_labels_in_lenticular_brackets_read_like_colons():
    text = (
        "2024年白沙县卫生工作要点\n一、医疗\n1.推进医共体建设。\n"
        "【牵头单位】县卫生健康局\n【配合单位】县医保局、县财政局\n"
    )
    assert _parse(text)["tasks"][0]["owners"] == ["县卫生健康局", "县医保局", "县财政局"]


def test_end_matter_after_the_signature_joins_no_task():
    text = (
        "2024年白沙县卫生工作要点\n一、医疗\n1.推进医共体建设。（县卫生健康局）\n"
        "白沙县卫生健康局\n2024年3月1日\n抄送：县委办、县政府办\n白沙县卫生健康局办公室 2024年3月2日印发\n"
    )
    task = _parse(text)["tasks"][0]
    assert task["text"] == "推进医共体建设。" and task["owners"] == ["县卫生健康局"]


def test_a_list_of_short_lines_of_one_length_is_not_taken_for_wrapped_text():
    names = ["医养结合", "家庭病床", "急救站点", "健康驿站", "托育机构", "心理援助", "职业健康", "母婴设施"]
    text = (
        "2024年青岚市卫生健康工作要点\n一、医疗服务\n1.推进胸痛中心建设。（市卫生健康委）\n二、拟研究制定的文件\n"
        + "".join(f"《青岚市{name}服务管理暂行办法》\n" for name in names)
    )
    deliverables = [t for t in _parse(text)["tasks"] if t["section"] == ["二"]]
    assert len(deliverables) == len(names) and all(t["number"] is None for t in deliverables)
