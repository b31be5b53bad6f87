"""What `make run` prints (issue 19, everyday friction): the demo logins come last, after
the reminders' output, as a table whose columns line up on a terminal, where a Chinese
character takes two columns."""

import io
import re
import unicodedata

import pytest
from django.core.management import call_command

from demo.loader import USERS

pytestmark = pytest.mark.django_db


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def starts(line: str, cells: list[str]) -> list[int]:
    """The terminal column where each of `cells` begins in `line`, in order."""
    found, at = [], 0
    for cell in cells:
        at = line.index(cell, at)
        found.append(width(line[:at]))
        at += len(cell)
    return found


@pytest.fixture
def printed():
    out = io.StringIO()
    call_command("seed_demo", "--reminders", stdout=out)
    return out.getvalue()


def test_the_logins_come_after_the_reminders_output(printed):
    lines = printed.splitlines()
    reminders = max(i for i, line in enumerate(lines) if "新增待发提醒" in line)
    table = next(i for i, line in enumerate(lines) if "演示账户" in line)
    assert reminders < table
    # nothing but the table and the note on the administrators' second factor follows
    assert len(lines) - table == 1 + 1 + len(USERS) + 1


def test_the_logins_line_up_in_columns(printed):
    lines = printed.splitlines()
    table = next(i for i, line in enumerate(lines) if "演示账户" in line)
    header, rows = lines[table + 1], lines[table + 2 : table + 2 + len(USERS)]
    columns = starts(header, ["角色", "用户名", "密码", "姓名", "单位"])
    for (username, full_name, _role, agency), row in zip(USERS, rows, strict=True):
        password = re.search(r"Qz\S+", row).group(0)
        role_label = row.split()[0]
        assert starts(row, [role_label, username, password, full_name, agency]) == columns, row
    assert not any(line != line.rstrip() for line in [header, *rows])  # no trailing blanks


def test_without_the_option_it_sends_nothing():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "新增待发提醒" not in out.getvalue()
    assert "demo_staff" in out.getvalue()
