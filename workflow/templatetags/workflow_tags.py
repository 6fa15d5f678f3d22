from __future__ import annotations

from django import template

from workflow import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def open_work_item_count(context) -> int:
    request = context.get("request")
    return selectors.open_work_item_count(request.user) if request is not None else 0
