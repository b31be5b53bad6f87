"""Chinese numerals (一, 十二, 二〇二一) to int, and dates written in them."""

import calendar
import datetime
import re

DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "Ｏ": 0,
    "O": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000}
CN_NUM = "零〇○一二两兩三四五六七八九十百千"


def cn_to_int(text):
    """'十二' -> 12, '二〇二一' -> 2021, '3' -> 3; None when it is not a number."""
    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if any(ch not in DIGITS and ch not in UNITS for ch in text):
        return None
    if not any(ch in UNITS for ch in text):  # digit by digit: 二〇二一
        return int("".join(str(DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in DIGITS:
            current = DIGITS[ch]
        else:
            total += (current or 1) * UNITS[ch]
            current = 0
    return total + current


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def month_end(year, month):
    # calendar.monthrange also works out the weekday the month starts on: not needed here
    if not 1 <= month <= 12:
        raise calendar.IllegalMonthError(month)  # as monthrange did (a ValueError)
    return datetime.date(year, month, 29 if month == 2 and calendar.isleap(year) else _MONTH_DAYS[month - 1])


_DATE_RE = re.compile(
    r"(?P<y>(?:19|20)\d{2}|[零〇○一二三四五六七八九]{4})\s*年\s*(?P<m>\d{1,2}|[一二三四五六七八九十]{1,3})\s*月"
    r"\s*(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})\s*[日号號]"
)
_ISO_RE = re.compile(r"(?P<y>(?:19|20)\d{2})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})")


def _date_of(m: re.Match) -> datetime.date | None:
    year, month, day = cn_to_int(m.group("y")), cn_to_int(m.group("m")), cn_to_int(m.group("d"))
    if year is None or month is None or day is None:
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def find_date(text: str | None) -> datetime.date | None:
    """First full date in the text (2020年4月21日, 二〇二〇年四月二十一日, 2021-05-21) or None."""
    for rx in (_DATE_RE, _ISO_RE):
        for m in rx.finditer(text or ""):
            date = _date_of(m)
            if date is not None:
                return date
    return None


# A date whose 年 (or 日) was lost in a copy: 20223月23日, 2022年3月23. Only read where a whole
# date is expected (a signature, a portal field), and only when the digits split one way.
_DAMAGED_RE = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*年?\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号號]?(?!\d)")


def find_damaged_date(text: str | None) -> datetime.date | None:
    """A full date with its 年 or 日 lost (20223月23日 -> 2022-03-23), or None."""
    for m in _DAMAGED_RE.finditer(text or ""):
        date = _date_of(m)
        if date is not None:
            return date
    return None


DAMAGED_DATE_ONLY_RE = re.compile(r"^\s*(?:19|20)\d{2}\s*年?\s*\d{1,2}\s*月\s*\d{1,2}\s*[日号號]?\s*(?:印发|印發)?\s*$")
DATE_ONLY_RE = re.compile(
    r"^\s*(?:(?:19|20)\d{2}|[零〇○一二三四五六七八九]{4})\s*年\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*月"
    r"\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*[日号號]\s*(?:印发|印發)?\s*$"
)
