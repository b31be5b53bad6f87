"""The backup drill: data made through the app is backed up by scripts/backup.py, restored by
scripts/restore.py into a new database and an empty media folder, and comes back identical,
table by table and file by file; a damaged or hostile backup is refused and restores nothing."""

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.conftest import _database_url_for_this_test

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = [
    # A system test (pg_dump, pg_restore, new databases): `make test-all`, CI's PostgreSQL suite.
    pytest.mark.system,
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="backups are pg_dump/pg_restore: needs PostgreSQL on DATABASE_URL",
    ),
    pytest.mark.skipif(
        shutil.which("pg_dump") is None or shutil.which("pg_restore") is None,
        reason="needs pg_dump and pg_restore (postgresql-client)",
    ),
]


# --- helpers ---------------------------------------------------------------------------------


def picture(colour, kind="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), colour).save(out, kind)
    return out.getvalue()


def run_script(name, **env):
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def target_url(dbname: str) -> str:
    source = _database_url_for_this_test()
    return source.rsplit("/", 1)[0] + "/" + dbname


@contextlib.contextmanager
def pg(url: str):
    """An autocommit connection, closed afterwards (psycopg2's own `with` would open a
    transaction, in which CREATE/DROP DATABASE cannot run)."""
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        yield connection
    finally:
        connection.close()


def database_exists(dbname: str) -> bool:
    with pg(target_url("postgres")) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
        return cursor.fetchone() is not None


def table_fingerprints(url: str) -> dict[str, tuple[int, str]]:
    """Per table in public: (row count, md5 of every row as text, in primary-key order)."""
    result = {}
    with pg(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        for (table,) in cursor.fetchall():
            cursor.execute(
                "SELECT string_agg(format('t.%%I', a.attname), ', ' ORDER BY k.n) "
                "FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "WHERE i.indrelid = %s::regclass AND i.indisprimary",
                [f'public."{table}"'],
            )
            order = cursor.fetchone()[0] or "t::text"
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY {order}), '')) "
                f'FROM public."{table}" t'
            )
            result[table] = cursor.fetchone()
    return result


