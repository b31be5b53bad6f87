"""Structure: metadata, cover letters, sections to any depth, tasks at the lowest level, headings."""

import pytest

from imports.parsing import ParseError, parse_bytes

from . import plans


def _parse(text, name="plan.txt"):
    return parse_bytes(text.encode("utf-8"), name)


def test_it_reads_plan_metadata_through_a_cover_letter():
    plan = _parse(plans.COVER_PLAN)["plan"]
    assert plan == {
        "title": "2023年云溪市卫生健康工作要点",
        "year": 2023,
        "issuer": "云溪市卫生健康委员会",
        "doc_number": "云卫发〔2023〕7号",
        "issued_on": "2023-02-14",
    }


def test_it_does_not_turn_the_cover_letter_into_tasks_or_sections():
    doc = _parse(plans.COVER_PLAN)
    assert [s["path"] for s in doc["sections"]] == [["一"], ["二"], ["三"]]
    assert all("印发给你们" not in t["text"] for t in doc["tasks"])


def test_it_takes_the_title_from_the_notice_when_it_does_not_stand_alone():
    text = "关于印发《2021年石门县卫生健康工作要点》的通知\n各乡镇卫生院：\n一、医疗\n1.推进分级诊疗。\n"
    assert _parse(text)["plan"]["title"] == "2021年石门县卫生健康工作要点"


def test_it_leaves_issuer_null_when_only_a_website_is_named():
    text = "健康资讯网\n位置：首页 > 工作计划\n2021年某区健康促进工作计划\n一、宣传\n1.开展健康讲座。\n"
    plan = _parse(text)["plan"]
    assert plan["issuer"] is None and plan["issued_on"] is None and plan["year"] == 2021


def test_it_reads_a_signature_at_the_end():
    text = "2020年东山区卫生健康工作要点\n一、医疗\n1.推进胸痛中心建设。\n\n东山区卫生健康委员会\n2020年4月3日\n"
    doc = _parse(text)
    assert doc["plan"]["issuer"] == "东山区卫生健康委员会"
    assert doc["plan"]["issued_on"] == "2020-04-03"
    assert doc["tasks"][0]["text"] == "推进胸痛中心建设。"


def test_it_builds_sections_to_any_depth_with_ascii_labels():
    doc = _parse(plans.PARTS_PLAN)
    paths = [s["path"] for s in doc["sections"]]
    assert ["第一部分", "(一)"] in paths
    assert ["第二部分", "一", "(二)"] in paths
    assert {"path": ["第二部分", "一"], "title": "合理膳食行动"} in doc["sections"]


def test_it_puts_tasks_at_the_lowest_numbered_level():
    doc = _parse(plans.PARTS_PLAN)
    keys = [(tuple(t["section"]), t["number"]) for t in doc["tasks"]]
    assert keys == [
        (("第一部分", "(一)"), "1"),
        (("第一部分", "(一)"), "2"),
        (("第二部分", "一", "(二)"), "1"),
        (("第二部分", "一", "(二)"), "2"),
        (("第二部分", "二", "(一)"), "1"),
        (("第二部分", "二", "(一)"), "2"),
    ]


def test_it_keeps_sub_items_inside_their_task():
    task = _parse(plans.PARTS_PLAN)["tasks"][2]
    assert "(1)新建营养健康食堂120家" in task["text"] and "(2)培训营养指导员300名以上" in task["text"]
    assert task["owners"] == ["省卫生健康委", "省市场监管局"]


def test_it_ignores_unnumbered_goal_paragraphs():
    doc = _parse(plans.PARTS_PLAN)
    assert all("清淡饮食" not in t["text"] for t in doc["tasks"])


def test_it_uses_paren_numbers_for_tasks_when_they_are_the_lowest_level():
    doc = _parse(plans.PAREN_TASK_PLAN)
    assert [s["path"] for s in doc["sections"]] == [["一"], ["二"]]
    assert [(t["section"], t["number"]) for t in doc["tasks"]] == [(["一"], "一"), (["一"], "二"), (["二"], "一")]


def test_it_recovers_an_item_number_whose_dot_was_lost():
    task = next(t for t in _parse(plans.COVER_PLAN)["tasks"] if t["number"] == "4")
    assert task["heading"] == "优化妇幼健康服务"


def test_it_does_not_read_a_number_at_line_start_as_an_item_out_of_sequence():
    text = "2022年某县卫生工作要点\n一、医疗\n1.推进分级诊疗。\n30家卫生院完成改造。\n"
    doc = _parse(text)
    assert [t["number"] for t in doc["tasks"]] == ["1"]
    assert "30家卫生院" in doc["tasks"][0]["text"]


def test_it_turns_unnumbered_deliverables_into_tasks_without_number():
    doc = _parse(plans.COVER_PLAN)
    deliverables = [t for t in doc["tasks"] if t["number"] is None]
    assert [t["heading"] for t in deliverables] == ["《云溪市基层卫生人才招引办法》", "《云溪市医养结合服务规范》"]
    assert all(t["section"] == ["三"] for t in deliverables)


def test_it_takes_the_heading_before_the_first_full_stop_without_owners():
    doc = _parse(plans.COVER_PLAN)
    assert doc["tasks"][0]["heading"] == "推进村卫生室标准化建设"
    assert "市财政局" not in doc["tasks"][0]["text"]


def test_it_takes_the_whole_item_as_heading_when_it_has_no_full_stop():
    text = "2022年某县卫生工作要点\n一、医疗\n1.举办基层医生“适宜技术”专题培训班（县卫生健康局）\n"
    task = _parse(text)["tasks"][0]
    assert task["heading"] == "举办基层医生“适宜技术”专题培训班"
    assert task["owners"] == ["县卫生健康局"]


def test_it_warns_when_the_document_is_cut_off_mid_item():
    doc = _parse(plans.PARTS_PLAN)
    last_line = len(plans.PARTS_PLAN.rstrip("\n").split("\n"))
    assert any(w.startswith(f"line {last_line}:") and "截断" in w for w in doc["warnings"])


def test_it_does_not_warn_about_a_complete_document():
    doc = _parse(plans.PAREN_TASK_PLAN)
    assert not any("截断" in w for w in doc["warnings"])


def test_it_refuses_a_text_with_no_plan_in_it():
    with pytest.raises(ParseError) as caught:
        _parse("这是一段没有任何编号的说明文字。\n")
    assert "未能识别出工作要点的结构" in str(caught.value)


def test_it_can_return_an_empty_document_with_a_warning_instead():
    doc = parse_bytes("这是一段没有任何编号的说明文字。\n".encode(), "plan.txt", require_structure=False)
    assert doc["tasks"] == [] and doc["warnings"]


def test_it_returns_the_spec_shape_with_only_optional_extras():
    doc = _parse(plans.COVER_PLAN)
    plans.assert_spec_shape(doc)
    assert all(task["indicators"] == [] or "source" in task["indicators"][0] for task in doc["tasks"])


def test_it_reports_progress_from_0_to_100():
    seen = []
    parse_bytes(plans.COVER_PLAN.encode("utf-8"), "plan.txt", progress=seen.append)
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(seen)
