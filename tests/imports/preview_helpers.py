"""What the preview tests share: a parsed import of a plan with many owner names, and the
preview's posts as a browser sends them."""

from django.urls import reverse

from imports.forms import group_field_name, mapping_field_name
from imports.models import PlanImport
from tests.imports.test_pages import PLAN_TEXT, upload


def district_names(count: int) -> list[str]:
    """`count` invented owner names the parser reads as agencies and nothing matches."""
    stems, branches = "甲乙丙丁戊己庚辛壬癸", "子丑寅卯辰巳"
    return [stem + branch + "区卫生健康局" for branch in branches for stem in stems][:count]


def many_owner_text(names, *, ownerless=1, extra_text=""):
    """PLAN_TEXT plus one task per owner name (each naming it alone) and `ownerless` tasks
    that name no owner."""
    items = "".join(f"{n}.开展第{n}项专项工作。年内完成检查。（{name}）\n" for n, name in enumerate(names, start=5))
    start = 5 + len(names)
    items += "".join(f"{n}.加强第{n}项宣传引导。{extra_text}\n" for n in range(start, start + ownerless))
    end = "\n测试市卫生健康委员会\n2026年2月10日"
    return PLAN_TEXT.replace(end, "\n" + items + end)


def parse(client, capture, text, name="要点.txt"):
    upload(client, capture, text, name=name)
    return PlanImport.objects.latest("created_at")


def form_data(mapping=None, *, groups=None, decisions=None, action="save", **meta):
    data = {
        "plan-title": "2026年测试市卫生健康工作要点",
        "plan-year": "2026",
        "plan-issuer": "测试市卫生健康委员会",
        "plan-doc_number": "测卫发〔2026〕5号",
        "plan-issued_on": "2026-02-10",
        "action": action,
    }
    data.update({f"plan-{k}": v for k, v in meta.items()})
    data.update({mapping_field_name(name): str(value) for name, value in (mapping or {}).items()})
    for name, ids in (groups or {}).items():
        data[group_field_name(name)] = [str(pk) for pk in ids]
    data.update({f"decision-{key}": value for key, value in (decisions or {}).items()})
    return data


def preview_url(plan_import):
    return reverse("imports:preview", args=[plan_import.pk])


def autosave_url(plan_import):
    return reverse("imports:autosave", args=[plan_import.pk])