def sequence_values(url: str) -> dict[str, int | None]:
    """Where every sequence stands: a restore that lost them would hand out used ids."""
    with pg(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
        return dict(cursor.fetchall())


def triggers(url: str) -> set[tuple[str, str]]:
    """(table, trigger) for every trigger the schema defines: the audit trail's protection
    and the same-plan keys must come back with the data."""
    with pg(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal")
        return set(cursor.fetchall())


def media_checksums(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file()
    }


@pytest.fixture
def restore_target():
    """A name for a database that does not exist yet; dropped at the end whatever happened."""
    dbname = f"h5_restore_{uuid.uuid4().hex[:10]}"
    yield dbname
    with pg(target_url("postgres")) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [dbname])
        cursor.execute(f'DROP DATABASE IF EXISTS "{dbname}"')


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def working_year(
    transactional_db, media_root, client, login, plan, section, task, staff_a, staff_b, leader, admin_user, auditor
):
    """A plan with its source file, a milestone and an indicator, three reports with evidence
    (lead and co-owner), a responsible person, a failed and several good logins: the rows,
    history and files a year of work leaves behind, made through the pages."""
    from indicators.models import Indicator
    from tasks.models import Milestone

    plan.source_file.save("2026年工作要点.txt", ContentFile("一、提升服务能力\n1. 推进家庭医生签约服务。".encode()))
    milestone = Milestone.objects.create(task=task, due_on=task.due_on, text="印发实施方案")
    indicator = Indicator.objects.create(plan=plan, task=task, name="签约覆盖率", comparator=">=", target=80, unit="%")

    # given a lead agency's reports with evidence, through the task page's form
    assert login(staff_a, password="wrong-password").status_code == 200
    assert login(staff_a).status_code == 302
    response = client.post(
        f"/tasks/{task.pk}/report/",
        {
            "version": 1,
            "status": "in_progress",
            "percent": 30,
            "note": "已印发实施方案。",
            "milestones": [milestone.pk],
            "files": [SimpleUploadedFile("方案.png", picture((200, 30, 30)))],
            f"reading_{indicator.pk}_value": "42.5",
            f"reading_{indicator.pk}_as_of": f"{plan.year}-06-30",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(
        f"/tasks/{task.pk}/report/",
        {
            "version": 2,
            "status": "in_progress",
            "percent": 60,
            "note": "完成摸底调研。",
            "files": [
                SimpleUploadedFile("调研.jpg", picture((30, 200, 30), "JPEG")),
                SimpleUploadedFile("签到表.png", picture((30, 30, 200))),
            ],
        },
    )
    assert response.status_code == 302
    response = client.post(f"/tasks/{task.pk}/responsible/", {"users": [staff_a.pk]})
    assert response.status_code == 302
    client.logout()
    # and a co-owner's note with a file
    assert login(staff_b).status_code == 302
    response = client.post(
        f"/tasks/{task.pk}/report/",
        {
            "version": 3,
            "note": "配合完成宣传材料。",
            "files": [SimpleUploadedFile("宣传.png", picture((90, 90, 90)))],
        },
    )
    assert response.status_code == 302
    client.logout()
    assert len(media_checksums(media_root)) == 5  # the plan's source and four evidence files
    return task


# --- the drill -------------------------------------------------------------------------------


def test_it_restores_a_backup_into_a_new_database_identical_table_by_table_and_file_by_file(
    working_year, media_root, tmp_path, restore_target
):
    source_url = _database_url_for_this_test()

    # when the site is backed up
    backup = run_script(
        "backup.py", DATABASE_URL=source_url, MEDIA_ROOT=str(media_root), BACKUP_ROOT=str(tmp_path / "backups")
    )
    assert backup.returncode == 0, backup.stderr
    [backup_dir] = (tmp_path / "backups").iterdir()
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    # and restored into a new database and an empty folder
    restored_media = tmp_path / "restored-media"
    restore = run_script(
        "restore.py",
        BACKUP=str(backup_dir),
        TARGET_DATABASE_URL=target_url(restore_target),
        TARGET_MEDIA_ROOT=str(restored_media),
    )
    assert restore.returncode == 0, restore.stdout + restore.stderr

    # then every table holds the same rows, byte for byte, and the sequences stand where they stood
    source, restored = table_fingerprints(source_url), table_fingerprints(target_url(restore_target))
    assert set(restored) == set(source)
    assert {table: fp for table, fp in restored.items() if fp != source[table]} == {}
    assert sequence_values(target_url(restore_target)) == sequence_values(source_url)
    assert triggers(target_url(restore_target)) == triggers(source_url)
    # and the backed-up data is the data made above, not an empty schema
    for table in (
        "tasks_progressupdate",
        "tasks_attachment",
        "tasks_historicaltask",
        "audit_auditevent",
        "indicators_reading",
        "tasks_task_responsible_users",
    ):
        assert source[table][0] > 0, table
    assert source["tasks_progressupdate"][0] == 3
    assert {table: count for table, (count, _) in source.items()} == manifest["row_counts"]
    # and every uploaded file is back with the same content at the same path
    assert media_checksums(restored_media) == media_checksums(media_root)
    assert manifest["media"]["files"] == 5
    # and the manifest's checksums are the files'
    for name in ("database.dump", "media.tar.gz"):
        assert manifest["files"][name]["sha256"] == hashlib.sha256((backup_dir / name).read_bytes()).hexdigest()


@pytest.mark.parametrize("damaged", ["database.dump", "media.tar.gz"])
def test_it_refuses_a_backup_with_a_flipped_byte_and_creates_nothing(
    working_year, media_root, tmp_path, restore_target, damaged
):
    # given a good backup with one byte flipped in one of its files
    backup = run_script(
        "backup.py",
        DATABASE_URL=_database_url_for_this_test(),
        MEDIA_ROOT=str(media_root),
        BACKUP_ROOT=str(tmp_path / "backups"),
    )
    assert backup.returncode == 0, backup.stderr
    [backup_dir] = (tmp_path / "backups").iterdir()
    data = bytearray((backup_dir / damaged).read_bytes())
    data[len(data) // 2] ^= 0x01
    (backup_dir / damaged).write_bytes(bytes(data))

    # when it is restored
    restored_media = tmp_path / "restored-media"
    restore = run_script(
        "restore.py",
        BACKUP=str(backup_dir),
        TARGET_DATABASE_URL=target_url(restore_target),
        TARGET_MEDIA_ROOT=str(restored_media),
    )

    # then it is refused with the reason, and neither a database nor a file was made
    assert restore.returncode == 2
    assert f"{damaged} does not match its checksum" in restore.stderr
    assert not database_exists(restore_target)
    assert not restored_media.exists()


def test_it_refuses_to_restore_over_a_database_that_holds_tables(working_year, media_root, tmp_path):
    # given a good backup
    backup = run_script(
        "backup.py",
        DATABASE_URL=_database_url_for_this_test(),
        MEDIA_ROOT=str(media_root),
        BACKUP_ROOT=str(tmp_path / "backups"),
    )
    assert backup.returncode == 0, backup.stderr
    [backup_dir] = (tmp_path / "backups").iterdir()
    before = table_fingerprints(_database_url_for_this_test())

    # when it is restored onto the live database
    restore = run_script(
        "restore.py",
        BACKUP=str(backup_dir),
        TARGET_DATABASE_URL=_database_url_for_this_test(),
        TARGET_MEDIA_ROOT=str(tmp_path / "restored-media"),
    )

    # then it is refused and the live database is untouched
    assert restore.returncode == 2
    assert "already exists and is not empty" in restore.stderr
    assert table_fingerprints(_database_url_for_this_test()) == before


@pytest.mark.parametrize("name", ["../outside.txt", "{tmp}/absolute.txt", "evidence/../../outside.txt"])
def test_it_refuses_media_that_would_land_outside_the_folder(tmp_path, restore_target, name):
    # given a backup whose media archive names a path outside the folder, with matching checksums
    name = name.format(tmp=tmp_path)
    backup_dir = tmp_path / "backup"
    backup_dir.mkdir()
    (backup_dir / "database.dump").write_bytes(b"PGDMP not used")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        member = tarfile.TarInfo(name)
        member.size = 5
        tar.addfile(member, io.BytesIO(b"owned"))
    (backup_dir / "media.tar.gz").write_bytes(archive.getvalue())
    files = {
        n: {"sha256": hashlib.sha256((backup_dir / n).read_bytes()).hexdigest()}
        for n in ("database.dump", "media.tar.gz")
    }
    (backup_dir / "manifest.json").write_text(json.dumps({"format": 1, "files": files, "database": {"name": "x"}}))

    # when it is restored
    restored_media = tmp_path / "media" / "restored"
    restore = run_script(
        "restore.py",
        BACKUP=str(backup_dir),
        TARGET_DATABASE_URL=target_url(restore_target),
        TARGET_MEDIA_ROOT=str(restored_media),
    )

    # then it is refused before anything is written anywhere
    assert restore.returncode == 2
    assert "unsafe path" in restore.stderr
    assert not database_exists(restore_target)
    assert not restored_media.exists()
    assert not (tmp_path / "media" / "outside.txt").exists()
    assert not (tmp_path / "absolute.txt").exists()


def test_it_refuses_a_database_that_is_not_postgresql(tmp_path):
    # when a backup is asked of the embedded SQLite default
    result = run_script("backup.py", DATABASE_URL="sqlite:///var/db.sqlite3", BACKUP_ROOT=str(tmp_path / "b"))

    # then it says why and writes nothing
    assert result.returncode == 2
    assert "not a PostgreSQL URL" in result.stderr
    assert not (tmp_path / "b").exists()
