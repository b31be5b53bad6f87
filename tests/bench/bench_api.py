"""Time the API's task list and its filters on a large database (--tasks 5000|50000|500000).

Run by hand (not a test; `make bench` runs it). Target: a median of at most 100 ms for a
filtered page of 50 tasks (owners, milestones and 责任人 included), measured in-process;
then the requests per second of that page through gunicorn on 127.0.0.1.

usage: .venv/bin/python tests/bench/bench_api.py [--tasks 50000] [--rebuild] [--runs 30] [--seconds 10] [--workers 5]

The data set is bench_staff_pages.py's (data_set.database_for(--tasks): the same database per
size, the same generator, reused while current; --rebuild regenerates it). Each case is timed
alternately with its reference (report.interleave): the hand-written SQL that fetches the same
page of 50 tasks, with owners, milestones and 责任人, and the count, in one statement.
Requests carry an API token of a staff member of the busiest agency,
as a bureau system would; throttling is lifted for the run (API_THROTTLE_USER).
"""

import argparse
import datetime
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from urllib.parse import unquote, urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DEBUG"] = "0"
# The benchmark measures the list, not the rate limit.
os.environ["API_THROTTLE_USER"] = "100000000/min"

import bench_staff_pages as data_set  # noqa: E402  (the generator and its database)
import report  # noqa: E402

TARGET_MS = 100.0
PAGE_SIZE = 50

# (label, query): the filtered page timed and loaded through gunicorn comes first.
CASES = [
    ("filtered: year, status, lead role", {"year": None, "status": "in_progress", "role": "lead"}),
    ("default order (due date)", {}),
    ("q=<search> (either script)", {"q": None}),
    ("overdue=1", {"overdue": "1"}),
    ("at_risk=1", {"at_risk": "1"}),
    ("owner_id=<agency>&status=lagging", {"owner_id": None, "status": "lagging"}),
    ("updated_since=<30 days ago>", {"updated_since": None}),
    # A deep page: the 20th, or the caller's last where they see fewer (5,000 tasks).
    ("ordering=-updated_at, page <deep>", {"ordering": "-updated_at", "page": None}),
]
DEEP_PAGE = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure(client, url: str, *, warmup: int, runs: int, reference) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
        return response

    timings, reference_ms = report.interleave(get, reference, runs, warmup=warmup)
    with CaptureQueriesContext(connection) as captured:
        response = get()
    body = response.json()
    return {
        "samples": timings,
        "reference": reference_ms,
        "median": statistics.median(timings),
        "p95": data_set.percentile(timings, 0.95),
        "queries": len(captured.captured_queries),
        "rows": len(body["results"]),
        "count": body["count"],
        "bytes": len(response.content),
        "selects": sorted(
            (
                (data_set.server_ms(q["sql"]), q["sql"])
                for q in captured.captured_queries
                if q["sql"].lstrip().upper().startswith("SELECT")
            ),
            reverse=True,
        ),
    }


# The page of 50 tasks of the caller's agency with its owners, milestones and 责任人 and the
# count, in one statement; {where} and {order} vary with the case.
API_SQL = """
WITH page AS (
    SELECT t.id, t.plan_id, t.section_id, t.number, t.heading, t.text, t.due_on, t.status, t.percent,
           t.version, t.last_progress_at, t.updated_at, t."order", o.role = 'lead' AS is_lead,
           p.title, p.year, count(*) OVER () AS total
    FROM tasks_taskowner o
    JOIN tasks_task t ON t.id = o.task_id
    JOIN workplans_plan p ON p.id = t.plan_id
    WHERE o.agency_id = %(agency)s AND p.status <> 'draft' {where}
    ORDER BY {order}, t.plan_id, t."order", t.id
    LIMIT 50 OFFSET %(offset)s
)
SELECT page.*,
       (SELECT json_agg(json_build_object('id', a.id, 'name', a.name, 'role', w.role) ORDER BY w."order", w.id)
        FROM tasks_taskowner w JOIN accounts_agency a ON a.id = w.agency_id WHERE w.task_id = page.id),
       (SELECT json_agg(json_build_object('due_on', m.due_on, 'text', m.text, 'done_on', m.done_on)
                        ORDER BY m.due_on, m."order", m.id)
        FROM tasks_milestone m WHERE m.task_id = page.id),
       (SELECT json_agg(json_build_object('id', u.id, 'username', u.username, 'full_name', u.full_name))
        FROM tasks_task_responsible_users r JOIN accounts_user u ON u.id = r.user_id WHERE r.task_id = page.id)
FROM page
ORDER BY {order_page}, page.plan_id, page."order", page.id
"""


