"""What scripts/backup.py and scripts/restore.py share: reading a PostgreSQL URL, counting
rows, hashing files and the manifest's name and shape."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "manifest.json"
DUMP_FILE = "database.dump"
MEDIA_FILE = "media.tar.gz"
MANIFEST_FORMAT = 1
POSTGRES_SCHEMES = ("postgres", "postgresql")


class Refused(Exception):
    """A clear reason to stop before anything is changed; printed without a trace."""


def postgres_url(url: str, what: str) -> dict:
    """The parts of a postgres:// URL that psycopg2 and the pg_* tools need."""
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        shown = parts.scheme or url or "unset: the embedded SQLite default"
        raise Refused(
            f"{what} is not a PostgreSQL URL ({shown}). Backups and restores are for PostgreSQL only; "
            "the embedded SQLite default is a single file under var/ that can be copied while the site is stopped."
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise Refused(f"{what} names no database")
    return {
        "dbname": name,
        "user": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "host": parts.hostname or None,
        "port": parts.port or None,
    }


def connect(params: dict, dbname: str | None = None):
    chosen = {**params, "dbname": dbname or params["dbname"]}
    return psycopg2.connect(**{key: value for key, value in chosen.items() if value})


def libpq_env(params: dict) -> dict:
    """The connection for pg_dump / pg_restore through the environment, so a password never
    shows on a command line (ps) or in make's echo."""
    env = dict(os.environ)
    for key, variable in (
        ("host", "PGHOST"),
        ("port", "PGPORT"),
        ("user", "PGUSER"),
        ("password", "PGPASSWORD"),
        ("dbname", "PGDATABASE"),
    ):
        if params.get(key):
            env[variable] = str(params[key])
    return env


def row_counts(cursor) -> dict[str, int]:
    """Exact row counts of every table in the public schema, in the cursor's transaction."""
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [row[0] for row in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM public."{table}"')  # names come from the catalogue
        counts[table] = cursor.fetchone()[0]
    return counts


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tool_version(tool: str) -> str:
    return subprocess.run([tool, "--version"], check=True, capture_output=True, text=True).stdout.strip()


def default_media_root() -> Path:
    """settings.MEDIA_ROOT without loading Django: MEDIA_ROOT, else VAR_DIR/media, else var/media."""
    if os.environ.get("MEDIA_ROOT", "").strip():
        return Path(os.environ["MEDIA_ROOT"].strip())
    return Path(os.environ.get("VAR_DIR", "").strip() or ROOT / "var") / "media"


def run_main(main) -> None:
    try:
        sys.exit(main())
    except Refused as refused:
        print(f"refused: {refused}", file=sys.stderr)
        sys.exit(2)
