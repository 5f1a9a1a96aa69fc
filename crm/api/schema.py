"""The OpenAPI schema class: components named after the API class that nests them.

Every API class keeps its serializers nested (``ComplaintAssignApi.InputSerializer``,
STYLE "APIs & Serializers"), so their bare names repeat across the project; the schema
names a nested serializer after its outer class (``ComplaintAssignInput``) so components
never collide. A serializer with an explicit ``component_name`` keeps it.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(self, serializer, direction) -> str:
        cls = serializer.__class__
        parts = cls.__qualname__.split(".")
        if len(parts) < 2 or "<locals>" in parts:
            return cls.__name__
        outer = "".join(part.removesuffix("Api").removesuffix("Serializer") for part in parts[:-1])
        return outer + cls.__name__
