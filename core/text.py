"""Text keys that make the two scripts and the two widths compare equal.

Plans, owner names and searches come in simplified or traditional script (衛生 / 卫生),
full or half width, with stray spaces: `script_key` folds all of that away so that a task
search, an agency lookup and the parser's owner matching agree on what "the same" means.
"""

import re
import unicodedata

import opencc

try:
    _T2S = opencc.OpenCC("t2s")
except Exception:  # the official binding wants the config file's name
    _T2S = opencc.OpenCC("t2s.json")


def to_simplified(text: str | None) -> str:
    """Traditional characters (and variants) to simplified; everything else as it is."""
    return _T2S.convert(text) if text else ""


def script_key(text: str | None) -> str:
    """A key for search and matching: simplified script, NFKC width, no whitespace, lower case.

    ``script_key("市衛生健康委 ") == script_key("市卫生健康委")``; what the parser outputs
    stays in the script the document was written in.
    """
    text = unicodedata.normalize("NFKC", str(text or ""))
    text = re.sub(r"\s+", "", text)
    return to_simplified(text).lower()
