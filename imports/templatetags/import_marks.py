"""The preview's word-level marks on a changed long text: what went is <del>, what came
is <ins>, everything escaped."""

import re
from difflib import SequenceMatcher

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Chinese has no spaces between words: a character is the unit, but a run of Latin letters,
# digits and their punctuation (3.5, 60%, HIS) stays one token.
_TOKEN = re.compile(r"[A-Za-z0-9.%％]+|\s+|.", re.S)


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def marked(old: str, new: str) -> tuple[SafeString, SafeString]:
    """`old` with its removed runs in <del>, `new` with its added runs in <ins>."""
    a, b = _tokens(old), _tokens(new)
    before, after = [], []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        gone, came = escape("".join(a[i1:i2])), escape("".join(b[j1:j2]))
        if op == "equal":
            before.append(gone)
            after.append(came)
            continue
        if gone:
            before.append(f"<del>{gone}</del>")
        if came:
            after.append(f"<ins>{came}</ins>")
    return mark_safe("".join(before)), mark_safe("".join(after))  # every piece escaped above


@register.simple_tag
def marked_diff(old, new):
    return marked(str(old or ""), str(new or ""))
