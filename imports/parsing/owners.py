"""Owner notes at the end of an item: (市卫健委、市教委), with a bracket lost, or bare after 。."""

import re

from .cleaning import script_key

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
)
_ROLE_WORDS = r"(?:牵头|參與|参与|配合|負責|负责|協助|协助|協同|协同|共同負責|共同负责|按職責分工負責|按职责分工负责|分別負責|分别负责|落實|落实|等)"
_ROLE_TAIL = re.compile(_ROLE_WORDS + r"+$")
_LABEL = re.compile(
    r"(?:牵头|牽頭|责任|責任|配合|参与|參與|协同|協同|协办|協辦|主办|主辦)(?:单位|單位|部门|部門|处室|處室)\s*[:：]?"
)
_SPLIT = re.compile(r"[、,，;；/\s]+")
_VERB_START = re.compile(
    r"^(加强|推进|开展|完善|落实|建立|做好|提升|实施|推动|组织|启动|强化|深化|探索|继续|持续|积极|全面|进一步|"
    r"健全|优化|规范|加快|做实|确保|实现|建设|制定|研究|支持|鼓励|引导|扩大|提高|巩固|发挥|坚持|统筹|落地)"
)


_ADMIN_START = re.compile(r"^(市|区|县|省|国家|各|州|乡|镇|自治|中央|全国|盟|旗)")


def _parts(note):
    note = _LABEL.sub("、", note)
    note = re.sub(r"(牵头|牽頭)\s*[,，、]?", r"\1、", note)
    parts = []
    for part in _SPLIT.split(note):
        part = part.strip("()（）[]【】 .。:：")
        part = _ROLE_TAIL.sub("", part).strip()
        if part and part not in parts:
            parts.append(part)
    return parts


def _is_agency(name):
    key = script_key(name)
    if not 2 <= len(key) <= 24:
        return False
    if key.startswith("各") and len(key) <= 12:
        return True
    return key.endswith(AGENCY_SUFFIXES)


def owner_list(note, strict=False):
    """The agencies named by an owner note, or None when the note does not look like one."""
    if not note or len(note) > 120 or "。" in note:
        return None
    parts = _parts(note)
    if not parts:
        return None
    for part in parts:
        key = script_key(part)
        if not 2 <= len(key) <= 24 or re.search(r"\d", key) or re.search(r"[《》“”\"]", key):
            return None
        if _VERB_START.match(key):
            return None
    good = sum(1 for p in parts if _is_agency(p))
    if strict:
        return parts if good == len(parts) else None
    if not _is_agency(parts[0]) and good < len(parts):
        return None
    return parts if good * 2 >= len(parts) else None


def _matching_open(text, close_at):
    depth = 0
    for i in range(close_at, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            depth -= 1
            if depth == 0:
                return i
    return None


def split_owner_note(text):
    """(text without the owner note, owners). Owners is [] when the item names none."""
    body = text.rstrip().rstrip("。;;,, ")
    if not body:
        return text, []
    if body.endswith(")"):
        start = _matching_open(body, len(body) - 1)
        if start is not None:
            owners = owner_list(body[start + 1 : -1])
            # a single name glued to the text without a full stop is more likely a gloss
            # (村卫生室(社区卫生服务站)) unless it reads as an administrative agency
            attached = start > 0 and body[start - 1] not in "。;;,, "
            if owners and attached and len(owners) == 1 and not _ADMIN_START.match(script_key(owners[0])):
                owners = None
            if owners:
                return body[:start].rstrip(), owners
        else:  # the opening bracket was lost: 。市卫生健康委、市妇联)
            cut = max(body.rfind(ch, 0, len(body) - 1) for ch in "。;;,,")
            owners = owner_list(body[cut + 1 : -1])
            if owners:
                return body[: cut + 1].rstrip(), owners
    opened = body.rfind("(")
    if opened >= 0 and ")" not in body[opened:]:  # the closing bracket was lost: (市卫生健康委
        owners = owner_list(body[opened + 1 :])
        if owners:
            return body[:opened].rstrip(), owners
    cut = body.rfind("。")
    if cut >= 0:  # no brackets at all: …工作。市卫生健康委
        owners = owner_list(body[cut + 1 :], strict=True)
        if owners:
            return body[: cut + 1], owners
    return text, []


def heading_of(text):
    """The item's text before its first 。 (the whole item when it has none)."""
    first = text.split("\n", 1)[0].strip()
    cut = first.find("。")
    head = first[:cut] if cut >= 0 else first
    return head.strip().rstrip(";;,,:: ")
