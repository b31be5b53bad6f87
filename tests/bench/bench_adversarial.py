"""Time the parser on pathological ~200 KB inputs (regex backtracking, quadratic loops).

usage: .venv/bin/python tests/bench/bench_adversarial.py [--size BYTES]

Prints one line per input: the outcome (tasks found, or the ParseError) and the seconds taken.
Not a test: tests.imports.parsing/test_safety.py checks the same inputs for correctness only.
"""

import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


HEAD = "2023年某市卫生健康工作要点\n一、医疗服务\n1."


def adversarial_inputs(size=200_000):
    """(name, text) pairs of about ``size`` characters each (plus a short header)."""

    def fill(unit):
        return (unit * (size // max(1, len(unit)) + 1))[:size]

    def item(body):  # the same run inside a numbered item, where owners, milestones and
        return HEAD + body  # indicators are looked for

    singles = [
        ("digits, one line", fill("1")),
        ("digits with dots", fill("1.")),
        ("digit runs + 、", fill("12、")),
        ("numbers and units", fill("3个")),
        ("达到 + value list", "覆盖率达到" + fill("1%、")),
        ("分别 + long name list", fill("甲率、") + "分别达到" + fill("1、")[: size // 4]),
        ("open brackets", fill("(")),
        ("nested brackets", fill("(（")),
        ("close brackets", fill(")")),
        ("(一) labels on one line", fill("(一)")),
        ("、 separators", fill("、")),
        ("Chinese numerals", fill("一")),
        ("一、 one line", fill("一、")),
        ("第一部分 one line", fill("第一部分")),
        ("long line of Han", fill("推进卫生健康工作")),
        ("Han with no full stop and owner tail", fill("推进工作") + "(市卫生健康委"),
        ("owner list, no brackets", "。" + fill("市卫生健康委、")),
        ("dates", fill("2021年6月30日")),
        ("milestones", fill("6月底前完成")),
        ("quarters", fill("三季度末前")),
        ("pinyin annotations", fill("衛(wèi)")),
        ("question marks", fill("?卫")),
        ("quotes", fill("“")),
        ("book titles", fill("《")),
        ("达到 runs", fill("达到1")),
        ("分别控制在 runs", fill("分别控制在1‰、")),
        ("percent runs", fill("9%")),
        ("ranges and formulas", fill("0-6岁1+7")),
        ("year-end targets", fill("到2025年底")),
        ("commas", fill("，")),
        ("full stops", fill("。")),
        ("notice wrappers", fill("印发《")),
        ("notice wrappers, closed", fill("关于印发《a》")),
        ("signature-like line", "某市卫生健康委员会 " + fill("2021年")),
        ("document numbers", fill("卫发〔2023〕")),
        ("suffix words", "覆盖率" + fill("分别") + "达到90%"),
    ]
    return (
        singles
        + [(name + " (in an item)", item(text)) for name, text in singles]
        + [
            ("numbered lines", "".join(f"{i % 1000}.推进第{i}项工作。\n" for i in range(size // 12))),
            ("section lines", "".join("({})重点\n".format("一二三四五六七八九十"[i % 10]) for i in range(size // 5))),
            ("blank lines", fill("\n")),
            ("lines of ?", fill("? ?\n")),
            (
                "many short items with targets",
                "".join(
                    f"{i % 999 + 1}.新增床位{i}张，覆盖率达到{i % 100}%。(市卫生健康委)\n" for i in range(size // 30)
                ),
            ),
            ("HTML nesting", fill("<div>")),
            ("HTML tags", "<html><body>" + fill("<p>1.推进</p>")),
            ("CSV one long field", '"' + fill("任务")),
            ("CSV section rows", "序号,重点任务,牵头单位\n" + "".join(f"一、领域{i}\n" for i in range(size // 8))),
            (
                "CSV task rows",
                "序号,重点任务,牵头单位,完成时限\n"
                + "".join(f"{i},推进工作{i},市卫生健康委,2023年13月\n" for i in range(size // 30)),
            ),
        ]
    )


def main(argv):
    sys.path.insert(0, ROOT)
    from django.conf import settings

    if not settings.configured:  # the parser's messages go through gettext: their source text will do
        settings.configure(USE_I18N=False)
    from imports.parsing import ParseError, parse_bytes

    size = int(argv[argv.index("--size") + 1]) if "--size" in argv else 200_000
    total = 0.0
    for name, text in adversarial_inputs(size):
        filename = "adversarial.csv" if name.startswith("CSV") else "adversarial.txt"
        started = time.perf_counter()
        try:
            doc = parse_bytes(text.encode("utf-8"), filename)
            outcome = f"{len(doc['tasks'])} tasks, {len(doc['warnings'])} warnings"
        except ParseError as exc:
            outcome = f"ParseError: {str(exc)[:40]}"
        seconds = time.perf_counter() - started
        total += seconds
        print(f"{name:40s} {seconds:8.3f} s  {outcome}")
    print(f"total {total:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
