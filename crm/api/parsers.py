"""The API's JSON parser: too deep or malformed bodies are a 400 with a JSON body."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def depth_of(value) -> int:
    """Nesting depth of lists and objects, computed without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(_("JSON nested too deeply.")) from exc
        if depth_of(data) > settings.CRM_JSON_MAX_DEPTH:
            raise ParseError(
                _("JSON nested deeper than %(depth)d levels.")
                % {"depth": settings.CRM_JSON_MAX_DEPTH}
            )
        return data
