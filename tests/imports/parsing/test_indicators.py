"""Indicators: 分别 lists, shared values, ceilings, units, explicit dues, and context numbers."""

import pytest

from imports.parsing.indicators import find_indicators


def _triples(text):
    return [(i["comparator"], i["target"], i["unit"]) for i in find_indicators(text)]


def test_it_distributes_fenbie_lists():
    found = find_indicators("力争每千人口药师数、康复治疗师数分别达到0.54、0.32。")
    assert [(i["name"], i["target"]) for i in found] == [("每千人口药师数", 0.54), ("每千人口康复治疗师数", 0.32)]
    assert all(i["unit"] == "人" for i in found)


def test_it_distributes_a_shared_value():
    found = find_indicators("确保儿童健康管理率、孕妇和产妇系统管理率达到85%以上。")
    assert len(found) == 3 and all(i["target"] == 85 and i["unit"] == "%" for i in found)
    assert found[1]["name"].endswith("管理率")


def test_it_distributes_a_value_marked_jun():
    found = find_indicators("全市村卫生室标准化和信息化建设均达100%。")
    assert _triples("全市村卫生室标准化和信息化建设均达100%。") == [(">=", 100, "%"), (">=", 100, "%")]
    assert len(found) == 2


def test_it_keeps_one_ratio_over_two_groups():
    assert len(find_indicators("县级医院和乡镇卫生院开设中医馆的比例达到90%以上。")) == 1


@pytest.mark.parametrize(
    "text, triple",
    [
        ("孕产妇死亡率控制在8/10万以内。", ("<=", 8, "1/10万")),
        ("婴儿死亡率控制在4.5‰以内。", ("<=", 4.5, "‰")),
        ("吸烟率低于20%。", ("<=", 20, "%")),
        ("签约率超过60%。", (">=", 60, "%")),
        ("接种率保持在95%以上。", (">=", 95, "%")),
        ("技术培训不少于40次。", (">=", 40, "次")),
        ("年内培训乡村医生200名以上。", (">=", 200, "名")),
        ("新增护理床位1500张。", (">=", 1500, "张")),
        ("新建社区健康驿站18个。", (">=", 18, "个")),
        ("建设规范化预防接种门诊12家。", (">=", 12, "家")),
        ("平均住院日控制在8天以内。", ("<=", 8, "天")),
        ("人均预期寿命达到79.5岁。", (">=", 79.5, "岁")),
        ("检查公共场所不少于5000家次。", (">=", 5000, "家次")),
    ],
)
def test_it_reads_comparator_target_and_unit(text, triple):
    assert _triples(text) == [triple]


def test_it_names_counts_after_their_verb():
    found = find_indicators("新增6家嵌入式托育机构、400个普惠托位,完成150所学校直饮水改造。")
    assert [(i["name"], i["target"], i["unit"]) for i in found] == [
        ("新增嵌入式托育机构", 6, "家"),
        ("新增普惠托位", 400, "个"),
        ("完成学校直饮水改造", 150, "所"),
    ]


def test_it_names_counts_written_after_the_noun():
    found = find_indicators("新建改建口袋公园12个、健身广场20片。")
    assert [(i["name"], i["target"]) for i in found] == [("新建改建口袋公园", 12), ("健身广场", 20)]


def test_it_dates_targets_with_an_explicit_due():
    found = find_indicators("到2022年底每千人床位数达到6.5张,到“十四五”末达到7.0张。")
    assert [(i["target"], i["due"]) for i in found] == [(6.5, "2022-12-31"), (7.0, "2025-12-31")]


@pytest.mark.parametrize(
    "text",
    [
        "开展0-3岁婴幼儿发育评估。",
        "全力做好第三届健康博览会医疗保障。",
        "执行“1+5”结对帮扶机制。",
        "实行24小时急诊接诊。",
        "召开2023年度卫生工作会议。",
        "由市中心医院带动9家社区卫生服务中心组建医联体。",
        "巩固已建成的12家胸痛中心。",
        "为65岁以上老年人提供免费体检。",
        "推广孕期280天全程保健服务。",
        "遴选3-5个试点乡镇。",
    ],
)
def test_it_ignores_numbers_that_only_describe_context(text):
    assert find_indicators(text) == []


