"""Template filters for scores: points as people write them (assessment.rules.points_text)."""

from django import template

from assessment.rules import points_text

register = template.Library()


@register.filter(name="points")
def points_filter(value):
    """{{ standing.points|points }} → "-22", "0.5", "3" (never "-22.00")."""
    return points_text(value)
