"""Text laid out in pages (PDF text layers, OFD, OCR): page numbers and running headers and
footers taken off, lines wrapped at the page width joined back into paragraphs."""

from __future__ import annotations

import re
from collections import Counter

from .cleaning import display_width, script_key

_PAGE_NO = re.compile(r"^\s*(?:[-—–]\s*\d+\s*[-—–]|第\s*\d+\s*页(?:\s*[,，]?\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+|\d{1,3})\s*$")
_LABEL_START = re.compile(
    r"^\s*(第[一二三四五六七八九十]+部分|[一二三四五六七八九十]+[、.]|[(（][一二三四五六七八九十\d]+[)）]|\d{1,3}\s*[.、．])"
)
_ENDS = ("。", ":", "：", ";", "；", ")", "）", "》", "”", "!", "！", "?", "？")


def running_lines(pages: list[list[str]]) -> set[str]:
    """Keys of the lines that open or close two pages or more: running headers and footers."""
    if len(pages) < 2:
        return set()
    seen: Counter[str] = Counter()
    for lines in pages:
        content = [line for line in lines if line.strip() and not _PAGE_NO.match(line)]
        ends = {script_key(line) for line in content[:1] + content[-1:]}
        seen.update(key for key in ends if key and len(key) <= 60)
    return {key for key, n in seen.items() if n >= 2}


def page_text(pages: list[list[str]]) -> tuple[str, list[str]]:
    """(text, removed) for pages of lines: page numbers and running headers/footers removed
    (the first one kept, where it is the title), wrapped lines joined."""
    running = running_lines(pages)
    removed: list[str] = []
    kept: list[str] = []
    first_seen: set[str] = set()
    for lines in pages:
        for line in lines:
            if _PAGE_NO.match(line):
                continue
            key = script_key(line)
            if key in running:
                if key in first_seen:
                    if line.strip() not in removed:
                        removed.append(line.strip())
                    continue
                first_seen.add(key)
            kept.append(line)
    return reflow_lines(kept), removed


def reflow_lines(raw: list[str]) -> str:
    """Join lines that were wrapped by the page width back into paragraphs."""
    raw = [line.rstrip() for line in raw]
    widths = sorted(display_width(line.strip()) for line in raw if line.strip())
    if not widths:
        return ""
    full = widths[int(len(widths) * 0.9)] if len(widths) > 3 else widths[-1]
    out: list[str] = []
    prev_i = None  # index in ``out`` of the last non-empty line
    prev_width = 0
    for line in raw:
        s = line.strip()
        if not s:
            out.append("")
            continue
        prev = out[prev_i] if prev_i is not None else ""
        joinable = (
            prev_i is not None
            and prev_i >= len(out) - 2
            and prev_width >= full * 0.85
            and not prev.endswith(_ENDS)
            and not _LABEL_START.match(s)
        )
        if joinable and prev_i is not None:
            out[prev_i] = prev + s
            del out[prev_i + 1 :]
        else:
            out.append(s)
            prev_i = len(out) - 1
        prev_width = display_width(s)
    return "\n".join(out)