@pytest.mark.parametrize(
    "text, triple",
    [
        ("吸烟率降至20%。", ("<=", 20, "%")),
        ("吸烟率降低到20%。", ("<=", 20, "%")),
        ("吸烟率下降到20%。", ("<=", 20, "%")),
        ("个人卫生支出占比不高于27%。", ("<=", 27, "%")),
        ("平均住院日不超过8天。", ("<=", 8, "天")),
        ("平均住院日缩短至8天。", ("<=", 8, "天")),
        ("婴儿死亡率控制在5‰以下。", ("<=", 5, "‰")),
        ("孕产妇死亡率≤8/10万。", ("<=", 8, "1/10万")),
        ("健康素养水平提高到30%。", (">=", 30, "%")),
        ("健康素养水平提升至30%。", (">=", 30, "%")),
        ("规范管理率达65%。", (">=", 65, "%")),
        ("规范管理率不低于65%。", (">=", 65, "%")),
        ("规范管理率≥65%。", (">=", 65, "%")),
    ],
)
def test_it_reads_the_published_comparator_words_and_glyphs(text, triple):
    found = find_indicators(text)
    assert _triples(text) == [triple]
    assert not any(ch in found[0]["name"] for ch in "≤≥<>=")


@pytest.mark.parametrize(
    "text, target, unit",
    [
        ("新建6万管/日的核酸检测基地。", 6, "万管/日"),
        ("每万人口全科医生数达到4人/万人。", 4, "人/万人"),
        ("每千人口床位数达到6.5张/千人。", 6.5, "张/千人"),
        ("人均基本公共卫生服务经费补助标准提高到94元。", 94, "元"),
        ("筹集专项资金达到500万元。", 500, "万元"),
        ("服务人次达1000万以上。", 1000, "万"),
        ("健康城市发展指数达85。", 85, ""),
        ("年内新建三处健康驿站。", 3, "处"),
    ],
)
def test_it_keeps_units_as_written_compound_ones_included(text, target, unit):
    found = find_indicators(text)
    assert [(i["target"], i["unit"]) for i in found] == [(target, unit)]


def test_a_value_shared_with_ge_goes_to_every_name_before_it():
    found = find_indicators("建成健康餐厅、健康食堂各10家。")
    assert [(i["name"], i["target"], i["unit"]) for i in found] == [("建成健康餐厅", 10, "家"), ("健康食堂", 10, "家")]


def test_no_owner_note_or_item_number_is_left_inside_a_name():
    found = find_indicators(
        "重大慢病过早死亡率下降到15%。(省卫生健康委负责)4.70岁以下人群慢性呼吸系统疾病死亡率下降到9/10万。"
    )
    assert [i["name"] for i in found] == ["重大慢病过早死亡率", "70岁以下人群慢性呼吸系统疾病死亡率"]


def test_each_indicator_keeps_the_sentence_it_came_from_and_why_it_was_read():
    found = find_indicators("推进妇幼健康服务。孕产妇死亡率控制在8/10万以内，新增产科床位20张。")
    assert [i["source"] for i in found] == ["孕产妇死亡率控制在8/10万以内，新增产科床位20张"] * 2
    assert [(i["rule"], i["confidence"]) for i in found] == [("comparator", "high"), ("target_count", "low")]


def test_a_named_value_reads_like_running_text():
    found = find_indicators("签约率：75%；孕产妇死亡率：8/10万以下")
    assert [(i["name"], i["comparator"], i["target"], i["unit"]) for i in found] == [
        ("签约率", ">=", 75, "%"),
        ("孕产妇死亡率", "<=", 8, "1/10万"),
    ]
