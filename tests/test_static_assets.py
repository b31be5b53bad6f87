"""Front-end libraries come from the app's own static files, installed by the set-up.

The site runs on intranets: ECharts is pinned in package.json / package-lock.json, installed
into node_modules by `make venv` (npm ci), and served under static/vendor/echarts/; no page
may pull a script, stylesheet or image from another site.
"""

import json
import re
from pathlib import Path

from django.contrib.staticfiles import finders

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = json.loads((ROOT / "package.json").read_text())
LOCK = json.loads((ROOT / "package-lock.json").read_text())
FIX = "run `rm -f .venv/.installed && make venv` (it runs npm ci)"


def test_echarts_is_found_by_the_static_finders():
    path = finders.find("vendor/echarts/echarts.min.js")
    assert path, f"vendor/echarts/echarts.min.js is not among the static files: {FIX}"
    assert Path(path).stat().st_size > 100_000


def test_the_installed_echarts_is_the_pinned_one():
    installed = json.loads((ROOT / "node_modules" / "echarts" / "package.json").read_text())
    assert installed["version"] == PACKAGE["dependencies"]["echarts"], f"node_modules is stale: {FIX}"


def test_package_json_pins_exact_versions_and_fetches_nothing_else():
    assert PACKAGE["private"] is True
    assert not PACKAGE.get("scripts"), "no npm scripts: the set-up runs npm ci and nothing else"
    assert not PACKAGE.get("devDependencies")
    for name, version in PACKAGE["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} must be pinned exactly, not {version!r}"


def test_the_lock_matches_package_json():
    root = LOCK["packages"][""]
    assert root["dependencies"] == PACKAGE["dependencies"]
    for name, version in PACKAGE["dependencies"].items():
        assert LOCK["packages"][f"node_modules/{name}"]["version"] == version


def test_the_lock_fetches_only_from_the_npm_registry_with_integrity():
    for key, entry in LOCK["packages"].items():
        if not key:
            continue
        assert entry["resolved"].startswith("https://registry.npmjs.org/"), key
        assert entry["integrity"].startswith("sha512-"), key
        assert not entry.get("hasInstallScript"), f"{key} runs an install script"


TAG = re.compile(r"<(script|link|img|iframe|source)\b[^>]*>", re.IGNORECASE)
EXTERNAL = re.compile(r"""\b(src|href|srcset)\s*=\s*["']?\s*(https?:)?//""", re.IGNORECASE)


def test_no_template_loads_anything_from_another_site():
    offenders = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        for tag in TAG.finditer(template.read_text()):
            if EXTERNAL.search(tag.group(0)):
                offenders.append(f"{template.relative_to(ROOT)}: {tag.group(0)}")
    assert not offenders, "CDN or other remote assets (the site must work on an intranet):\n" + "\n".join(offenders)


def test_the_external_asset_check_catches_cdn_tags():
    assert EXTERNAL.search('<script src="https://cdn.jsdelivr.net/npm/echarts/dist/echarts.min.js">')
    assert EXTERNAL.search("<link rel=stylesheet href='//unpkg.com/x.css'>")
    assert not EXTERNAL.search('<script src="/static/vendor/echarts/echarts.min.js" defer>')


def test_the_dashboard_script_makes_no_network_requests_and_no_eval():
    source = (ROOT / "static" / "js" / "dashboard.js").read_text()
    for forbidden in ("fetch(", "XMLHttpRequest", "eval(", "new Function", "http://", "https://", "import("):
        assert forbidden not in source, forbidden
