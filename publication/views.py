"""The publication pages, under /public/ (namespace `publication`): the public list of
published plans and each plan's public page (no sign-in, served from the published
snapshot's JSON, cached by snapshot, with ETag and Last-Modified); and, signed in, the
admins' settings per plan (on/off, fields, schedule, build, preview, publish, the static
bundle) and the supervision office's public narratives. Thin: publication.services
decides and checks; a refused step comes back with the reason, changing nothing."""

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import content_disposition_header, http_date
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from audit.choices import EventType
from audit.services import record
from core.permissions import role_required
from core.roles import Role
from core.scope import get_visible_or_404
from publication import pages, services
from publication.choices import PublicField, SnapshotState
from publication.forms import NarrativeForm, SettingForm
from publication.models import PublicNarrative, PublicSnapshot
from tasks.models import Task
from workplans.models import Plan

# How long browsers and proxies may keep a public page before asking again (an ETag
# answers that question with a 304), and how long the rendered page stays in the cache
# (its key names the snapshot, so a new publication is a new key at once).
PUBLIC_MAX_AGE = 300
PAGE_CACHE_SECONDS = 24 * 3600
SNAPSHOTS_SHOWN = 10

OFFICE = (Role.ADMIN, Role.SUPERVISOR)


def _public(response, *, max_age=PUBLIC_MAX_AGE):
    patch_cache_control(response, public=True, max_age=max_age)
    # The language comes from the language cookie (config.middleware): one page per language.
    patch_vary_headers(response, ("Cookie",))
    return response


# --- The public pages (no sign-in) -------------------------------------------------------


@require_safe
def index(request):
    """The published plans: one query, whatever their number."""
    published = (
        PublicSnapshot.objects.filter(state=SnapshotState.PUBLISHED, plan__public_setting__enabled=True)
        .order_by("-plan__year", "plan__title")
        .values("plan_id", "plan__title", "published_at")
    )
    plans = [
        {
            "title": row["plan__title"],
            "published_at": row["published_at"],
            "href": reverse("publication:plan_page", args=[row["plan_id"]]),
        }
        for row in published
    ]
    context = {"plans": plans, "lang": pages.html_lang(), "css_href": static(pages.CSS_PATH)}
    return _public(HttpResponse(render_to_string("publication/public_index.html", context)))


def _page_key(snapshot, language: str) -> str:
    stamp = snapshot.published_at.timestamp()
    return f"publication:page:{services.DATA_FORMAT}:{snapshot.pk}:{stamp:.6f}:{language}"


@require_safe
def plan_page(request, pk):
    """A plan's public page: 404 unless published and on (and nothing said of why). One
    query when the page is cached, two when it is rendered, whatever the task count."""
    snapshot = services.published_snapshot(pk)
    if snapshot is None:
        raise Http404
    language = get_language() or ""
    key = _page_key(snapshot, language)
    etag = f'"{snapshot.pk}-{snapshot.published_at.timestamp():.6f}-{language}"'
    last_modified = int(snapshot.published_at.timestamp())
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        return _public(not_modified)
    html = cache.get(key)
    if html is None:
        snapshot.data = PublicSnapshot.objects.values_list("data", flat=True).get(pk=snapshot.pk)
        html = pages.render_public_page(snapshot, index_href=reverse("publication:index"))
        cache.set(key, html, PAGE_CACHE_SECONDS)
    response = HttpResponse(html)
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    return _public(response)


# --- The settings (admins; the supervision office reads) ---------------------------------


def _plans(request):
    return Plan.objects.visible_to(request.user)


@role_required(*OFFICE)
@require_safe
def manage(request):
    """The plans the user sees, with whether each is public and since when."""
    plans = list(_plans(request).select_related("public_setting").order_by("-year", "title"))
    published = dict(
        PublicSnapshot.objects.filter(plan__in=[p.pk for p in plans], state=SnapshotState.PUBLISHED).values_list(
            "plan_id", "published_at"
        )
    )
    rows = [
        {"plan": plan, "setting": services.setting_of(plan), "published_at": published.get(plan.pk)} for plan in plans
    ]
    return render(request, "publication/manage.html", {"rows": rows, "public_index": reverse("publication:index")})


def _settings_page(request, plan, *, form=None, status=200):
    setting = services.setting_of(plan)
    if form is None and services.may_configure(request.user):
        form = SettingForm(
            initial={
                "enabled": setting.enabled,
                "public_fields": setting.fields,
                "schedule": setting.schedule,
                "version": setting.version,
            }
        )
    snapshots = list(
        PublicSnapshot.objects.filter(plan=plan)
        .defer("data")
        .select_related("built_by", "published_by")[:SNAPSHOTS_SHOWN]
    )
    context = {
        "plan": plan,
        "setting": setting,
        "field_labels": [PublicField(value).label for value in setting.fields if value in PublicField.values],
        "form": form,
        "snapshots": snapshots,
        "published": next((s for s in snapshots if s.state == SnapshotState.PUBLISHED), None),
        "can_build": services.may_build(request.user) and setting.enabled,
        "public_url": request.build_absolute_uri(reverse("publication:plan_page", args=[plan.pk])),
    }
    return render(request, "publication/plan_settings.html", context, status=status)


