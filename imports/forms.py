"""Forms of the plan import: upload, plan details, owner mapping, one task with its rows."""

import hashlib
import re
from decimal import Decimal

from django import forms
from django.conf import settings
from django.forms import formset_factory
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.pickers import INDENT, AgencyChoiceField, AgencyMultipleChoiceField, search_words
from imports.services import (
    ALLOWED_EXTENSIONS,
    CREATE_AGENCY,
    CREATE_UNDER,
    DOC_NUMBER_MAX,
    SKIP_AGENCY,
    TITLE_MAX,
    create_parent,
    group_ids,
)
from imports.services.common import SECTION_TITLE_MAX
from imports.services.gaps import CHOICES as DECISION_CHOICES
from imports.services.gaps import LABELS as DECISION_LABELS
from imports.services.gaps import OVERWRITE, clean_decisions
from indicators.choices import Comparator
from workplans.models import MAX_YEAR, MIN_YEAR, Plan


def upload_max_bytes() -> int:
    return settings.PLAN_UPLOAD_MAX_BYTES


class PlanUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("计划文件"),
        help_text=gettext_lazy(
            "支持 txt、htm/html、Word（docx、doc）、WPS、PDF（含扫描件）、OFD、Excel 任务分解表（xlsx、csv）。"
            "扫描件需识别文字，用时较长。"
        ),
        error_messages={
            "required": gettext_lazy("请选择要导入的计划文件。"),
            "empty": gettext_lazy("上传的文件是空的。"),
            "invalid": gettext_lazy("没有收到文件，请重新选择。"),
        },
    )
    replaces = forms.ModelChoiceField(
        label=gettext_lazy("作为以下计划的新版本（可选）"),
        queryset=Plan.objects.order_by("-year", "title"),
        required=False,
        empty_label=gettext_lazy("— 作为新计划导入 —"),
        help_text=gettext_lazy("选择后，确认前会先列出与该计划相比新增、删除和修改的任务。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ",".join("." + ext for ext in ALLOWED_EXTENSIONS)

    def clean_file(self):
        # The field keeps the last of several files: refuse rather than import one silently.
        if hasattr(self.files, "getlist") and len(self.files.getlist(self.add_prefix("file"))) > 1:
            raise forms.ValidationError(_("一次只能导入一个计划文件，请只选择一个文件。"))
        upload = self.cleaned_data["file"]
        name = upload.name or ""
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if ext not in ALLOWED_EXTENSIONS:
            raise forms.ValidationError(
                _("不支持“%(ext)s”格式的文件，请上传 txt、htm、html、docx、doc、wps、pdf、ofd、xlsx 或 csv 文件。"),
                params={"ext": ext or _("无扩展名")},
            )
        limit = upload_max_bytes()
        if upload.size > limit:
            raise forms.ValidationError(
                _("文件过大（%(size).1f MB），上限为 %(limit).0f MB。"),
                params={"size": upload.size / 1048576, "limit": limit / 1048576},
            )
        if upload.size == 0:
            raise forms.ValidationError(_("上传的文件是空的。"))
        return upload


class PlanMetaForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("标题"),
        max_length=TITLE_MAX,
        error_messages={"required": gettext_lazy("计划标题不能为空。")},
    )
    year = forms.IntegerField(
        label=gettext_lazy("年度"),
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
        error_messages={"required": gettext_lazy("请填写计划年度。"), "invalid": gettext_lazy("年度应为四位数字。")},
    )
    issuer = forms.CharField(
        label=gettext_lazy("印发单位"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("按名称、简称或别名自动对应到单位；对应不上时导入后可在计划页面指定。"),
    )
    doc_number = forms.CharField(label=gettext_lazy("文号"), max_length=DOC_NUMBER_MAX, required=False)
    issued_on = forms.DateField(
        label=gettext_lazy("印发日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": gettext_lazy("请填写有效日期，如 2026-02-18。")},
    )
    activate = forms.BooleanField(
        label=gettext_lazy("确认后立即启用（状态为“执行中”，各单位即可填报）"), required=False
    )

    @classmethod
    def initial_from(cls, plan_meta: dict) -> dict:
        return {k: plan_meta.get(k) for k in ("title", "year", "issuer", "doc_number", "issued_on")}

    def plan_meta(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"].strip(),
            "year": data["year"],
            "issuer": data["issuer"].strip() or None,
            "doc_number": data["doc_number"].strip() or None,
            "issued_on": data["issued_on"].isoformat() if data["issued_on"] else None,
        }


class SectionTitlesForm(forms.Form):
    """The title of every section of the parse, editable in the preview (labels stay: they
    are what tasks and re-imports refer to)."""

    prefix = "section"

    def __init__(self, *args, sections, **kwargs):
        super().__init__(*args, **kwargs)
        self.sections = sections
        for index, section in enumerate(sections):
            self.fields[str(index)] = forms.CharField(
                label=" / ".join(section["path"]),
                max_length=SECTION_TITLE_MAX,
                required=False,
                initial=section.get("title") or "",
                # The task list sits outside the preview <form>; the attribute binds it.
                widget=forms.TextInput(attrs={"form": "preview-form", "class": "section-title"}),
                error_messages={"max_length": _("部分标题不能超过 %(limit)d 个字。") % {"limit": SECTION_TITLE_MAX}},
            )

    def field_for(self, path):
        for index, section in enumerate(self.sections):
            if tuple(section["path"]) == tuple(path):
                return self[str(index)]
        return None

    def edited_sections(self) -> list[dict]:
        """The sections with the posted titles; a title not posted at all stays as it was."""
        return [
            dict(section, title=self.cleaned_data[str(i)].strip()) if self.add_prefix(str(i)) in self.data else section
            for i, section in enumerate(self.sections)
        ]


def mapping_field_name(owner_name: str) -> str:
    """A field name stable across page loads, whatever the owner name contains."""
    return "map-" + hashlib.sha1(owner_name.encode("utf-8")).hexdigest()[:12]


def group_field_name(owner_name: str) -> str:
    return "group-" + mapping_field_name(owner_name)[4:]


# The select value of a generic name mapped to a group of agencies (the multi-select beside).
GROUP_CHOICE = "group"


class OwnerMappingForm(forms.Form):
    """One select per owner name: an existing agency, 新建单位 (at the top, or under a parent
    chosen with “create all unmatched under …”), 不作为责任单位, or (not yet) nothing; a generic
    name (各区, 有关部门) may also be mapped to a group of agencies. The choice applies to every
    task that names it."""

    def __init__(self, *args, names, agencies, generic=(), tree=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.names = list(names)
        self.generic = set(generic)
        ids = [str(a.pk) for a in agencies]
        choices = [("", _("— 请选择 —")), (CREATE_AGENCY, _("新建单位")), (SKIP_AGENCY, _("不作为责任单位"))]
        choices += [(pk, pk) for pk in ids] + [(CREATE_UNDER + pk, pk) for pk in ids]
        invalid = {"invalid_choice": _("所选单位不存在，请重新选择。")}
        for name in self.names:
            field_choices = choices + ([(GROUP_CHOICE, GROUP_CHOICE)] if name in self.generic else [])
            self.fields[mapping_field_name(name)] = forms.ChoiceField(
                label=name, choices=field_choices, required=False, error_messages=invalid
            )
            if name in self.generic:
                self.fields[group_field_name(name)] = forms.MultipleChoiceField(
                    label=name, choices=[(pk, pk) for pk in ids], required=False, error_messages=invalid
                )
        # Rendered once for all rows, in tree order with each agency's search words (the
        # agency picker's markup, static/js/agency_picker.js): hundreds of agencies times
        # dozens of names would be slow through the widget templates.
        tree = tree if tree is not None else [(a, 0) for a in agencies]
        self.names_by_id = {agency.pk: agency.name for agency, _depth in tree}
        self._options = format_html_join(
            "",
            '<option value="{}" data-search="{}">{}</option>',
            (
                (
                    str(a.pk),
                    # agency_tree prefetched the aliases; the matcher's agencies have none loaded
                    search_words(a) if hasattr(a, "_prefetched_objects_cache") else a.name,
                    INDENT * depth + a.name,
                )
                for a, depth in tree
            ),
        )

    def clean(self):
        data = super().clean()
        for name in self.generic & set(self.names):
            if data.get(mapping_field_name(name)) == GROUP_CHOICE and not data.get(group_field_name(name)):
                self.add_error(mapping_field_name(name), _("请选择“%(name)s”对应的一组单位。") % {"name": name})
        return data

    def mapping(self) -> dict:
        """The chosen value of every name posted with a valid field (an invalid one is left
        out, so that the others can be saved; one not posted at all is no change)."""
        out: dict = {}
        for name in self.names:
            field = mapping_field_name(name)
            if field not in self.cleaned_data or (field not in self.data and group_field_name(name) not in self.data):
                continue
            value = self.cleaned_data[field] or None
            group = [int(pk) for pk in self.cleaned_data.get(group_field_name(name)) or []]
            if group and value in (None, GROUP_CHOICE):
                out[name] = group
            elif value == GROUP_CHOICE:
                continue
            elif value in (None, CREATE_AGENCY, SKIP_AGENCY) or value.startswith(CREATE_UNDER):
                out[name] = value
            else:
                out[name] = int(value)
        return out

    def select_html(self, name: str, value, *, invalid: bool = False):
        field = mapping_field_name(name)
        group = group_ids(value)
        value = GROUP_CHOICE if group is not None else ("" if value is None else str(value))
        options = str(self._options)
        if value.isdigit():
            options = options.replace(f'<option value="{value}"', f'<option value="{value}" selected', 1)
        head = [("", _("— 请选择 —")), (CREATE_AGENCY, _("新建单位")), (SKIP_AGENCY, _("不作为责任单位"))]
        parent = create_parent(value)
        if parent is not None:
            head.append((value, _("新建到“%(parent)s”之下") % {"parent": self.names_by_id.get(parent, parent)}))
        if name in self.generic:
            head.append((GROUP_CHOICE, _("对应到一组单位（在右侧选择）")))
        head_html = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((choice, mark_safe(" selected") if value == choice else "", label) for choice, label in head),
        )
        select = format_html(
            '<select name="{}" id="id_{}" aria-label="{}" data-agency-picker="1"{}>{}{}</select>',
            field,
            field,
            _("“%(name)s”对应的单位") % {"name": name},
            mark_safe(' aria-invalid="true"') if invalid else "",
            head_html,
            mark_safe(options),
        )
        if name not in self.generic:
            return select
        chosen = set(map(str, group or []))
        group_options = str(self._options)
        for pk in chosen:
            group_options = group_options.replace(f'<option value="{pk}"', f'<option value="{pk}" selected', 1)
        return format_html(
            '{}<select name="{}" id="id_{}" multiple size="4" class="owner-group" aria-label="{}"'
            ' data-agency-picker="1">{}</select>',
            select,
            group_field_name(name),
            group_field_name(name),
            _("“%(name)s”对应的一组单位（可多选）") % {"name": name},
            mark_safe(group_options),
        )


class BulkOwnersForm(forms.Form):
    """The owners of the tasks ticked in the preview, set at once: a lead, co-owners."""

    prefix = "bulk"
    tasks = forms.TypedMultipleChoiceField(
        label=gettext_lazy("所选任务"),
        coerce=int,
        error_messages={"required": gettext_lazy("请先勾选要设置责任单位的任务。")},
    )

    def __init__(self, *args, task_count: int, **kwargs):
        super().__init__(*args, **kwargs)
        # Made here, not on the class: a picker reads the agency tree when it is made.
        self.fields["lead"] = AgencyChoiceField(
            label=_("牵头单位"),
            empty_label=_("— 选择牵头单位 —"),
            error_messages={"required": _("请选择牵头单位。")},
        )
        self.fields["co_owners"] = AgencyMultipleChoiceField(label=_("配合单位（可多选）"), required=False)
        self.fields["tasks"].choices = [(str(i), str(i)) for i in range(task_count)]
        self.fields["tasks"].error_messages["invalid_choice"] = _("所选任务不存在，请刷新页面后重试。")

    def agencies(self) -> list:
        lead = self.cleaned_data["lead"]
        return [lead, *(a for a in self.cleaned_data["co_owners"] if a.pk != lead.pk)]


class CreateUnmatchedForm(forms.Form):
    """“Create all unmatched names under …”: one step for the names nothing matched."""

    prefix = "create"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"] = AgencyChoiceField(
            label=_("上级单位"), required=False, empty_label=_("— 不设上级（顶层单位）—")
        )
        # Shown inside the preview's own form: the attribute binds it to its own.
        self.fields["parent"].widget.attrs["form"] = "create-form"


class DecisionsForm(forms.Form):
    """The admin's decision on each class of gap the confirmation lists, and (for a new
    version of a plan) whether values set by hand are overwritten."""

    prefix = "decision"

    def __init__(self, *args, updates_plan: bool, **kwargs):
        super().__init__(*args, **kwargs)
        # A field for every class, present or not: a posted decision is kept even when the
        # class appears only after the change posted with it (the page shows the present ones).
        for key, choices in DECISION_CHOICES.items():
            self.fields[key] = forms.ChoiceField(
                label=DECISION_LABELS[key],
                choices=choices,
                required=False,
                widget=forms.RadioSelect,
                error_messages={"invalid_choice": _("请选择列出的处理方式。")},
            )
        if updates_plan:
            self.fields[OVERWRITE] = forms.BooleanField(
                label=gettext_lazy("覆盖手工设定的值"),
                required=False,
                help_text=gettext_lazy(
                    "默认保留管理员在计划页面手工设定的责任单位、责任人和完成时限；勾选后按新版本文件改写"
                    "（责任人清空，完成时限改为年底）。"
                ),
            )

    def decisions(self) -> dict:
        data = {key: value for key, value in self.cleaned_data.items() if value}
        out = clean_decisions(data)
        if OVERWRITE not in self.fields:
            out.pop(OVERWRITE)
        return out


_OWNER_SPLIT = re.compile(r"[、,，;；\n]+")


class TaskEditForm(forms.Form):
    section = forms.TypedChoiceField(label=gettext_lazy("所属部分"), coerce=int)
    number = forms.CharField(
        label=gettext_lazy("序号"), max_length=20, required=False, help_text=gettext_lazy("无编号的事项留空。")
    )
    heading = forms.CharField(
        label=gettext_lazy("任务摘要"), max_length=500, error_messages={"required": gettext_lazy("任务摘要不能为空。")}
    )
    text = forms.CharField(label=gettext_lazy("任务全文"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    owners = forms.CharField(
        label=gettext_lazy("计划原文中的责任单位名称"),
        required=False,
        max_length=1000,
        help_text=gettext_lazy(
            "从单位树选了牵头单位时以所选为准；否则按这里的名称（多个用“、”分隔，第一个为牵头单位），"
            "名称在预览页的“责任单位对应”中对应到单位。"
        ),
    )
    delete = forms.BooleanField(label=gettext_lazy("删除此任务（不导入）"), required=False)

    def __init__(self, *args, section_paths, **kwargs):
        super().__init__(*args, **kwargs)
        self.section_paths = section_paths
        # The owners picked from the agency tree, shown before the names as written.
        pickers = {
            "lead": AgencyChoiceField(label=_("牵头单位"), required=False, empty_label=_("— 不改（按下面的名称）—")),
            "co_owners": AgencyMultipleChoiceField(label=_("配合单位（可多选）"), required=False),
        }
        self.fields = {
            **{k: v for k, v in self.fields.items() if k != "owners" and k != "delete"},
            **pickers,
            "owners": self.fields["owners"],
            "delete": self.fields["delete"],
        }
        self.fields["section"].choices = [
            (i, " / ".join(path) + (f"  {title}" if title else "") if path else _("（不属于任何部分）"))
            for i, (path, title) in enumerate(section_paths)
        ]

    def picked(self) -> list | None:
        """The owners picked from the tree (lead first), or None when none was picked."""
        lead = self.cleaned_data.get("lead")
        if lead is None:
            return None
        return [lead, *(a for a in self.cleaned_data.get("co_owners") or [] if a.pk != lead.pk)]

    def clean(self):
        data = super().clean()
        if data.get("co_owners") and data.get("lead") is None:
            self.add_error("lead", _("选了配合单位时，请同时选择牵头单位。"))
        return data

    def clean_owners(self):
        names = []
        for part in _OWNER_SPLIT.split(self.cleaned_data["owners"]):
            part = part.strip()
            if part and part not in names:
                if len(part) > 100:
                    raise forms.ValidationError(_("单位名称“%(name)s…”过长。"), params={"name": part[:20]})
                names.append(part)
        return names


class MilestoneForm(forms.Form):
    due = forms.DateField(
        label=gettext_lazy("节点日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": gettext_lazy("请填写节点日期。"), "invalid": gettext_lazy("请填写有效日期。")},
    )
    text = forms.CharField(
        label=gettext_lazy("节点内容"), max_length=500, error_messages={"required": gettext_lazy("请填写节点内容。")}
    )


class IndicatorForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("指标名称"), max_length=200, error_messages={"required": gettext_lazy("请填写指标名称。")}
    )
    # The initial value matters: an untouched blank row posts it, and only a value equal to
    # the initial one lets the formset see that row as unchanged (and skip it).
    comparator = forms.ChoiceField(
        label=gettext_lazy("比较方式"), choices=Comparator.choices, initial=Comparator.AT_LEAST
    )
    target = forms.DecimalField(
        label=gettext_lazy("目标值"),
        max_digits=14,
        decimal_places=4,
        error_messages={
            "required": gettext_lazy("请填写目标值。"),
            "invalid": gettext_lazy("目标值应为数字。"),
            "max_digits": gettext_lazy("目标值位数过多。"),
            "max_decimal_places": gettext_lazy("目标值最多保留4位小数。"),
            "max_whole_digits": gettext_lazy("目标值过大。"),
        },
    )
    unit = forms.CharField(label=gettext_lazy("单位"), max_length=20, required=False)
    due = forms.DateField(
        label=gettext_lazy("目标日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": gettext_lazy("请填写有效日期。")},
    )


MilestoneFormSet = formset_factory(MilestoneForm, extra=1, can_delete=True)
IndicatorFormSet = formset_factory(IndicatorForm, extra=1, can_delete=True)


def _json_number(value: Decimal):
    return int(value) if value == value.to_integral_value() else float(value)


def rows_from(formset, kind: str) -> list[dict]:
    """The rows a milestone or indicator formset keeps, in the document's shape."""
    rows = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None)
        if not data or data.get("DELETE"):
            continue
        if kind == "milestones":
            rows.append({"due": data["due"].isoformat(), "text": data["text"].strip()})
        else:
            rows.append(
                {
                    "name": data["name"].strip(),
                    "comparator": data["comparator"],
                    "target": _json_number(data["target"]),
                    "unit": data["unit"].strip(),
                    "due": data["due"].isoformat() if data["due"] else None,
                }
            )
    return rows
