"""Back up the platform: the PostgreSQL database (pg_dump custom format) and the uploaded
files under MEDIA_ROOT (plan sources, evidence, exports), with a manifest.

usage: DATABASE_URL=postgres://... [MEDIA_ROOT=...] [BACKUP_ROOT=var/backups] .venv/bin/python scripts/backup.py
       (or `make backup`)

Writes BACKUP_ROOT/<UTC timestamp>/ with
  database.dump   pg_dump -Fc of DATABASE_URL
  media.tar.gz    every regular file under MEDIA_ROOT, paths relative to it
  manifest.json   sha256 and size of both files, database name and server version,
                  pg_dump version, row count per table, media file count and bytes
  SHA256SUMS      the same checksums, for `sha256sum -c`
The row counts and the dump come from one snapshot (pg_dump --snapshot), so they agree even
while the site keeps writing. The folder appears under its final name only when complete;
it and its files are readable by the owner only (the dump holds password hashes).
Refuses, changing nothing, when DATABASE_URL is not PostgreSQL: the embedded SQLite default
is one file under var/ to copy while the site is stopped.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from backup_common import (
    DUMP_FILE,
    MANIFEST,
    MANIFEST_FORMAT,
    MEDIA_FILE,
    ROOT,
    Refused,
    connect,
    default_media_root,
    libpq_env,
    postgres_url,
    row_counts,
    run_main,
    sha256_of,
    tool_version,
)


def pack_media(media_root: Path, target: Path) -> dict:
    """Every regular file under media_root into a gzipped tar; links and odd files are left
    out (uploads are only ever regular files) and counted."""
    files = size = skipped = 0
    with tarfile.open(target, "w:gz") as tar:
        if media_root.is_dir():
            for path in sorted(media_root.rglob("*")):
                relative = path.relative_to(media_root).as_posix()
                if path.is_symlink() or not (path.is_file() or path.is_dir()):
                    skipped += 1
                    continue
                if path.is_file():
                    tar.add(path, arcname=relative, recursive=False)
                    files += 1
                    size += path.stat().st_size
    return {"root": str(media_root), "files": files, "bytes": size, "skipped_not_regular": skipped}


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    params = postgres_url(database_url, "DATABASE_URL")
    media_root = default_media_root()
    backup_root = Path(os.environ.get("BACKUP_ROOT", "").strip() or ROOT / "var" / "backups")
    if shutil.which("pg_dump") is None:
        raise Refused("pg_dump not found (Debian: apt-get install postgresql-client)")

    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    final = backup_root / stamp
    partial = backup_root / f".{stamp}.partial"
    if final.exists() or partial.exists():
        raise Refused(f"{final} already exists; wait a second and run again")
    backup_root.mkdir(parents=True, exist_ok=True)
    partial.mkdir(mode=0o700)
    os.umask(0o077)
    try:
        connection = connect(params)
        try:
            connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version'), current_database()")
                snapshot, server_version, database = cursor.fetchone()
                counts = row_counts(cursor)
                # The snapshot stays valid while this transaction is open: pg_dump reads the same data.
                subprocess.run(
                    ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={partial / DUMP_FILE}"],
                    env=libpq_env(params),
                    check=True,
                )
        finally:
            connection.close()
        media = pack_media(media_root, partial / MEDIA_FILE)
        files = {
            name: {"sha256": sha256_of(partial / name), "bytes": (partial / name).stat().st_size}
            for name in (DUMP_FILE, MEDIA_FILE)
        }
        manifest = {
            "format": MANIFEST_FORMAT,
            "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "database": {
                "name": database,
                "host": params["host"] or "(local socket)",
                "server_version": server_version,
            },
            "pg_dump_version": tool_version("pg_dump"),
            "files": files,
            "row_counts": counts,
            "media": media,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        (partial / "SHA256SUMS").write_text("".join(f"{f['sha256']}  {name}\n" for name, f in files.items()))
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    print(f"backup written to {final}")
    print(
        f"  database {database} (PostgreSQL {server_version}): {sum(counts.values())} rows in {len(counts)} tables,"
        f" {files[DUMP_FILE]['bytes']} bytes"
    )
    print(
        f"  media {media_root}: {media['files']} files, {media['bytes']} bytes"
        + (f" ({media['skipped_not_regular']} links or special files left out)" if media["skipped_not_regular"] else "")
    )
    return 0


if __name__ == "__main__":
    run_main(main)
