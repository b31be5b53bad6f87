"""Cleaning: pinyin annotations, '?' damage, site chrome, width folding, script kept, script_key."""

from imports.parsing import parse_bytes, script_key
from imports.parsing.cleaning import clean_lines, fold_width, strip_pinyin

from . import plans


def _clean(text):
    warnings = []
    lines, hints = clean_lines(text, lambda no, msg: warnings.append((no, msg)))
    return [line.text for line in lines], hints, warnings


def test_it_removes_pinyin_after_characters_and_warns_with_the_line():
    doc = parse_bytes(plans.TRAD_PINYIN.encode("utf-8"), "pinyin.txt")
    assert doc["plan"]["title"] == "2022年霧峰市衛生工作計劃"
    assert doc["tasks"][0]["owners"] == ["市衛生局"]
    assert "(" not in doc["sections"][0]["title"]
    assert any(w.startswith("line 1:") and "拼音" in w for w in doc["warnings"])


def test_it_keeps_real_brackets_that_are_not_pinyin():
    text, removed = strip_pinyin("推进DRG(按病组付费)改革(市医保局)")
    assert removed == 0 and text == "推进DRG(按病组付费)改革(市医保局)"


def test_it_reports_question_mark_damage_with_its_line_number():
    doc = parse_bytes(plans.TRAD_PINYIN.encode("utf-8"), "pinyin.txt")
    assert any(w.startswith("line 4:") and "?" in w for w in doc["warnings"])


def test_it_strips_question_marks_standing_for_lost_spaces():
    lines, _, warnings = _clean("???2021年某市卫生工作要点\n? ? ?\n")
    assert lines == ["2021年某市卫生工作要点"]
    assert warnings == []


def test_it_drops_site_chrome_and_keeps_what_it_says_about_the_page():
    lines, hints, _ = _clean(
        "当前位置：首页 > 政务公开\n分享：\n关闭 打印\n扫码使用手机浏览本页\n字号：大 中 小\n"
        "发布日期：2022-04-02 浏览次数：88\n信息来源：某市卫生健康委\n一、正文标题\n"
    )
    assert lines == ["一、正文标题"]
    assert hints["published_on"].isoformat() == "2022-04-02"
    assert hints["source"] == "某市卫生健康委"


def test_it_keeps_content_lines_that_mention_scanning():
    lines, _, _ = _clean("3.推广预防接种“扫码看健康”，覆盖全县接种门诊。")
    assert len(lines) == 1


def test_it_folds_full_width_digits_letters_and_brackets():
    assert fold_width("（一）１．ＡＢ") == "(一)1.AB"
    doc = parse_bytes(
        "２０２３年某县卫生工作要点\n一、服务\n１．推进ＡＩ辅助诊断。（县卫生健康局）\n".encode(), "w.txt"
    )
    assert doc["tasks"][0]["number"] == "1"
    assert doc["tasks"][0]["heading"] == "推进AI辅助诊断"


def test_it_keeps_the_documents_own_script():
    doc = parse_bytes(plans.TRAD_PLAN.encode("utf-8"), "trad.txt")
    assert doc["sections"][0]["title"] == "強化醫療服務"
    assert doc["tasks"][0]["owners"] == ["市衛生局", "市消防局"]


def test_script_key_folds_script_width_and_spaces():
    assert script_key("市衛生健康委 ") == script_key("市卫生健康委")
    assert script_key("（一）") == "(一)"
    assert script_key("上海市衛生健康委員會") == "上海市卫生健康委员会"


def test_it_closes_spaces_left_by_nbsp_in_the_title():
    page = "<p>2023年&nbsp;西岭县医疗保障工作要点</p><p>一、基金监管</p><p>1.开展专项检查。</p>" + "<div></div>" * 3
    assert parse_bytes(page.encode("utf-8"), "page.html")["plan"]["title"] == "2023年西岭县医疗保障工作要点"
