"""Owners of an item: bracketed notes (a bracket may be lost), bare names after 。, labelled lines."""

from __future__ import annotations

import dataclasses
import functools
import re

from .cleaning import script_key
from .confidence import (
    AFTER_FULL_STOP,
    BRACKET_LOST,
    BRACKET_NOTE,
    EXPLAINED_NOTE,
    LABELLED_LINE,
    SHARED_DUTY,
)

# Endings of agency names, compared on the simplified form.
AGENCY_SUFFIXES = (
    "委员会",
    "委",
    "局",
    "厅",
    "办公室",
    "办",
    "中心",
    "政府",
    "院",
    "协会",
    "学会",
    "会",
    "联",
    "部",
    "室",
    "所",
    "站",
    "署",
    "处",
    "科",
    "队",
    "关",
    "总部",
    "集团",
    "公司",
    "台",
    "部门",
    "单位",
    "大学",
    "银行",
    "团",
    "分局",
    "总会",
    "机构",
    "街道",
    "乡镇",
)
_ROLE_WORDS = (
    r"(?:牵头|牽頭|參與|参与|配合|負責|负责|協助|协助|協同|协同|共同負責|共同负责|按職責分工負責|按职责分工负责|"
    r"按職責負責|按职责负责|分別負責|分别负责|落實|落实|等)"
)
_ROLE_TAIL = re.compile(_ROLE_WORDS + r"+$")
# An owner list that says each agency does its share: nobody is named lead, the first leads.
_SHARED_DUTY = re.compile(r"(按职责分工负责|按职责负责|分别负责|共同负责)$")
_LABEL = re.compile(
    r"(?:牵头|牽頭|责任|責任|配合|参与|參與|协同|協同|协办|協辦|主办|主辦)(?:单位|單位|部门|部門|处室|處室)\s*[:：]?"
)
# Labels that open owner lines after an item (任务分解通知): lead labels first, then the others.
_CO_LABEL = r"(?:主要)?(?:配合|协作|協作|协同|協同|参与|參與|协办|協辦)(?:单位|單位|部门|部門|处室|處室|科室)"
# (the lookahead names the characters a label can start with: other positions are passed over at once)
_OWNER_LABEL = re.compile(
    r"(?=[【\[牵牽主责責配协協参參])[【\[]?(?:(?P<lead>(?:牵头|牽頭|主责|主責)(?:责任|責任)?(?:单位|單位|部门|部門|处室|處室|科室)|(?:主要)?(?:责任|責任)(?:单位|單位|部门|部門|处室|處室|科室))"
    rf"|(?P<co>{_CO_LABEL}))\s*(?:[:：]|[】\]]\s*[:：]?)"
)
_OWNER_LABEL_FIRST = re.compile(r"[【\[牵牽主责責配协協参參]")
# Another label after the owner lines ends them (完成时限:…, 工作目标:…).
_OTHER_LABEL = re.compile(r"(?:^|\n|[;；。])\s*[\u4e00-\u9fff]{2,8}\s*[:：]")
_SPLIT_CHARS = "、,，;；/ \t\n"
_VERB_START = re.compile(
    r"^(加强|推进|开展|完善|落实|建立|做好|提升|实施|推动|组织|启动|强化|深化|探索|继续|持续|积极|全面|进一步|"
    r"健全|优化|规范|加快|做实|确保|实现|建设|制定|研究|支持|鼓励|引导|扩大|提高|巩固|发挥|坚持|统筹|落地)"
)
# Sentences in an owner note that explain how to read it (列第一位者为牵头单位……下同).
_EXPLAINS = re.compile(
    r"(下同|列第一位|排在第一位|排第一位|列在首位|列首位|为牵头|牵头部门或单位|其他有关部门|按职责分工负责)"
)
# Owners that name no one agency (县政府有关部门, 各区, 有关直属单位): kept, flagged for mapping.
_GENERIC = re.compile(
    r"^(各|有关|相关|其他|其它)|(有关|相关|各)(部门|单位|处室|科室|机构|成员单位)$|成员单位$|各[^、]{0,4}$|有关[^、]{0,6}(单位|部门)"
)

_ADMIN_START = re.compile(r"^(市|区|县|省|国家|各|州|乡|镇|自治|中央|全国|盟|旗)")


@dataclasses.dataclass(frozen=True)
class Owner:
    """One owner as read: the name as written, the rule that found it, generic or not."""

    name: str
    rule: str
    generic: bool = False
    lead_stated: bool = True  # False when the lead is only the first of a list of equals

    def announced(self) -> Owner:
        """The same owner under a rule announced earlier (列第一位者为牵头……下同)."""
        return dataclasses.replace(self, lead_stated=True)

    def detail(self, lead: bool) -> dict:
        low = self.generic or self.rule in (BRACKET_LOST, AFTER_FULL_STOP) or (lead and not self.lead_stated)
        return {
            "name": self.name,
            "lead": lead,
            "rule": self.rule,
            "generic": self.generic,
            "confidence": "low" if low else "high",
        }


