"""The calendar as a small file: CSV with the header `date,kind,name`, UTF-8 with a BOM so
that Excel opens it as such.

    date,kind,name
    2026-10-01,休,国庆节
    2026-10-10,班,国庆节

`kind` is 休 (holiday) or 班 (make-up working day) as printed calendars mark them, or the
English values `holiday` / `workday`. A file is the whole calendar of the years it names:
importing it makes those years exactly what it says (days added, changed and removed) and
leaves every other year alone. Every row is checked first; one bad row and nothing changes.
"""

import csv
import dataclasses
import datetime
import hashlib
import io
import re
import unicodedata

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from audit.choices import EventType
from audit.services import record
from core.spreadsheets import FORMULA_LEADS, clean_text, csv_cell
from workdays.choices import MARKS, DayKind, Source
from workdays.models import MAX_YEAR, MIN_YEAR, NAME_MAX_CHARS, CalendarDay

HEADER = ("date", "kind", "name")
# A year is some 40 rows: a file of a few decades stays far below these.
MAX_FILE_BYTES = 256 * 1024
MAX_ROWS = 5000
# Errors listed before the list stops: enough to fix a file in one go.
MAX_ERRORS = 50
# 2026-10-01, 2026/10/1 (Excel's re-save in a Chinese locale), 2026.10.1, 2026年10月1日.
DATE_PATTERN = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


class CalendarFileError(Exception):
    """The file was refused; `errors` says why, each naming its line."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclasses.dataclass(frozen=True)
class FileRow:
    line: int
    date: datetime.date
    kind: str
    name: str


@dataclasses.dataclass
class ImportResult:
    years: list[int]
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0


# --- Writing ---------------------------------------------------------------------------


def file_mark(kind: str) -> str:
    """The mark the file writes for `kind`: 休 or 班, in the site's default language
    whatever the page's (a file is read by Excel users in the bureau, and read back here)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(MARKS[DayKind(kind)])


def export_calendar(years: list[int] | None = None) -> tuple[bytes, int]:
    """The file of `years` (every year when None), and how many days it lists. Names are
    written formula-safe (core.spreadsheets.csv_cell); the importer takes the guard off."""
    rows = CalendarDay.objects.order_by("date")
    if years is not None:
        rows = rows.in_years(years)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    count = 0
    for day in rows.values_list("date", "kind", "name"):
        writer.writerow([day[0].isoformat(), file_mark(day[1]), csv_cell(day[2])])
        count += 1
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), count


def record_export(years: list[int] | None, rows: int, filename: str) -> None:
    """The 导出 event of a calendar file handed out."""
    record(
        EventType.EXPORT,
        object_type="workdays.calendarday",
        object_repr=filename,
        detail={"kind": "workdays", "years": years or "all", "rows": rows, "file": filename},
    )


# --- Reading ---------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        too_big = _("文件过大（超过 %(kb)d KB），日历文件应只有几十行。") % {"kb": MAX_FILE_BYTES // 1024}
        raise CalendarFileError([too_big])
    if b"\x00" in data:
        raise CalendarFileError([_("无法读取文件：这不是 CSV 文本文件。请从 Excel 另存为“CSV UTF-8”后上传。")])
    # UTF-8 (with or without the BOM Excel writes), else GB18030: what Excel saves as plain
    # "CSV" on a Chinese Windows.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CalendarFileError([_("无法识别文件编码，请另存为“CSV UTF-8”后上传。")])


def _cells(row: list[str]) -> list[str]:
    """The row's cells with the empty ones Excel leaves at the end taken off."""
    cells = [cell.strip() for cell in row]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _kind_words() -> dict[str, str]:
    words = {kind.value: kind.value for kind in DayKind}
    with translation.override(settings.LANGUAGE_CODE):
        for kind in DayKind:
            words[str(MARKS[kind])] = kind.value
            words[str(kind.label)] = kind.value
    return words


def _parse_date(text: str) -> datetime.date | None:
    match = DATE_PATTERN.match(text)
    if not match:
        return None
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _clean_name(text: str) -> str:
    # A name the exporter guarded against Excel (a leading ' before =, +, -, @) comes back as written.
    if text.startswith("'") and text[1:].startswith(FORMULA_LEADS):
        text = text[1:]
    return " ".join(clean_text(text).split())