def api_reference(agency_id: int, query: dict, today: datetime.date):
    """A function running the hand-written SQL for the API request `query`."""
    from django.conf import settings
    from django.db import connection

    from core.text import script_key
    from tasks.risk import due_soon_below_percent, points_behind

    params = {"agency": agency_id, "today": today, "offset": (int(query.get("page", 1)) - 1) * PAGE_SIZE}
    where, order, order_page = "", "t.due_on", "page.due_on"
    if "year" in query:
        where += " AND p.year = %(year)s"
        params["year"] = int(query["year"])
    if "status" in query:
        where += " AND t.status = %(status)s"
        params["status"] = query["status"]
    if query.get("role") == "lead":
        where += " AND o.role = 'lead'"
    if "q" in query:
        where += " AND t.search_text LIKE %(like)s"
        params["like"] = f"%{script_key(query['q'])}%"
    if query.get("overdue") == "1":
        where += " AND t.due_on < %(today)s AND t.status NOT IN ('done', 'closed')"
    if query.get("at_risk") == "1":
        # Amber: open, not lagging, not overdue; due soon below the percent, or behind the pace
        # of its plan year (the thresholds worked out here, as risk_of works them out).
        policy = settings.RISK_POLICY
        params["soon_until"] = today + datetime.timedelta(days=policy["due_soon_days"])
        params["soon_below"] = due_soon_below_percent()
        gap = policy["pace_gap_points"]
        # The lowest percent not behind: the smallest p with points_behind(year, p) <= gap.
        params["pace_now"] = next(p for p in range(101) if points_behind(today.year, p, today) <= gap)
        params["pace_past"] = next(p for p in range(101) if points_behind(today.year - 1, p, today) <= gap)
        where += (
            " AND t.status IN ('not_started', 'in_progress', 'on_hold') AND t.due_on >= %(today)s"
            " AND ((t.due_on <= %(soon_until)s AND t.percent < %(soon_below)s)"
            "  OR (p.year = %(this_year)s AND t.percent < %(pace_now)s)"
            "  OR (p.year < %(this_year)s AND t.percent < %(pace_past)s))"
        )
        params["this_year"] = today.year
    if "owner_id" in query:
        where += " AND EXISTS (SELECT 1 FROM tasks_taskowner x WHERE x.task_id = t.id AND x.agency_id = %(owner)s)"
        params["owner"] = int(query["owner_id"])
    if "updated_since" in query:
        where += " AND t.updated_at >= %(since)s"
        params["since"] = query["updated_since"]
    if query.get("ordering") == "-updated_at":
        order, order_page = "t.updated_at DESC", "page.updated_at DESC"
    sql = API_SQL.format(where=where, order=order, order_page=order_page)

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    process = subprocess.Popen(
        [
            gunicorn,
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def load(port: int, path: str, key: str, *, seconds: float, concurrency: int) -> dict:
    """`concurrency` clients asking for `path` back to back for `seconds`."""
    latencies, errors = [], []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client():
        mine, failed = [], 0
        headers = {"Authorization": f"Token {key}", "Accept": "application/json"}
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                connection.close()
                if response.status != 200:
                    failed += 1
                    continue
            except OSError:
                failed += 1
                continue
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)
            errors.append(failed)

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "requests": len(latencies),
        "errors": sum(errors),
        "rps": len(latencies) / elapsed,
        "median": statistics.median(latencies) if latencies else float("nan"),
        "p95": data_set.percentile(latencies, 0.95) if latencies else float("nan"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="regenerate the data even if it is current")
    parser.add_argument("--tasks", type=int, default=50_000, help="the data set's size: 5000, 50000 or 500000")
    parser.add_argument("--updates", type=int, default=None, help="default: 20 per task")
    parser.add_argument("--readings", type=int, default=None, help="default: 4 per task")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--runs", type=int, default=30, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--q", default="家庭医生", help="the search term of the q= case")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the gunicorn load run")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--concurrency", type=int, default=8, help="clients at once in the load run")
    parser.add_argument("--no-load", action="store_true", help="skip the gunicorn run")
    parser.add_argument("--show", type=int, default=2, help="slowest queries shown per case")
    args = parser.parse_args()
    data_set.sized(args)

    url = os.environ.setdefault("DATABASE_URL", data_set.database_for(args.tasks))
    data_set.ensure_database(url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from rest_framework.test import APIClient

    from accounts.models import User
    from api.models import ApiToken

    call_command("migrate", verbosity=0, interactive=False)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']}), DEBUG={settings.DEBUG}")
    params = {
        "version": data_set.GENERATOR_VERSION,
        "tasks": args.tasks,
        "updates": args.updates,
        "readings": args.readings,
        "seed": args.seed,
    }
    with connection.cursor() as cursor:
        current = not args.rebuild and data_set.data_is_current(cursor, params)
    if current:
        print("data: reusing the existing data set (--rebuild to regenerate)")
    else:
        print(f"data: generating {args.tasks:,} tasks, {args.updates:,} progress updates, {args.readings:,} readings …")
        print(f"data: generated in {data_set.generate(params, timezone.now()):.1f} s")
        connection.close()

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tasks_task")
        total_tasks = cursor.fetchone()[0]
        agency_id, owned, user_id, _, _ = data_set.pick_subjects(cursor)
    user = User.objects.select_related("agency").get(pk=user_id)
    ApiToken.objects.filter(user=user, name="bench_api").delete()
    _, key = ApiToken.issue(user, "bench_api", created_by=user)
    print(
        f"{total_tasks:,} tasks; caller: {user.username} (staff of {user.agency.name}, "
        f"which owns {owned:,} tasks), with an API token"
    )

    today = timezone.localdate()
    fill = {
        "year": str(today.year),
        "q": args.q,
        "owner_id": str(agency_id),
        "updated_since": (timezone.now() - timezone.timedelta(days=30)).isoformat(timespec="seconds"),
    }
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    visible = client.get("/api/v1/tasks/", {"page_size": PAGE_SIZE}).json()["count"]
    fill["page"] = str(max(1, min(DEEP_PAGE, -(-visible // PAGE_SIZE))))
    results = []
    print(
        f"\nin-process: {args.warmup} warm-up + {args.runs} timed requests per case, page_size={PAGE_SIZE} "
        f"(load average {', '.join(f'{n:.1f}' for n in os.getloadavg())} on {os.cpu_count()} CPUs)"
    )
    for label, query in CASES:
        query = {k: (fill[k] if v is None else v) for k, v in query.items()}
        path = "/api/v1/tasks/?" + urlencode({**query, "page_size": PAGE_SIZE})
        label = label.replace("<search>", args.q).replace("<deep>", fill["page"])
        reference = api_reference(agency_id, query, today)
        result = measure(client, path, warmup=args.warmup, runs=args.runs, reference=reference)
        results.append((label, path, result))
        report.record(
            "api",
            label,
            samples=result["samples"],
            reference=result["reference"],
            reference_name="the page of 50 with owners, milestones, 责任人 and count in one SQL statement",
            queries=result["queries"],
            tasks=args.tasks,
            target=f"median ≤ {TARGET_MS:.0f} ms",
            met=result["median"] <= TARGET_MS,
        )
        print(f"\n{label}  GET {unquote(path)}")
        print(
            f"  median {result['median']:.1f} ms, p95 {result['p95']:.1f} ms; {result['queries']} queries; "
            f"{result['rows']} of {result['count']:,} tasks; {result['bytes'] / 1024:.0f} KB of JSON"
        )
        for ms, sql in result["selects"][: args.show]:
            print(f"  slow query, {ms:.1f} ms on the server: {data_set.shorten(sql, 400)}")

    print(
        f"\n{data_set.pad('case', 40)} {'median':>9} {'p95':>9} {'queries':>8} {'reference':>10} {'ratio':>6}"
        f"  target: median ≤ {TARGET_MS:.0f} ms"
    )
    for label, _, result in results:
        verdict = "PASS" if result["median"] <= TARGET_MS else "FAIL"
        reference = statistics.median(result["reference"])
        print(
            f"{data_set.pad(label, 40)} {result['median']:>6.1f} ms {result['p95']:>6.1f} ms "
            f"{result['queries']:>8} {reference:>7.1f} ms {result['median'] / reference:>5.1f}×  {verdict}"
        )

    if args.no_load:
        return
    label, path, _ = results[0]
    port = free_port()
    connection.close()
    server = start_gunicorn(port, args.workers)
    try:
        load(port, path, key, seconds=2, concurrency=args.concurrency)  # warm every worker
        outcome = load(port, path, key, seconds=args.seconds, concurrency=args.concurrency)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"\ngunicorn on 127.0.0.1: {args.workers} sync workers, {args.concurrency} clients for {args.seconds:.0f} s "
        f"(clients and server share the {os.cpu_count()} CPUs)"
    )
    print(
        f"  {label}: {outcome['rps']:.1f} requests/s, {outcome['requests']:,} answered, {outcome['errors']} errors; "
        f"latency median {outcome['median']:.1f} ms, p95 {outcome['p95']:.1f} ms"
    )


if __name__ == "__main__":
    main()
