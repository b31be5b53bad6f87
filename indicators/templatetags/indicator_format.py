"""Template filters for indicator values: decimals without trailing zeros or exponents."""

from django import template
from django.utils.html import format_html

from indicators.units import plain_number, unit_suffix, with_unit

register = template.Library()


@register.filter
def plain(value):
    """3.0900 → "3.09", 100.0000 → "100" (never "1E+2"); empty for None."""
    return plain_number(value)


@register.filter(name="with_unit")
def with_unit_filter(value, unit):
    """{{ indicator.target|with_unit:indicator.unit }} → "95%", "8/10万" (indicators.services.with_unit)."""
    return with_unit(value, unit)


@register.filter(name="unit_suffix")
def unit_suffix_filter(unit):
    """The unit after an input box or a bare number: "1/10万" → "/10万" (indicators.units)."""
    return unit_suffix(unit)


@register.simple_tag
def sparkline(points, width=120, height=28):
    """An inline SVG polyline of (date, value) points: a reading trend at a glance, drawn
    on the server so it needs no script."""
    values = [float(value) for _day, value in points]
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 4) / (len(values) - 1)
    coords = " ".join(
        f"{2 + i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in enumerate(values)
    )
    return format_html(
        '<svg class="sparkline" width="{}" height="{}" viewBox="0 0 {} {}" aria-hidden="true">'
        '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{}"/></svg>',
        width,
        height,
        width,
        height,
        coords,
    )
