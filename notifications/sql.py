"""Set-based statements of the reminder jobs: updates that say which rows they took
(`UPDATE … RETURNING`), and inserts of many rows in one statement (COPY on PostgreSQL where
it pays). The jobs write tens of thousands of rows at a year-end peak; model instances and
a statement per row would cost more than the writing itself.

Values go in as the database stores them (`adapt` below), and come back out as Python
values (`date_of`, `json_of`), whatever the backend: PostgreSQL and SQLite both run these."""

import csv
import datetime
import functools
import io
import json
import time
import zlib
from collections.abc import Iterable, Sequence

from django.db import connection, transaction
from django.db.models.expressions import RawSQL

# Rows per INSERT … VALUES statement: SQLite takes at most 32,766 parameters in one.
VALUES_ROWS = 2000
# From this many rows, PostgreSQL is given them through COPY into a temporary table.
COPY_FROM_ROWS = 5000


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def adapt(value):
    """A Python value as a parameter of a hand-written statement: datetimes and dates as the
    ORM would store them (SQLite keeps them as text), dicts and lists as JSON."""
    if isinstance(value, datetime.datetime):
        # Text on both backends (PostgreSQL reads it as the column's timestamptz), so that
        # COPY and VALUES spell a moment once, not once per row.
        adapted = connection.ops.adapt_datetimefield_value(value)
        return adapted.isoformat() if isinstance(adapted, datetime.datetime) else adapted
    if isinstance(value, datetime.date):
        return connection.ops.adapt_datefield_value(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def date_of(value) -> datetime.date:
    """A date read back by a hand-written statement (SQLite gives text)."""
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def json_of(value):
    """A JSON column read back by a hand-written statement (text on both backends, as Django
    asks PostgreSQL's driver to leave jsonb undecoded)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def id_set(ids: Iterable[int]) -> RawSQL:
    """The given ids as a subquery for the ORM (`pk__in=id_set(ids)`), passed as one
    parameter: tens of thousands of ids cost the ORM nothing to prepare, one by one."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])


def in_ids(ids: Iterable[int]) -> tuple[str, list]:
    """`column <this>` matching the given ids, as one parameter whatever their number."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return "= ANY(%s::bigint[])", [ids]
    return "IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]


def update_returning(
    table: str,
    assignments: dict[str, object],
    where: str,
    params: Sequence,
    returning: Sequence[str],
    *,
    increment: str | None = None,
    expressions: dict[str, tuple[str, list]] | None = None,
) -> list[tuple]:
    """`UPDATE table SET … WHERE … RETURNING …`: the rows this statement changed, as it left
    them: `assignments` set to values, `expressions` to SQL (with its parameters), and
    `increment`'s column one more. One statement: outside an atomic block it commits on its
    own, at once; inside one, with it."""
    expressions = expressions or {}
    sets = ", ".join(
        [f"{quote(column)} = ({sql})" for column, (sql, _p) in expressions.items()]
        + [f"{quote(column)} = %s" for column in assignments]
    )
    if increment:
        sets += f", {quote(increment)} = {quote(increment)} + 1"
    params = (
        [p for _sql, values in expressions.values() for p in values]
        + [adapt(v) for v in assignments.values()]
        + list(params)
    )
    sql = f"UPDATE {quote(table)} SET {sets} WHERE {where} RETURNING {', '.join(quote(c) for c in returning)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def insert_rows(table: str, columns: Sequence[str], rows: list[tuple], *, ignore_conflicts: bool = False) -> int:
    """Insert `rows` (tuples of already adapted values, in `columns`' order); returns how many
    went in. With `ignore_conflicts`, rows that a unique constraint already holds are left
    out (`ON CONFLICT DO NOTHING`), so two writers of the same rows write them once."""
    if not rows:
        return 0
    if connection.vendor == "postgresql" and len(rows) >= COPY_FROM_ROWS:
        return _copy_rows(table, columns, rows, ignore_conflicts)
    into = f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES "
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    inserted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), VALUES_ROWS):
            chunk = rows[start : start + VALUES_ROWS]
            cursor.execute(into + ", ".join([row_sql] * len(chunk)) + tail, [v for row in chunk for v in row])
            inserted += cursor.rowcount
    return inserted


def _copy_rows(table: str, columns: Sequence[str], rows: list[tuple], ignore_conflicts: bool) -> int:
    """PostgreSQL: COPY into a temporary table shaped like `table`, then one INSERT … SELECT
    (with ON CONFLICT DO NOTHING when asked). For many rows this is several times quicker
    than the same rows as VALUES: no statement to parse, no parameter to quote one by one.
    The COPY is logged as a statement of its own (the query counts see it)."""
    buffer = io.StringIO()
    # NULL written as \N (so that an empty string stays one).
    csv.writer(buffer, lineterminator="\n").writerows(
        [r"\N" if value is None else value for value in row] for row in rows
    )
    buffer.seek(0)
    names = ", ".join(quote(c) for c in columns)
    # One staging table per table and set of columns, for the session; emptied as it is read.
    staging = quote(f"staging_{table}_{zlib.crc32(names.encode()):08x}")
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS "
            f"AS SELECT {names} FROM {quote(table)} WITH NO DATA"
        )
        copy = f"COPY {staging} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        _logged(cursor, copy, lambda raw: raw.copy_expert(copy, buffer))
        cursor.execute(
            f"WITH moved AS (DELETE FROM {staging} RETURNING {names}) "
            f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM moved{tail}"
        )
        inserted = cursor.rowcount
    return inserted


def _logged(cursor, sql: str, run) -> None:
    """Run a driver call that Django's cursor wrapper does not see (COPY), through the
    connection's execute wrappers and query log, so that it counts as the statement it is."""
    raw = cursor.cursor

    def execute(sql, params, many, context):
        return run(raw)

    for wrapper in reversed(connection.execute_wrappers):
        execute = functools.partial(wrapper, execute)
    started = time.monotonic()
    try:
        execute(sql, None, False, {"connection": connection, "cursor": cursor})
    finally:
        if connection.queries_logged:
            connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