def announces_first_lead(text: str) -> bool:
    """True when an owner note says the first-named leads, for this item and the ones after it."""
    if "下同" not in text:  # the same characters in both scripts
        return False
    key = script_key(text)
    return bool(re.search(r"(列第一位|排在第一位|排第一位|列在首位|列首位|第一位)", key))


@functools.lru_cache(maxsize=4096)  # a pure function of the name; plans name the same agencies again and again
def is_generic(name: str) -> bool:
    return bool(_GENERIC.search(script_key(name)))


def _split_names(note: str) -> list[str]:
    """Split an owner list on its separators, except inside brackets: 各县(市、区) is one name."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(note):
        if ch in "(（[【〔":
            depth += 1
        elif ch in ")）]】〕" and depth:
            depth -= 1
        elif ch in _SPLIT_CHARS and depth == 0:
            parts.append(note[start:i])
            start = i + 1
    parts.append(note[start:])
    return parts


def _balanced(name: str) -> str:
    """Strip brackets around a name, but keep a bracketed part that belongs to it: 各县(市、区)."""
    name = name.strip(" .。:：")
    while name and name[0] in "(（[【〔" and not _closes(name, 0):
        name = name[1:].strip()
    while name and name[-1] in ")）]】" and name.count(")") + name.count("）") > name.count("(") + name.count("（"):
        name = name[:-1].strip()
    if name and name[0] in "(（" and _closes(name, 0) == len(name) - 1:
        name = name[1:-1].strip()
    return name


def _closes(text: str, at: int) -> int | None:
    depth = 0
    for i in range(at, len(text)):
        if text[i] in "(（[【〔":
            depth += 1
        elif text[i] in ")）]】〕":
            depth -= 1
            if depth == 0:
                return i
    return None


_LEAD_MARK = re.compile(r"(牵头|牽頭)\s*[,，、]?")


def _parts(note: str) -> list[str]:
    note = _LABEL.sub("、", note)
    if "牵头" in note or "牽頭" in note:
        note = _LEAD_MARK.sub(r"\1、", note)
    parts: list[str] = []
    for part in _split_names(note):
        part = _balanced(part)
        part = _ROLE_TAIL.sub("", part).strip()
        part = _balanced(part)
        if part and part not in parts:
            parts.append(part)
    return parts


@functools.lru_cache(maxsize=4096)
def _is_agency(name: str) -> bool:
    key = script_key(name)
    if not 2 <= len(key) <= 24:
        return False
    if key.startswith(("各", "有关", "相关")) and len(key) <= 12:
        return True
    key = re.sub(r"\([^()]*\)$", "", key)
    return key.endswith(AGENCY_SUFFIXES)


def owner_list(note: str, strict: bool = False) -> list[str] | None:
    """The agencies named by an owner note, or None when the note does not look like one."""
    names = _owner_list(note, strict)
    return None if names is None else list(names)


_NOT_IN_A_NAME = re.compile(r"[\d《》“”\"]")  # a digit, a title or a quote: no agency's name


@functools.lru_cache(maxsize=4096)  # pure in its arguments (items repeat owner notes); a tuple, never altered
def _owner_list(note: str, strict: bool) -> tuple[str, ...] | None:
    if not note or len(note) > 160 or "。" in note:
        return None
    parts = _parts(note)
    if not parts:
        return None
    for part in parts:
        key = script_key(part)
        if not 2 <= len(key) <= 30 or _NOT_IN_A_NAME.search(key):
            return None
        if _VERB_START.match(key):
            return None
    good = sum(1 for p in parts if _is_agency(p))
    if strict:
        return tuple(parts) if good == len(parts) else None
    if not _is_agency(parts[0]) and good < len(parts):
        return None
    return tuple(parts) if good * 2 >= len(parts) else None


def _explained_note(note: str) -> list[str] | None:
    """A note of names followed by sentences explaining the rule (列第一位者为牵头……下同)."""
    sentences = [s for s in re.split(r"[。]", note) if s.strip()]
    if len(sentences) < 2:
        return None
    names = owner_list(sentences[0])
    if names and all(_EXPLAINS.search(script_key(s)) for s in sentences[1:]):
        return names
    return None


_ROUND_BRACKETS = re.compile(r"[()（）]")


def _matching_open(text: str, close_at: int) -> int | None:
    depth = 0
    # only the brackets matter: visit them (few) instead of every character of the item
    for m in reversed(list(_ROUND_BRACKETS.finditer(text, 0, close_at + 1))):
        if m.group() in ")）":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return m.start()
    return None


def _owners(names: list[str], rule: str, note: str) -> list[Owner]:
    key = script_key(note)
    lead_stated = not (_SHARED_DUTY.search(key) and "牵头" not in key)
    if not lead_stated and rule == BRACKET_NOTE:
        rule = SHARED_DUTY
    return [Owner(n, rule, is_generic(n), lead_stated) for n in names]


def labelled_owners(text: str) -> tuple[str, list[Owner]] | None:
    """(text before the labels, owners) for owner lines such as 牵头单位:…/配合单位:…, else None."""
    # a pattern that opens with a lookahead is tried at every position: start at the first
    # character a label can start with instead (the same match), or not at all
    opening = _OWNER_LABEL_FIRST.search(text)
    first = _OWNER_LABEL.search(text, opening.start()) if opening is not None else None
    if first is None:
        return None
    start = first.start()
    # the label must open a line, a clause or a bracket: 责任单位 inside a sentence is no label
    if start and text[start - 1] not in "\n。;；(（ ,，":
        return None
    opened = start and text[start - 1] in "(（"
    end = len(text)
    if opened:
        close = _closes(text, start - 1)
        end = close if close is not None else end
    other = _OTHER_LABEL.search(text, first.end())
    while other is not None and other.start() < end:
        label = _OWNER_LABEL.search(text, other.start())
        if label is None or label.start() > other.end():
            end = other.start()
            break
        other = _OTHER_LABEL.search(text, label.end())
    block = text[start:end]
    leads: list[str] = []
    cos: list[str] = []
    labels = list(_OWNER_LABEL.finditer(block))
    for k, label in enumerate(labels):
        chunk = block[label.end() : labels[k + 1].start() if k + 1 < len(labels) else len(block)]
        names = _parts(chunk.strip(" ;；。\n"))
        names = [n for n in names if 2 <= len(script_key(n)) <= 30 and not re.search(r"\d", n)]
        (leads if label.group("lead") else cos).extend(n for n in names if n not in leads and n not in cos)
    if not leads and not cos:
        return None
    before = text[: start - 1 if opened else start].rstrip(" \n;；,，")
    after = text[end + 1 if opened else end :].strip()
    body = before + ("\n" + after if after else "")
    return body, [Owner(n, LABELLED_LINE, is_generic(n)) for n in leads + cos]


def read_owner_note(text: str) -> tuple[str, list[Owner]]:
    """(text without the owner note, owners as read). Owners is [] when the item names none."""
    labelled = labelled_owners(text)
    if labelled is not None:
        return labelled
    body = text.rstrip().rstrip("。;；,， ")
    if not body:
        return text, []
    if body.endswith((")", "）")):
        start = _matching_open(body, len(body) - 1)
        if start is not None:
            note = body[start + 1 : -1].replace("\n", "")
            names = owner_list(note)
            rule = BRACKET_NOTE
            if names is None:
                names, rule = _explained_note(note), EXPLAINED_NOTE
            # a single name glued to the text without a full stop is more likely a gloss
            # (村卫生室(社区卫生服务站)) unless it reads as an administrative agency
            attached = start > 0 and body[start - 1] not in "。;；,， \n"
            if names and attached and len(names) == 1 and not _ADMIN_START.match(script_key(names[0])):
                names = None
            if names:
                return body[:start].rstrip(), _owners(names, rule, note)
        else:  # the opening bracket was lost: 。市卫生健康委、市妇联)
            cut = max(body.rfind(ch, 0, len(body) - 1) for ch in "。;；,，\n")
            note = body[cut + 1 : -1]
            names = owner_list(note)
            if names:
                return body[: cut + 1].rstrip(), _owners(names, BRACKET_LOST, note)
    opened = max(body.rfind("("), body.rfind("（"))
    if opened >= 0 and ")" not in body[opened:] and "）" not in body[opened:]:  # the closing bracket was lost
        note = body[opened + 1 :].replace("\n", "")
        names = owner_list(note)
        if names:
            return body[:opened].rstrip(), _owners(names, BRACKET_LOST, note)
    cut = body.rfind("。")
    if cut >= 0:  # no brackets at all: …工作。市卫生健康委
        note = body[cut + 1 :].replace("\n", "")
        names = owner_list(note, strict=True)
        if names:
            return body[: cut + 1], _owners(names, AFTER_FULL_STOP, note)
    return text, []


def split_owner_note(text: str) -> tuple[str, list[str]]:
    """(text without the owner note, owner names). Owners is [] when the item names none."""
    body, owners = read_owner_note(text)
    return body, [o.name for o in owners]


def heading_of(text: str) -> str:
    """The item's text before its first 。 (the whole item when it has none)."""
    first = text.split("\n", 1)[0].strip()
    cut = first.find("。")
    head = first[:cut] if cut >= 0 else first
    return head.strip().rstrip(";；,，:： ")
