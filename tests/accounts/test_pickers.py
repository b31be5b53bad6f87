"""The agency picker: tree order with indentation, search words from names and aliases,
inactive agencies left out, and one query for the whole tree."""

import re

import pytest

from accounts.models import Agency, AgencyAlias
from accounts.pickers import INDENT, AgencyChoiceField, AgencyMultipleChoiceField, agency_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    city = Agency.objects.create(name="甲市卫生健康委员会", short_name="市卫健委", order=1)
    bureau = Agency.objects.create(name="医政处", parent=city, order=2)
    office = Agency.objects.create(name="医政处质控科", parent=bureau, order=1)
    other = Agency.objects.create(name="甲市医疗保障局", order=2)
    retired = Agency.objects.create(name="已撤销的办公室", parent=city, is_active=False)
    AgencyAlias.objects.create(agency=bureau, name="醫政處")
    return {"city": city, "bureau": bureau, "office": office, "other": other, "retired": retired}


def test_tree_lists_each_agency_after_its_parent_with_its_depth(tree, django_assert_num_queries):
    with django_assert_num_queries(2):  # the agencies, and their aliases
        rows = [(agency.name, depth) for agency, depth in agency_tree()]
    assert rows == [("甲市卫生健康委员会", 0), ("医政处", 1), ("医政处质控科", 2), ("甲市医疗保障局", 0)]


def test_inactive_agencies_are_offered_only_when_asked(tree):
    assert "已撤销的办公室" not in [agency.name for agency, _depth in agency_tree()]
    assert "已撤销的办公室" in [agency.name for agency, _depth in agency_tree(active_only=False)]


def test_the_select_is_indented_and_carries_the_search_words(tree):
    html = AgencyChoiceField().widget.render("owner", tree["office"].pk)
    assert "data-agency-picker" in html
    assert f">{INDENT * 2}医政处质控科</option>" in html
    # The bureau is found by its traditional-script alias, the city by its short name.
    assert 'data-search="医政处 醫政處"' in html
    assert 'data-search="甲市卫生健康委员会 市卫健委"' in html
    chosen = re.search(r"<option [^>]*selected[^>]*>([^<]*)</option>", html)
    assert chosen is not None and chosen.group(1) == INDENT * 2 + "医政处质控科"


def test_a_retired_agency_cannot_be_chosen(tree):
    field = AgencyMultipleChoiceField()
    assert list(field.clean([tree["bureau"].pk, tree["other"].pk])) == [tree["bureau"], tree["other"]]
    with pytest.raises(Exception, match="有效"):
        field.clean([tree["retired"].pk])


def test_a_form_declaring_a_picker_reads_the_tree_only_to_render_it(tree, django_assert_num_queries):
    from django import forms

    with django_assert_num_queries(0):

        class OwnerForm(forms.Form):
            owner = AgencyChoiceField(label="牵头单位")

        form = OwnerForm({"owner": str(tree["bureau"].pk)})
    with django_assert_num_queries(1):  # the chosen agency, checked against the queryset
        assert form.is_valid() and form.cleaned_data["owner"] == tree["bureau"]
    with django_assert_num_queries(2):  # the tree and its aliases
        html = str(form["owner"])
    assert f">{INDENT}医政处</option>" in html and "data-search" in html
