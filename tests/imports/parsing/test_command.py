"""The parse_plan management command prints the parse document and never needs the database."""

import io
import json
import os
import subprocess
import sys

import pytest

from . import plans

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


@pytest.fixture
def call():
    try:
        import django
        from django.conf import settings

        if not settings.configured:
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()
        from django.core.management import call_command
    except Exception as exc:  # the project settings are written elsewhere; test what we can
        pytest.skip(f"Django project not importable: {exc}")

    def run(*args):
        out = io.StringIO()
        call_command("parse_plan", *args, stdout=out)
        return out.getvalue()

    return run


@pytest.fixture
def plan_file(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_bytes(plans.COVER_PLAN.encode("gb18030"))
    return path


def test_it_prints_the_parse_document_as_json(call, plan_file):
    doc = json.loads(call(str(plan_file), "--format", "json"))
    assert doc["plan"]["title"] == "2023年云溪市卫生健康工作要点"
    assert len(doc["tasks"]) == 7


def test_it_prints_chinese_unescaped_and_indented(call, plan_file):
    out = call(str(plan_file))
    assert "云溪市" in out and "\\u" not in out
    assert out.startswith("{\n  ")


def test_it_prints_a_human_summary(call, plan_file):
    out = call(str(plan_file), "--format", "text")
    assert "标题：2023年云溪市卫生健康工作要点" in out
    assert "孕产妇死亡率 <= 81/10万" in out


def test_it_raises_command_error_with_the_chinese_message(call, tmp_path):
    from django.core.management.base import CommandError

    bad = tmp_path / "broken.docx"
    bad.write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(CommandError, match="损坏"):
        call(str(bad))


def test_it_exits_with_status_1_and_message_on_stderr(tmp_path):
    if not os.path.exists(os.path.join(ROOT, "manage.py")):
        pytest.skip("manage.py not written yet")
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(plans.pdf_bytes(["内容"], text=False))
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    result = subprocess.run(
        [sys.executable, "manage.py", "parse_plan", str(bad)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert result.returncode == 1
    assert "文字层" in result.stderr
    assert result.stdout == ""
