from django import template

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    """0.4237 → 42.4 %; None (nothing to divide by) → —."""
    return "—" if value is None else f"{value:.1%}"


@register.filter
def duration(seconds: int | None) -> str:
    seconds = seconds or 0
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 60} min {seconds % 60:02d} s"
