"""The agency picker: every form that chooses agencies (an owner of a task, a parent in the
tree, the target of a merge, a mapping in the import preview) offers them in tree order,
indented, and searchable by full name, short name and alias (static/js/agency_picker.js
adds the search box; without script the select still works). Two queries for the tree
(agencies, aliases), and only when a select is rendered."""

from django import forms
from django.db.models import Prefetch

from accounts.models import Agency, AgencyAlias

INDENT = "\u3000"  # an ideographic space per level


def agency_tree(*, active_only: bool = True) -> list[tuple[Agency, int]]:
    """(agency, depth) in tree order: each agency after its parent, siblings by order and
    name. An agency whose parent is filtered out (inactive) is shown at the top level."""
    agencies = Agency.objects.prefetch_related(Prefetch("aliases", queryset=AgencyAlias.objects.order_by("name")))
    if active_only:
        agencies = agencies.filter(is_active=True)
    rows = list(agencies.order_by("order", "name"))
    present = {agency.pk for agency in rows}
    children: dict[int | None, list[Agency]] = {}
    for agency in rows:
        parent = agency.parent_id if agency.parent_id in present else None
        children.setdefault(parent, []).append(agency)
    ordered: list[tuple[Agency, int]] = []
    stack = [(agency, 0) for agency in reversed(children.get(None, []))]
    while stack:
        agency, depth = stack.pop()
        ordered.append((agency, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(agency.pk, [])))
    return ordered


def search_words(agency: Agency) -> str:
    """What the search box matches an agency by: names and aliases (prefetched)."""
    words = [agency.name, agency.short_name, *(alias.name for alias in agency.aliases.all())]
    return " ".join(word for word in words if word)


class AgencyPickerMixin:
    """Renders agency options indented by depth, each with its search words."""

    picker_attrs = {"data-agency-picker": "1"}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)  # type: ignore[misc]
        words = getattr(self, "search", {}).get(str(value))
        if words:
            option["attrs"]["data-search"] = words
        return option


class AgencySelect(AgencyPickerMixin, forms.Select):
    def __init__(self, attrs=None, choices=()):
        super().__init__({**self.picker_attrs, **(attrs or {})}, choices)


class AgencySelectMultiple(AgencyPickerMixin, forms.SelectMultiple):
    def __init__(self, attrs=None, choices=()):
        super().__init__({**self.picker_attrs, **(attrs or {})}, choices)


def _tree_choices(active_only: bool) -> tuple[list[tuple[int, str]], dict[str, str]]:
    tree = agency_tree(active_only=active_only)
    choices = [(agency.pk, INDENT * depth + agency.name) for agency, depth in tree]
    return choices, {str(agency.pk): search_words(agency) for agency, _depth in tree}


class _TreeChoices:
    """The choices of a picker field: the tree, on the field and on each copy of it a bound
    form makes (ModelChoiceField's copy resets them to the flat queryset). Validation goes
    through the field's queryset as usual."""

    def __init__(self, *, active_only: bool = True, **kwargs):
        self.active_only = active_only
        queryset = Agency.objects.filter(is_active=True) if active_only else Agency.objects.all()
        super().__init__(queryset=queryset, **kwargs)  # type: ignore[call-arg]
        self._use_tree()

    def _use_tree(self) -> None:
        """Offer the tree, read when the select is rendered (a form that only validates,
        or a field declared on a form class, reads nothing)."""
        empty_label = getattr(self, "empty_label", None)
        blank = [("", empty_label)] if empty_label is not None else []
        widget = self.widget  # type: ignore[attr-defined]
        active_only = self.active_only

        read: list = []

        def tree() -> list:
            # Read once per field (rendering asks twice: the options, and whether the
            # first one is blank).
            if not read:
                choices, widget.search = _tree_choices(active_only)
                read.extend(blank + choices)
            return read

        widget.choices = tree

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)  # type: ignore[misc]
        result._use_tree()
        return result


class AgencyChoiceField(_TreeChoices, forms.ModelChoiceField):
    """One agency, picked from the tree with search."""

    widget = AgencySelect


class AgencyMultipleChoiceField(_TreeChoices, forms.ModelMultipleChoiceField):
    """Several agencies, picked from the tree with search."""

    widget = AgencySelectMultiple
