"""Time the API's task list on a large database: 50,000 tasks, 1,000,000 progress updates.

Run by hand (not a test; `make bench` runs it). Target: a median of at most 100 ms for a
filtered page of 50 tasks (owners, milestones and 责任人 included), measured in-process;
then the requests per second of that page through gunicorn on 127.0.0.1.

usage: [DATABASE_URL=postgres://postgres@127.0.0.1:5432/workplans_bench_staff] \\
       .venv/bin/python tests/bench/bench_api.py [--rebuild] [--runs 30] [--seconds 10] [--workers 5]

The data set is bench_staff_pages.py's (same database, same generator, reused while current;
--rebuild regenerates it). Requests carry an API token of a staff member of the busiest agency,
as a bureau system would; throttling is lifted for the run (API_THROTTLE_USER).
"""

import argparse
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
    ("ordering=-updated_at, page 20", {"ordering": "-updated_at", "page": "20"}),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure(client, url: str, *, warmup: int, runs: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
        return response

    for _ in range(warmup):
        get()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = get()
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        response = get()
    body = response.json()
    return {
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
    parser.add_argument("--runs", type=int, default=30, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--q", default="家庭医生", help="the search term of the q= case")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the gunicorn load run")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--concurrency", type=int, default=8, help="clients at once in the load run")
    parser.add_argument("--no-load", action="store_true", help="skip the gunicorn run")
    parser.add_argument("--show", type=int, default=2, help="slowest queries shown per case")
    args = parser.parse_args()

    url = os.environ.setdefault("DATABASE_URL", data_set.DEFAULT_DATABASE_URL)
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
        "tasks": 50_000,
        "updates": 1_000_000,
        "readings": 200_000,
        "seed": 20261124,
    }
    with connection.cursor() as cursor:
        current = not args.rebuild and data_set.data_is_current(cursor, params)
    if current:
        print("data: reusing the existing data set (--rebuild to regenerate)")
    else:
        print("data: generating 50,000 tasks, 1,000,000 progress updates, 200,000 readings …")
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
    results = []
    print(
        f"\nin-process: {args.warmup} warm-up + {args.runs} timed requests per case, page_size={PAGE_SIZE} "
        f"(load average {', '.join(f'{n:.1f}' for n in os.getloadavg())} on {os.cpu_count()} CPUs)"
    )
    for label, query in CASES:
        query = {k: (fill[k] if v is None else v) for k, v in query.items()}
        path = "/api/v1/tasks/?" + urlencode({**query, "page_size": PAGE_SIZE})
        label = label.replace("<search>", args.q)
        result = measure(client, path, warmup=args.warmup, runs=args.runs)
        results.append((label, path, result))
        print(f"\n{label}  GET {unquote(path)}")
        print(
            f"  median {result['median']:.1f} ms, p95 {result['p95']:.1f} ms; {result['queries']} queries; "
            f"{result['rows']} of {result['count']:,} tasks; {result['bytes'] / 1024:.0f} KB of JSON"
        )
        for ms, sql in result["selects"][: args.show]:
            print(f"  slow query, {ms:.1f} ms on the server: {data_set.shorten(sql, 400)}")

    print(f"\n{data_set.pad('case', 40)} {'median':>9} {'p95':>9} {'queries':>8}  target: median ≤ {TARGET_MS:.0f} ms")
    for label, _, result in results:
        verdict = "PASS" if result["median"] <= TARGET_MS else "FAIL"
        print(
            f"{data_set.pad(label, 40)} {result['median']:>6.1f} ms {result['p95']:>6.1f} ms "
            f"{result['queries']:>8}  {verdict}"
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
