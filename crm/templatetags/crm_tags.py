"""Template helpers: masked personal values."""

from django import template

from crm.personal_data import masked_value

register = template.Library()


@register.filter
def masked(instance, field_name: str) -> str:
    """``{{ customer|masked:"phone" }}``: the value as the personal-data registry masks it."""
    return masked_value(instance, field_name)
