"""Every Chinese string a person reads goes through gettext, and the English catalogue has it.

The first test reads the source: a string literal with Chinese characters that is not a
docstring, not a regular expression and not inside a gettext call is a string a user would
see untranslated. The few that are data (words matched in a robot's reply, unit names an
indicator may carry) are listed below with the reason. The second test reads the catalogue:
every msgid the code and templates ask for has an English msgstr, so `make messages` has
been run after the strings changed.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HAN = re.compile(r"[\u4e00-\u9fff]")
GETTEXT = {
    "_",
    "gettext",
    "gettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "gettext_noop",
}
REGEX_CALLS = {"compile", "search", "match", "fullmatch", "findall", "finditer", "split", "sub", "subn"}
SKIPPED_DIRS = {".venv", ".git", "node_modules", "tests", "migrations", "var", "static", "locale"}
# Whole modules whose Chinese is data, not interface.
DATA_MODULES = {
    # The parser's vocabulary: the words published plans use (部分, 牵头单位, 以内 …).
    "imports/parsing",
    # The demo plan and its agencies, as a bureau would have typed them.
    "demo/loader.py",
    # The default 督办单 template: an official Chinese document's wording and its Word
    # styles and fonts, not interface (a bureau replaces the template with its own).
    "scripts/make_notice_template.py",
    # The default 通报 template, likewise: an official document's wording, styles and fonts.
    "scripts/make_bulletin_template.py",
}
# Single literals that are data; each with why.
DATA_LITERALS = {
    # Markers looked for in DingTalk's Chinese error messages.
    ("notifications/robots/dingtalk.py", "签名不匹配"),
    ("notifications/robots/dingtalk.py", "时间戳"),
    ("notifications/robots/dingtalk.py", "关键词"),
    ("notifications/robots/dingtalk.py", "白名单"),
    # A unit an indicator may be imported with, compared, never shown from here.
    ("indicators/services.py", "百分比"),
    # What 委员会 shortens to when agency names are matched.
    ("accounts/matching.py", "委"),
    # Stored in the audit trail in place of a secret: the trail is a record, not a page.
    ("audit/services.py", "（已隐藏）"),
    # The bureau's notice series, number format and office: settings defaults, printed on
    # an official document as the bureau writes them (ESCALATION_NUMBER_*, _ISSUING_OFFICE).
    ("config/settings.py", "督办"),
    ("config/settings.py", "{series}〔{year}〕{seq}号"),
    ("config/settings.py", "督查室"),
    # The bulletin's series and number format (BULLETIN_NUMBER_*), likewise.
    ("config/settings.py", "督查通报"),
    ("config/settings.py", "{series}〔{year}〕{seq}期"),
    # The Chinese numerals the import preview reads in a text's numbered items (一、二、…十二).
    ("imports/services/gaps.py", "一二三四五六七八九"),
    ("imports/services/gaps.py", "十"),
    # The character ranges a plan's text is written in (Han among them), for telling a text
    # from junk decoded through the wrong code page.
    (
        "core/uploads/text.py",
        "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\u3000-\u312f\uff00-\uffef"
        "\u2000-\u27bf\u0020-\u007e\u00a0-\u00bf\u00d7\u00f7\u00e0-\u00fc\u0101-\u01dc",
    ),
    # East Asian font names, as Word knows them.
    ("dashboards/exports/bulletin.py", "宋体"),
    ("dashboards/exports/bulletin.py", "黑体"),
    ("dashboards/exports/ledger.py", "宋体"),
}


def _python_files():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if SKIPPED_DIRS.intersection(relative.parts):
            continue
        name = relative.as_posix()
        if any(name == m or name.startswith(m + "/") for m in DATA_MODULES):
            continue
        yield name, path


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _docstrings(tree: ast.AST) -> set[ast.AST]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(first.value)
    return found


def _untranslated(name: str, source: str) -> list[str]:
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and HAN.search(node.value)):
            continue
        if node in docstrings or (name, node.value) in DATA_LITERALS:
            continue
        ancestor, covered = node, False
        while ancestor in parents and not covered:
            ancestor = parents[ancestor]
            if isinstance(ancestor, ast.Call):
                called = _call_name(ancestor)
                is_regex = isinstance(ancestor.func, ast.Attribute) and getattr(ancestor.func.value, "id", "") == "re"
                covered = called in GETTEXT or (is_regex and called in REGEX_CALLS)
        if not covered:
            found.append(f"{name}:{node.lineno}: {node.value[:40]!r}")
    return found


def test_every_chinese_string_in_the_code_goes_through_gettext():
    untranslated = [hit for name, path in _python_files() for hit in _untranslated(name, path.read_text("utf-8"))]
    assert untranslated == []


def test_the_scan_finds_an_untranslated_message():
    source = 'from django.utils.translation import gettext as _\nA = _("已保存。")\nB = f"第{1}项"\nC = "未填报"\n'
    assert sorted({hit.split(":")[1] for hit in _untranslated("x.py", source)}) == ["3", "4"]


def _catalogue() -> dict[str, str]:
    po = (ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = {}
    for block in po.split("\n\n"):
        if block.lstrip().startswith("#~"):
            continue  # obsolete
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            elif key and line.startswith('"'):
                fields[key] += line[1:-1]
        if fields.get("msgid"):
            translated = fields.get("msgstr") or fields.get("msgstr[0]") or ""
            entries[_unescape(fields["msgid"])] = translated
    return entries


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def _python_msgids():
    for name, path in _python_files():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and _call_name(node) in GETTEXT and node.args:
                first = node.args[1] if _call_name(node) in {"pgettext", "pgettext_lazy", "npgettext"} else node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str) and HAN.search(first.value):
                    yield name, first.value


TEMPLATE_TAG = re.compile(r"""\{%\s*(?:translate|trans)\s+(["'])(.*?)\1""")


def _template_msgids():
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for match in TEMPLATE_TAG.finditer(path.read_text("utf-8")):
            if HAN.search(match.group(2)):
                # makemessages doubles a template string's "%", as Django's translate tag asks for it.
                yield path.relative_to(ROOT).as_posix(), match.group(2).replace("%", "%%")


@pytest.mark.parametrize("source", ["python", "templates"])
def test_the_english_catalogue_has_every_message_the_code_asks_for(source):
    catalogue = _catalogue()
    asked = _python_msgids() if source == "python" else _template_msgids()
    missing = sorted({f"{name}: {msgid[:50]!r}" for name, msgid in asked if not catalogue.get(msgid)})
    assert missing == [], "run `make messages` and translate the new entries"
