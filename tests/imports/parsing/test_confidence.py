"""Why each task, owner and indicator was read as it was, and which ones the admin should check first."""

from imports.parsing import confidence, parse_bytes

from . import plans


def _parse(text, name="plan.txt"):
    return parse_bytes(text.encode("utf-8"), name)


def test_every_rule_code_has_a_label_for_the_preview():
    doc = _parse(plans.COVER_PLAN)
    used = {t["rule"] for t in doc["tasks"]}
    used |= {d["rule"] for t in doc["tasks"] for d in t["owner_details"]}
    used |= {i["rule"] for t in doc["tasks"] for i in t["indicators"]}
    assert used <= set(confidence.LABELS)
    assert all(str(label) for label in confidence.LABELS.values())


def test_a_numbered_item_is_sure_and_a_number_whose_dot_was_lost_is_not():
    doc = _parse(plans.COVER_PLAN)
    by_number = {t["number"]: t for t in doc["tasks"]}
    assert (by_number["1"]["rule"], by_number["1"]["confidence"]) == ("numbered_item", "high")
    assert (by_number["4"]["rule"], by_number["4"]["confidence"]) == ("lost_dot", "low")


def test_unnumbered_deliverables_are_marked_for_a_look():
    doc = _parse(plans.COVER_PLAN)
    assert {(t["rule"], t["confidence"]) for t in doc["tasks"] if t["number"] is None} == {("deliverable", "low")}


def test_owner_details_say_which_rule_found_each_owner_and_who_leads():
    doc = _parse(plans.COVER_PLAN)
    by_number = {t["number"]: t for t in doc["tasks"]}
    first = by_number["1"]["owner_details"]
    assert [(d["name"], d["lead"], d["rule"], d["confidence"]) for d in first] == [
        ("市卫生健康委", True, "bracket_note", "high"),
        ("市财政局", False, "bracket_note", "high"),
    ]
    assert {d["rule"] for d in by_number["3"]["owner_details"]} == {"after_full_stop"}
    assert {d["rule"] for d in by_number["4"]["owner_details"]} == {"bracket_lost"}
    assert all(d["confidence"] == "low" for n in ("3", "4", "5") for d in by_number[n]["owner_details"])


def test_a_spreadsheet_row_records_its_columns_as_the_reason():
    doc = parse_bytes(plans.xlsx_bytes(plans.BREAKDOWN_ROWS), "b.xlsx")
    task = doc["tasks"][1]
    assert task["rule"] == "table_row"
    assert {d["rule"] for d in task["owner_details"]} == {"table_column"}
    assert task["indicators"][0]["rule"] == "table_column"


def test_a_spreadsheets_indicator_column_is_read_with_the_running_text_rules():
    rows = [
        ["序号", "重点任务", "牵头单位", "量化指标"],
        ["1", "保障母婴安全", "县卫生健康局", "孕产妇死亡率≤8/10万；婴儿死亡率：5‰以下"],
    ]
    found = parse_bytes(plans.xlsx_bytes(rows), "b.xlsx")["tasks"][0]["indicators"]
    assert [(i["name"], i["comparator"], i["target"], i["unit"]) for i in found] == [
        ("孕产妇死亡率", "<=", 8, "1/10万"),
        ("婴儿死亡率", "<=", 5, "‰"),
    ]
    assert found[0]["source"] == "孕产妇死亡率≤8/10万;婴儿死亡率:5‰以下"


def test_counts_read_without_a_comparator_are_low_confidence():
    doc = _parse("2024年白沙县卫生工作要点\n一、医疗\n1.新建社区健康驿站12个，签约率达到70%。（县卫生健康局）\n")
    found = doc["tasks"][0]["indicators"]
    assert {(i["target"], i["rule"], i["confidence"]) for i in found} == {
        (12, "target_count", "low"),
        (70, "comparator", "high"),
    }


def test_a_table_row_without_a_task_is_named_among_the_dropped_lines():
    rows = [*plans.BREAKDOWN_ROWS, ["", "", "县卫生健康局", "", "", "备注：各单位按季度报送"]]
    doc = parse_bytes(plans.xlsx_bytes(rows), "b.xlsx")
    assert [(d["line"], d["reason"]) for d in doc["dropped"]] == [(len(rows), "table_row")]
    assert any(w.startswith(f"line {len(rows)}:") and "备注" in w for w in doc["warnings"])
