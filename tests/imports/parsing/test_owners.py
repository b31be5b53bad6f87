"""Owners: bracketed notes, lost brackets, 牵头/参与 wording, spreadsheet columns; first is the lead."""

import pytest

from imports.parsing.owners import split_owner_note


@pytest.mark.parametrize(
    "text, owners",
    [
        ("推进健康食堂建设。(市卫生健康委、市教委)", ["市卫生健康委", "市教委"]),
        ("推进健康食堂建设。（市卫生健康委、市教委）", ["市卫生健康委", "市教委"]),
        ("推进健康食堂建设。市卫生健康委、市妇联)", ["市卫生健康委", "市妇联"]),
        ("推进健康食堂建设。(市卫生健康委、市妇联", ["市卫生健康委", "市妇联"]),
        ("推进健康食堂建设。市卫生健康委", ["市卫生健康委"]),
        ("推进健康食堂建设。(省卫生健康委牵头,省市场监管局参与)", ["省卫生健康委", "省市场监管局"]),
        ("推进健康食堂建设。(牵头单位:县卫生健康局;配合单位:县财政局、各乡镇)", ["县卫生健康局", "县财政局", "各乡镇"]),
        ("在产业园配建母婴室(市总工会、市妇联)", ["市总工会", "市妇联"]),
        (
            "在地铁车厢投放控烟广告。(市卫生健康委、市教委、江城地铁、市文旅局)",
            ["市卫生健康委", "市教委", "江城地铁", "市文旅局"],
        ),
    ],
)
def test_it_finds_owner_notes(text, owners):
    body, found = split_owner_note(text)
    assert found == owners
    assert owners[0] not in body


@pytest.mark.parametrize(
    "text",
    [
        "关注重点群体(外卖骑手)和重点区域(城中村)",
        "执行《山区巡回医疗管理办法(试行)》",
        "规范设置睡眠门诊(含儿童睡眠门诊)。",
        "健全考核机制。推进县妇幼保健院迁建项目",
        "开展健康乡镇评选。加强村级老年协会",
        "改造(提升)乡镇卫生院(分院)",
    ],
)
def test_it_leaves_brackets_that_are_not_owners(text):
    body, found = split_owner_note(text)
    assert found == [] and body == text


def test_it_keeps_the_lead_first_in_a_spreadsheet():
    from imports.parsing import parse_bytes

    from . import plans

    doc = parse_bytes(plans.xlsx_bytes(plans.BREAKDOWN_ROWS), "b.xlsx")
    assert doc["tasks"][1]["owners"] == ["县卫生健康局", "各乡镇人民政府"]
