"""Text laid out in pages (PDF text layers, OFD, OCR): page numbers and running headers and
footers taken off, lines wrapped at the page width joined back into paragraphs."""

from __future__ import annotations

import re
from collections import Counter

from .cleaning import display_width, script_key

_PAGE_NO = re.compile(
    r"^\s*(?:[-—–]\s*\d+\s*[-—–]|第\s*\d+\s*页(?:\s*[,，]?\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+|\d{1,3})\s*$"
)
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
    (the first one kept, where it is the title: not when it closes its page, as a footer does),
    wrapped lines joined."""
    running = running_lines(pages)
    full = _full_width([line for lines in pages for line in lines])
    removed: list[str] = []
    kept: list[str] = []
    first_seen: set[str] = set()
    for lines in pages:
        page: list[str] = []
        content = [line for line in lines if line.strip() and not _PAGE_NO.match(line)]
        for at, line in enumerate(content):
            key = script_key(line)
            if key in running:
                if key in first_seen or (at == len(content) - 1 and at > 0):
                    first_seen.add(key)
                    if line.strip() not in removed:
                        removed.append(line.strip())
                    continue
                first_seen.add(key)
            page.append(line.strip())
        # a page that starts mid-sentence continues the last line of the page before
        if (
            kept
            and page
            and display_width(kept[-1]) >= full * 0.8
            and not kept[-1].endswith(_ENDS)
            and not _LABEL_START.match(page[0])
        ):
            kept[-1] += page.pop(0)
        kept.extend(page)
    return reflow_lines(kept), removed


def _full_width(lines: list[str]) -> int:
    """The width of a full line: the 90th percentile of the line widths."""
    widths = sorted(display_width(line.strip()) for line in lines if line.strip())
    if not widths:
        return 0
    return widths[int(len(widths) * 0.9)] if len(widths) > 3 else widths[-1]


def reflow_lines(raw: list[str]) -> str:
    """Join lines that were wrapped by the page width back into paragraphs."""
    raw = [line.rstrip() for line in raw]
    if not any(line.strip() for line in raw):
        return ""
    full = _full_width(raw)
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