@role_required(*OFFICE)
@require_http_methods(["GET", "HEAD", "POST"])
def plan_settings(request, pk):
    plan = get_visible_or_404(request, _plans(request).select_related("public_setting"), pk=pk)
    if request.method != "POST":
        return _settings_page(request, plan)
    if not services.may_configure(request.user):
        raise PermissionDenied
    form = SettingForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, plan, form=form, status=400)
    try:
        data = form.cleaned_data
        services.save_settings(
            plan.pk,
            request.user,
            enabled=data["enabled"],
            fields=data["public_fields"],
            schedule=data["schedule"],
            version=data["version"],
        )
    except services.StaleEdit as stale:
        form.add_error(None, stale)
        return _settings_page(request, plan, form=form, status=409)
    except ValidationError as error:
        _add_errors(form, error)
        return _settings_page(request, plan, form=form, status=400)
    messages.success(request, _("公开设置已保存。"))
    return redirect("publication:plan_settings", pk=plan.pk)


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            field = {"fields": "public_fields"}.get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@role_required(*OFFICE)
@require_POST
def snapshot_build(request, pk):
    plan = get_visible_or_404(request, _plans(request), pk=pk)
    try:
        snapshot = services.build_snapshot(plan.pk, request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("publication:plan_settings", pk=plan.pk)
    return redirect("publication:snapshot_preview", pk=snapshot.pk)


def _load_snapshot(request, pk) -> PublicSnapshot:
    visible = PublicSnapshot.objects.filter(plan__in=_plans(request).values("pk")).select_related(
        "plan__public_setting"
    )
    return get_visible_or_404(request, visible, pk=pk)


def _preview(request, snapshot, *, alert="", status=200):
    setting = services.setting_of(snapshot.plan)
    stale = snapshot.settings_version != setting.version
    context = {
        **pages.page_context(snapshot, css_href=static(pages.CSS_PATH)),
        "snapshot": snapshot,
        "stale": stale,
        "alert": alert,
        "can_publish": services.may_publish(request.user) and snapshot.state == SnapshotState.DRAFT and not stale,
    }
    return render(request, "publication/preview.html", context, status=status)


@role_required(*OFFICE)
@require_safe
def snapshot_preview(request, pk):
    """Exactly the page the public would see from this snapshot, with a publish button."""
    return _preview(request, _load_snapshot(request, pk))


@role_required(Role.ADMIN)
@require_POST
def snapshot_publish(request, pk):
    snapshot = _load_snapshot(request, pk)
    try:
        services.publish(snapshot.pk, request.user)
    except ValidationError as error:
        return _preview(request, _load_snapshot(request, pk), alert=" ".join(error.messages), status=400)
    messages.success(request, _("已发布，公众现在可以看到新的公开页面。"))
    return redirect("publication:plan_settings", pk=snapshot.plan_id)


@role_required(*OFFICE)
@require_safe
def bundle(request, pk):
    """The published page as a static .zip (index.html and its style sheet)."""
    plan = get_visible_or_404(request, _plans(request), pk=pk)
    snapshot = PublicSnapshot.objects.filter(plan=plan, state=SnapshotState.PUBLISHED).first()
    if snapshot is None:
        raise Http404(_("该计划尚无已发布的公开内容。"))
    content = pages.bundle(snapshot)
    record(EventType.EXPORT, user=request.user, obj=snapshot, detail={"kind": "public_bundle", "bytes": len(content)})
    response = HttpResponse(content, content_type="application/zip")
    name = _("%(year)s年工作要点公开页面.zip") % {"year": plan.year}
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


# --- Public narratives (the supervision office writes; admins read) ----------------------


@role_required(*OFFICE)
@require_safe
def narratives(request, pk):
    plan = get_visible_or_404(request, _plans(request), pk=pk)
    tasks = list(
        Task.objects.visible_to(request.user)
        .filter(plan=plan)
        .select_related("section", "public_narrative")
        .order_by("section__order", "section_id", "order", "pk")
    )
    context = {"plan": plan, "tasks": tasks, "can_write": services.may_write_narratives(request.user)}
    return render(request, "publication/narratives.html", context)


def _narrative_page(request, task, form=None, status=200):
    try:
        narrative = task.public_narrative
    except PublicNarrative.DoesNotExist:
        narrative = PublicNarrative(task=task)
    if form is None:
        form = NarrativeForm(initial={"text": narrative.text, "version": narrative.version})
    return render(
        request, "publication/narrative_edit.html", {"task": task, "narrative": narrative, "form": form}, status=status
    )


@role_required(Role.SUPERVISOR)
@require_http_methods(["GET", "HEAD", "POST"])
def narrative_edit(request, pk):
    visible = Task.objects.visible_to(request.user).select_related("plan", "section", "public_narrative")
    task = get_visible_or_404(request, visible, pk=pk)
    if request.method != "POST":
        return _narrative_page(request, task)
    form = NarrativeForm(request.POST)
    if not form.is_valid():
        return _narrative_page(request, task, form, status=400)
    try:
        services.save_narrative(task.pk, request.user, **form.cleaned_data)
    except services.StaleEdit as stale:
        form.add_error(None, stale)
        return _narrative_page(request, task, form, status=409)
    except ValidationError as error:
        _add_errors(form, error)
        return _narrative_page(request, task, form, status=400)
    messages.success(request, _("公开说明已保存。发布新的快照后公众可见。"))
    return redirect("publication:narratives", pk=task.plan_id)


urlpatterns = [
    path("", index, name="index"),
    path("<int:pk>/", plan_page, name="plan_page"),
    path("manage/", manage, name="manage"),
    path("manage/<int:pk>/", plan_settings, name="plan_settings"),
    path("manage/<int:pk>/build/", snapshot_build, name="snapshot_build"),
    path("manage/<int:pk>/bundle/", bundle, name="bundle"),
    path("manage/<int:pk>/narratives/", narratives, name="narratives"),
    path("manage/snapshots/<int:pk>/", snapshot_preview, name="snapshot_preview"),
    path("manage/snapshots/<int:pk>/publish/", snapshot_publish, name="snapshot_publish"),
    path("manage/tasks/<int:pk>/narrative/", narrative_edit, name="narrative_edit"),
]
