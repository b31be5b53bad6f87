"""Cells that a spreadsheet shows as written: never a formula, never a character XML refuses.

Every export to .xlsx or .csv (the ledger, the audit trail) writes its cells through here:
a value that starts like a formula (=, +, -, @, or a tab or line break that Excel strips
first) is kept as text, so opening an export can never run what someone typed into a task.
"""

import copy
import datetime
import re

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

# What a spreadsheet may read as the start of a formula (or of a DDE payload).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n")
# Characters XML 1.0 (and so xlsx and docx) cannot hold: control characters but tab, LF, CR.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
EXCEL_CELL_MAX = 32767


def clean_text(value, limit: int = EXCEL_CELL_MAX) -> str:
    """The value as text an Office file can hold, cut to `limit` characters with "…"."""
    text = _NOT_IN_XML.sub("", "" if value is None else str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def csv_cell(value) -> str:
    """A CSV cell Excel will not run: a leading =, +, -, @, tab or line break gets a quote before it."""
    text = clean_text(value)
    return "'" + text if text.startswith(FORMULA_LEADS) else text


def _restyle(cell: Cell, style) -> None:
    """Give the cell a copy of a prototype's style: far cheaper than setting each part."""
    cell._style = copy.copy(style)  # type: ignore[attr-defined]


class Cells:
    """Makes the write-only cells of a sheet: text is always text (never a formula), dates
    get a date format, every cell wraps.

    Each kind of cell takes a copy of a prototype's style array: assigning the style
    objects one by one on 80,000 cells costs more than writing them."""

    def __init__(self, sheet):
        self.sheet = sheet
        wrap = Alignment(wrap_text=True, vertical="top")
        thin = Side(style="thin", color="B7C0CC")

        def prototype(**styles):
            cell = WriteOnlyCell(sheet)
            for name, value in styles.items():
                setattr(cell, name, value)
            return cell._style  # type: ignore[attr-defined]  # openpyxl's StyleArray, shared by copy

        self.text_style = prototype(alignment=wrap)
        self.quoted_style = prototype(alignment=wrap, quotePrefix=True)
        self.date_style = prototype(alignment=wrap, number_format="yyyy-mm-dd")
        self.datetime_style = prototype(alignment=wrap, number_format="yyyy-mm-dd hh:mm")
        self.header_style = prototype(
            font=Font(bold=True),
            fill=PatternFill("solid", fgColor="DDE4EE"),
            alignment=Alignment(wrap_text=True, vertical="center", horizontal="center"),
            border=Border(left=thin, right=thin, top=thin, bottom=thin),
        )

    def text(self, value, style=None) -> Cell:
        text = clean_text(value)
        cell = WriteOnlyCell(self.sheet, value=text)
        # openpyxl reads a leading "=" as a formula: force the type back to a string. The
        # quote prefix also keeps Excel from re-reading it as one when the cell is edited.
        cell.data_type = "s"
        if style is None:
            style = self.quoted_style if text.startswith(FORMULA_LEADS) else self.text_style
        _restyle(cell, style)
        return cell

    def value(self, value) -> Cell:
        if value is None:
            return self.text("")
        if isinstance(value, str):
            return self.text(value)
        cell = WriteOnlyCell(self.sheet, value=value)
        if isinstance(value, datetime.datetime):
            _restyle(cell, self.datetime_style)
        elif isinstance(value, datetime.date):
            _restyle(cell, self.date_style)
        else:
            _restyle(cell, self.text_style)
        return cell

    def header(self, value: str) -> Cell:
        return self.text(value, self.header_style)
