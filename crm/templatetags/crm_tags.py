"""Template helpers: masked personal values, staff names, a label's colon."""

from django import template

from crm.personal_data import masked_value, shown_value
from crm.templatetags.formatting import labelled

register = template.Library()


@register.filter
def masked(instance, field_name: str) -> str:
    """``{{ customer|masked:"phone" }}``: the value as the personal-data registry masks it."""
    return masked_value(instance, field_name)


@register.filter
def shown(value) -> str:
    """``{{ customer.name|shown }}``: a clear value, or "[erased]" once it was shredded."""
    return shown_value(value)


@register.filter
def person(user) -> str:
    """``{{ move.responsible|person }}``: a staff member by his name (孙军), else his login;
    empty for no one (so ``|default:"—"`` applies)."""
    if not user:
        return ""
    return user.get_full_name() or user.get_username()


@register.simple_tag
def colon() -> str:
    """``{% translate "Owner" %}{% colon %} …``: the colon after a label as the language
    writes it (``:`` with a space in English, the full-width ``：`` in Chinese)."""
    return labelled("", "")
