"""What a parse costs grows with the plan, never faster: script conversion (OpenCC) runs a fixed
number of times per document, not once per line, and a plan four times as long takes about four
times the work. Counted (conversions, function calls), never timed, so that a busy machine cannot
make these fail and a slow regression cannot hide in noise."""

import sys
from unittest import mock

import core.text
from imports.parsing import forget_texts, parse_bytes

# Owner notes come from a short list in both scripts, as in a real plan: they repeat.
OWNERS = ["市卫生健康委", "市衛生健康委", "疾控处", "财务处", "市医疗保障局", "市教育局", "醫政醫管處"]


def plan(n_items):
    lines = ["2026年澄江市卫生健康工作要点", "一、深化改革"]
    for n in range(1, n_items + 1):
        owners = "、".join(OWNERS[(n + k) % len(OWNERS)] for k in range(1 + n % 2))
        lines.append(
            f"{n}.推进第{n}项重点工作，完善工作機制。{n % 12 + 1}月底前完成方案制定，"
            f"全市签约服务覆盖率达到{60 + n % 30}%以上，新建社区健康驿站{n % 9 + 2}个。（{owners}）"
        )
    lines += ["澄江市卫生健康委员会", "2026年2月1日"]
    return ("\n".join(lines) + "\n").encode("utf-8")


class CountingConverter:
    def __init__(self, real):
        self.real = real
        self.calls = 0

    def convert(self, text):
        self.calls += 1
        return self.real.convert(text)


def conversions(data):
    """(OpenCC conversions, the document) for a cold parse of ``data``."""
    forget_texts()
    counter = CountingConverter(core.text._T2S)
    with mock.patch.object(core.text, "_T2S", counter):
        doc = parse_bytes(data, "plan.txt")
    return counter.calls, doc


def function_calls(data):
    """Python and C function calls made by a cold parse of ``data``."""
    forget_texts()
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        parse_bytes(data, "plan.txt")
    finally:
        sys.setprofile(None)
    return calls


def test_it_converts_script_a_fixed_number_of_times_per_document_not_per_line():
    # given two plans with the same owners, one four times as long
    short, long = plan(60), plan(240)

    # when each is parsed cold
    short_calls, short_doc = conversions(short)
    long_calls, long_doc = conversions(long)

    # then both are read in full, the traditional-script owners matched like the simplified ones,
    assert len(short_doc["tasks"]) == 60 and len(long_doc["tasks"]) == 240
    assert long_doc["tasks"][0]["owners"] == ["市衛生健康委", "疾控处"]
    # and the long one needs no more conversions: lines are converted together, names once each
    assert long_calls == short_calls, f"{short_calls} conversions for 60 items, {long_calls} for 240"
    assert long_calls < 40


def test_it_does_about_four_times_the_work_on_a_plan_four_times_as_long():
    # given two plans, one four times as long
    # when each is parsed cold, counting the function calls
    short, long = function_calls(plan(100)), function_calls(plan(400))

    # then the work grows with the plan (a pass over the items for every item would make it 16×)
    assert long < 4.5 * short, f"{short} calls for 100 items, {long} for 400"
