"""Restore a backup made by scripts/backup.py into a NEW PostgreSQL database and an empty
media folder.

usage: BACKUP=var/backups/<stamp> TARGET_DATABASE_URL=postgres://.../<new database> \\
       [TARGET_MEDIA_ROOT=<empty or new folder>] .venv/bin/python scripts/restore.py
       (or `make restore BACKUP=... TARGET_DATABASE_URL=... [TARGET_MEDIA_ROOT=...]`)

In this order, stopping with a reason (exit 2) before anything is written when a check fails:
1. the manifest's sha256 of database.dump and media.tar.gz match the files;
2. every name in media.tar.gz is a plain relative path (no absolute path, no "..", no links
   or devices);
3. the media folder (TARGET_MEDIA_ROOT, else MEDIA_ROOT, else var/media) is missing or empty;
4. the target database does not exist, or exists with no tables: nothing is overwritten.
Then it creates the database (from template0), runs pg_restore --no-owner --exit-on-error
--single-transaction (all or nothing; a database it created is dropped again if the restore
fails), unpacks the media and prints the row count of every table next to the manifest's,
exiting 1 if any differs.
"""

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path, PurePosixPath

from psycopg2 import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))

from backup_common import (
    DUMP_FILE,
    MANIFEST,
    MANIFEST_FORMAT,
    MEDIA_FILE,
    Refused,
    connect,
    default_media_root,
    libpq_env,
    postgres_url,
    row_counts,
    run_main,
    sha256_of,
)


def read_manifest(backup: Path) -> dict:
    if not (backup / MANIFEST).is_file():
        raise Refused(f"{backup} has no {MANIFEST}: not a backup made by scripts/backup.py")
    try:
        manifest = json.loads((backup / MANIFEST).read_text())
    except ValueError as error:
        raise Refused(f"{backup / MANIFEST} is not valid JSON ({error})") from None
    if manifest.get("format") != MANIFEST_FORMAT:
        raise Refused(f"{MANIFEST} format {manifest.get('format')!r}; this script reads format {MANIFEST_FORMAT}")
    return manifest


def verify_checksums(backup: Path, manifest: dict) -> None:
    for name in (DUMP_FILE, MEDIA_FILE):
        expected = manifest.get("files", {}).get(name, {}).get("sha256")
        path = backup / name
        if not expected or not path.is_file():
            raise Refused(f"{path} or its checksum in {MANIFEST} is missing")
        actual = sha256_of(path)
        if actual != expected:
            raise Refused(
                f"{name} does not match its checksum (manifest {expected}, file {actual}): "
                "the backup is damaged or was changed; nothing was restored"
            )
        print(f"  {name}: sha256 ok")


def safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The archive's members, refusing any that could land outside the target folder."""
    members = tar.getmembers()
    for member in members:
        path = PurePosixPath(member.name)
        if member.name.startswith(("/", "\\")) or path.is_absolute() or ".." in path.parts or ":" in member.name:
            raise Refused(f"{MEDIA_FILE} holds an unsafe path {member.name!r}; nothing was restored")
        if not (member.isfile() or member.isdir()):
            raise Refused(f"{MEDIA_FILE} holds {member.name!r}, which is not a plain file; nothing was restored")
    return members


def target_media_root() -> Path:
    chosen = os.environ.get("TARGET_MEDIA_ROOT", "").strip()
    media_root = Path(chosen) if chosen else default_media_root()
    if media_root.exists() and (not media_root.is_dir() or any(media_root.iterdir())):
        raise Refused(
            f"media folder {media_root} is not empty; restore into a new or empty folder (TARGET_MEDIA_ROOT=...)"
        )
    return media_root


def prepare_database(params: dict) -> bool:
    """Create the target database; True if this run created it. An existing one is used only
    when it holds no tables at all."""
    admin = connect(params, dbname="postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [params["dbname"]])
            if cursor.fetchone() is None:
                cursor.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                        sql.Identifier(params["dbname"])
                    )
                )
                return True
    finally:
        admin.close()
    existing = connect(params)
    try:
        with existing.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg_toast%%'"
            )
            if cursor.fetchone()[0]:
                raise Refused(
                    f"database {params['dbname']} already exists and is not empty; restore into a new database"
                )
    finally:
        existing.close()
    return False


def drop_database(params: dict) -> None:
    admin = connect(params, dbname="postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(params["dbname"])))
    finally:
        admin.close()


def main() -> int:
    backup = Path(os.environ.get("BACKUP", "").strip() or "")
    if not str(backup) or str(backup) == ".":
        raise Refused("say which backup: BACKUP=var/backups/<stamp>")
    params = postgres_url(os.environ.get("TARGET_DATABASE_URL", ""), "TARGET_DATABASE_URL")
    if shutil.which("pg_restore") is None:
        raise Refused("pg_restore not found (Debian: apt-get install postgresql-client)")

    print(f"checking {backup}")
    manifest = read_manifest(backup)
    verify_checksums(backup, manifest)
    with tarfile.open(backup / MEDIA_FILE, "r:gz") as tar:
        members = safe_members(tar)
    media_root = target_media_root()
    created = prepare_database(params)
    print(
        f"restoring database {manifest['database']['name']} into {params['dbname']}"
        + (" (created)" if created else " (existing, empty)")
    )
    try:
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={params['dbname']}",
                str(backup / DUMP_FILE),
            ],
            env=libpq_env(params),
            check=True,
        )
    except subprocess.CalledProcessError:
        if created:
            drop_database(params)
        print(
            f"pg_restore failed; {'the new database was dropped again' if created else 'nothing was kept'}",
            file=sys.stderr,
        )
        return 1

    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(backup / MEDIA_FILE, "r:gz") as tar:
        # Checked above; the "data" filter refuses the same things again, and drops modes that
        # would make a file executable or set-uid.
        tar.extractall(media_root, members=members, filter="data")
    files = sum(1 for member in members if member.isfile())
    print(f"media: {files} files unpacked into {media_root}")

    connection = connect(params)
    try:
        with connection.cursor() as cursor:
            counts = row_counts(cursor)
    finally:
        connection.close()
    expected = manifest.get("row_counts", {})
    differ = sorted(table for table in set(counts) | set(expected) if counts.get(table) != expected.get(table))
    width = max((len(table) for table in counts), default=10)
    print(f"{'table':<{width}}  {'rows':>9}  {'backup':>9}")
    for table in sorted(set(counts) | set(expected)):
        mark = "  <-- differs" if table in differ else ""
        print(f"{table:<{width}}  {counts.get(table, '-'):>9}  {expected.get(table, '-'):>9}{mark}")
    if differ:
        print(f"row counts differ from the backup's in {len(differ)} tables", file=sys.stderr)
        return 1
    print(f"restored {sum(counts.values())} rows in {len(counts)} tables; every count matches the backup")
    return 0


if __name__ == "__main__":
    run_main(main)
