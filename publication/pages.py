"""The public page made from a snapshot's data alone: the rows as the template shows them
(labels in the reader's language), the page's HTML for the site, the preview and the
static bundle, and the bundle itself (a .zip of index.html and its style sheet)."""

import datetime
import io
import zipfile

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from publication.choices import PublicField
from tasks.choices import TaskStatus
from tasks.risk import Risk

CSS_PATH = "publication/public.css"
BUNDLE_CSS = "publication.css"
# What each colour is called beside its mark, so colour is never the only sign.
COLOUR_ORDER = (Risk.RED, Risk.AMBER, Risk.GREEN, Risk.DONE)


def html_lang() -> str:
    """The page's language as BCP 47 writes it (zh-Hans, en)."""
    code = get_language() or "zh-hans"
    return "zh-Hans" if code.lower() in ("zh-hans", "zh-cn", "zh") else code


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def present(data: dict) -> dict:
    """The snapshot's data with what the template shows: labels for status and colour,
    dates as dates, and the count of tasks by colour."""
    fields = set(data.get("fields", ()))
    counts = dict.fromkeys(COLOUR_ORDER, 0)
    sections = []
    total = 0
    for section in data.get("sections", ()):
        rows = []
        for task in section.get("tasks", ()):
            row = dict(task)
            if "due_on" in row:
                row["due_on"] = datetime.date.fromisoformat(row["due_on"])
            if "status" in row:
                row["status_label"] = _label(TaskStatus, row["status"])
            if "colour" in row:
                row["colour_label"] = _label(Risk, row["colour"])
                if row["colour"] in counts:
                    counts[row["colour"]] += 1
            rows.append(row)
        total += len(rows)
        sections.append({"title": section.get("title", ""), "tasks": rows})
    return {
        "plan": data.get("plan", {}),
        "as_of": datetime.date.fromisoformat(data["as_of"]) if data.get("as_of") else None,
        "sections": sections,
        "total": total,
        "show": {field: field in fields for field in PublicField.values},
        "colour_counts": [(colour.value, colour.label, counts[colour]) for colour in COLOUR_ORDER]
        if PublicField.STATUS in fields
        else [],
    }


def page_context(snapshot, *, css_href: str, index_href: str = "", published_at=None) -> dict:
    return {
        **present(snapshot.data),
        "lang": html_lang(),
        "css_href": css_href,
        "index_href": index_href,
        "published_at": published_at if published_at is not None else snapshot.published_at,
    }


def render_public_page(snapshot, *, index_href: str) -> str:
    """The plan's public page as the site serves it (no request: no session, no cookies)."""
    context = page_context(snapshot, css_href=static(CSS_PATH), index_href=index_href)
    return render_to_string("publication/public_plan.html", context)


def bundle(snapshot) -> bytes:
    """A .zip for a portal that publishes by itself: index.html, linking its style sheet by
    a relative path, and the style sheet; nothing else, nothing from the network."""
    context = page_context(snapshot, css_href=BUNDLE_CSS)
    html = render_to_string("publication/public_plan.html", {**context, "bundle": True})
    css_file = finders.find(CSS_PATH)
    if not css_file:
        raise FileNotFoundError(_("找不到公开页面的样式文件。"))
    with open(css_file, "rb") as handle:
        css = handle.read()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", html)
        archive.writestr(BUNDLE_CSS, css)
    return buffer.getvalue()
