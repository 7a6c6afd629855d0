"""Inline SVG sparklines, drawn on the server: no chart library, no JavaScript."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def sparkline(points: list[int | None], width: int = 120, height: int = 28) -> SafeString:
    """A line of scores 0-100, one point a day; days without a score break the line. The
    bands' thresholds are drawn faintly so a glance says which band it moved through."""
    if not points or all(p is None for p in points):
        return mark_safe('<span class="muted sparkline-empty">no trend yet</span>')
    step = width / max(1, len(points) - 1)

    def y(score: float) -> float:
        return round(height - 1 - (height - 2) * score / 100, 1)

    runs: list[list[tuple[float, float]]] = [[]]
    for n, score in enumerate(points):
        if score is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((round(n * step, 1), y(score)))
    paths = "".join(
        '<polyline points="{}" fill="none" stroke="currentColor" stroke-width="1.5"/>'.format(
            " ".join(f"{x},{y}" for x, y in run)
        )
        if len(run) > 1
        else f'<circle cx="{run[0][0]}" cy="{run[0][1]}" r="1.5" fill="currentColor"/>'
        for run in runs
        if run
    )
    known = [p for p in points if p is not None]
    label = f"Health over {len(points)} days: from {known[0]} to {known[-1]}"
    guides = "".join(
        f'<line x1="0" x2="{width}" y1="{y(level)}" y2="{y(level)}" class="sparkline-guide"/>'
        for level in (50, 70)
    )
    return mark_safe(  # noqa: S308 - built from numbers only
        f'<svg class="sparkline" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{label}"><title>{label}</title>'
        f"{guides}{paths}</svg>"
    )


@register.filter
def percent(value: float) -> int:
    return round(value * 100)