def read_calendar_file(data: bytes) -> list[FileRow]:
    """The file's days, every row checked; CalendarFileError lists what is wrong, by line."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    errors: list[str] = []
    rows: list[FileRow] = []
    first_line: dict[datetime.date, int] = {}
    kinds = _kind_words()
    header_seen = False
    try:
        for raw in reader:
            line = reader.line_num
            cells = [unicodedata.normalize("NFKC", cell) for cell in _cells(raw)]
            if not cells:
                continue
            if not header_seen:
                header_seen = True
                if tuple(cell.lower() for cell in cells) != HEADER:
                    raise CalendarFileError(
                        [
                            _("第 %(line)d 行应是表头 date,kind,name（日期,类型,名称），文件中是“%(found)s”。")
                            % {"line": line, "found": ",".join(cells)[:60]}
                        ]
                    )
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                raise CalendarFileError([_("文件行数过多（超过 %(n)d 行）。") % {"n": MAX_ROWS}])
            error = _check_row(line, cells, kinds, first_line, rows)
            if error:
                errors.append(error)
                if len(errors) >= MAX_ERRORS:
                    errors.append(_("错误过多，只列出前 %(n)d 处。") % {"n": MAX_ERRORS})
                    break
    except csv.Error as problem:
        errors.append(_("第 %(line)d 行无法按 CSV 读取：%(error)s") % {"line": reader.line_num, "error": problem})
    if not header_seen:
        raise CalendarFileError([_("文件是空的：第一行应是表头 date,kind,name。")])
    if errors:
        raise CalendarFileError(errors)
    if not rows:
        raise CalendarFileError([_("文件只有表头，没有任何日期。")])
    return rows


def _check_row(line, cells, kinds, first_line, rows) -> str:
    """Append the row to `rows`, or say (naming the line) why it cannot be taken."""
    if len(cells) < 2:
        return _("第 %(line)d 行：应有日期和类型两项（名称可空），如 2026-10-01,休,国庆节。") % {"line": line}
    if len(cells) > len(HEADER):
        return _("第 %(line)d 行：多出了第 %(n)d 列，只应有 date、kind、name 三列。") % {
            "line": line,
            "n": len(HEADER) + 1,
        }
    date_text, kind_text = cells[0], cells[1]
    name = _clean_name(cells[2]) if len(cells) > 2 else ""
    day = _parse_date(date_text)
    if day is None:
        return _("第 %(line)d 行：日期“%(value)s”无效，请按 年-月-日 填写，如 2026-10-01。") % {
            "line": line,
            "value": date_text[:30],
        }
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        return _("第 %(line)d 行：%(date)s 不在 %(min)d 至 %(max)d 年之间。") % {
            "line": line,
            "date": day.isoformat(),
            "min": MIN_YEAR,
            "max": MAX_YEAR,
        }
    kind = kinds.get(kind_text.lower())
    if kind is None:
        return _("第 %(line)d 行：类型“%(value)s”无法识别，应为 休（法定节假日）或 班（调休上班）。") % {
            "line": line,
            "value": kind_text[:20],
        }
    if day in first_line:
        return _("第 %(line)d 行：%(date)s 与第 %(first)d 行重复，一天只能有一行。") % {
            "line": line,
            "date": day.isoformat(),
            "first": first_line[day],
        }
    if kind == DayKind.WORKDAY and day.weekday() < 5:
        return _("第 %(line)d 行：%(date)s 是周一至周五，本来就是工作日，不能标为 班（调休上班只能在周六、周日）。") % {
            "line": line,
            "date": day.isoformat(),
        }
    if len(name) > NAME_MAX_CHARS:
        return _("第 %(line)d 行：名称过长（最多 %(n)d 个字）。") % {"line": line, "n": NAME_MAX_CHARS}
    first_line[day] = line
    rows.append(FileRow(line, day, kind, name))
    return ""


# --- Importing ---------------------------------------------------------------------------


def import_calendar(data: bytes, *, filename: str = "") -> ImportResult:
    """Make the years the file names exactly what it says, in one transaction. Raises
    CalendarFileError (nothing changed) when any row is wrong."""
    rows = read_calendar_file(data)
    years = sorted({row.date.year for row in rows})
    result = ImportResult(years=years)
    with transaction.atomic():
        existing = {day.date: day for day in CalendarDay.objects.select_for_update().in_years(years)}
        listed = set()
        for row in rows:
            listed.add(row.date)
            day = existing.get(row.date)
            if day is not None and (day.kind, day.name) == (row.kind, row.name):
                result.unchanged += 1
                continue
            if day is None:
                day = CalendarDay(date=row.date)
                result.added += 1
            else:
                result.changed += 1
            day.kind, day.name, day.source = row.kind, row.name, Source.FILE
            day._change_reason = _("导入日历文件")  # type: ignore[attr-defined]  # read by simple-history
            day.save()
        for day in existing.values():
            if day.date not in listed:
                day._change_reason = _("导入日历文件")  # type: ignore[attr-defined]
                day.delete()
                result.removed += 1
        record(
            EventType.IMPORT,
            object_type="workdays.calendarday",
            object_repr=filename,
            detail={
                "kind": "workdays",
                "file": filename,
                "sha256": hashlib.sha256(data).hexdigest(),
                "years": years,
                "added": result.added,
                "changed": result.changed,
                "removed": result.removed,
                "unchanged": result.unchanged,
            },
        )
    return result
