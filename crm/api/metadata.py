"""``OPTIONS`` answers for the ``<Entity><Action>Api`` classes.

DRF's ``SimpleMetadata`` describes what POST and PUT take through ``get_serializer()``: a
``GenericAPIView`` without ``serializer_class`` fails there (a 500), and an ``APIView`` is
never described. Here a view's nested ``InputSerializer`` describes them, for the methods
the caller's role may use.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.metadata import SimpleMetadata
from rest_framework.request import clone_request


class InputSerializerMetadata(SimpleMetadata):
    def determine_metadata(self, request, view):
        metadata = super().determine_metadata(request, view)
        if getattr(view, "InputSerializer", None) is not None:
            actions = self._input_actions(request, view)
            if actions:
                metadata["actions"] = actions
        return metadata

    def determine_actions(self, request, view):
        if getattr(view, "InputSerializer", None) is not None or not _has_serializer(view):
            return {}  # described by ``determine_metadata``, or nothing to describe
        return super().determine_actions(request, view)

    def _input_actions(self, request, view) -> dict:
        actions = {}
        for method in sorted({"PUT", "POST"} & set(view.allowed_methods)):
            view.request = clone_request(request, method)
            try:
                view.check_permissions(view.request)
            except (exceptions.APIException, PermissionDenied, Http404):
                continue
            finally:
                view.request = request
            actions[method] = self.get_serializer_info(view.InputSerializer())
        return actions


def _has_serializer(view) -> bool:
    # Imported here: DRF reads this setting while ``rest_framework.views`` loads.
    from rest_framework.generics import GenericAPIView

    overridden = type(view).get_serializer_class is not GenericAPIView.get_serializer_class
    return overridden or getattr(view, "serializer_class", None) is not None
