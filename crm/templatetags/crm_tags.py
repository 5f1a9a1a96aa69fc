"""Template helpers: masked personal values."""

from django import template

from crm.personal_data import masked_value, shown_value

register = template.Library()


@register.filter
def masked(instance, field_name: str) -> str:
    """``{{ customer|masked:"phone" }}``: the value as the personal-data registry masks it."""
    return masked_value(instance, field_name)


@register.filter
def shown(value) -> str:
    """``{{ customer.name|shown }}``: a clear value, or "[erased]" once it was shredded."""
    return shown_value(value)
