"""The admin site of the project: object ids of integer keys in its URLs are ASCII digits.

The admin takes ``<path:object_id>`` and lets the model field convert it, and
``int("١٥")`` is 15: ``/admin/customers/customer/١٥/change/`` would open customer 15. Every
view of a model whose primary key is an integer (and the "view on site" redirect) answers
404 to any other id. Installed through ``crm.admin_apps.CrmAdminConfig``.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.db import models
from django.http import Http404

from crm.ids import is_object_id

# Keyword arguments of admin views that carry an object id (UserAdmin's password view: ``id``).
_ID_KWARGS = ("object_id", "id", "version_id", "content_type_id")


def _has_integer_key(model) -> bool:
    return model is not None and isinstance(model._meta.pk, models.IntegerField)


class CrmAdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        wrapped = super().admin_view(view, cacheable)
        model_admin = getattr(view, "__self__", None)
        if view is not shortcut and not _has_integer_key(getattr(model_admin, "model", None)):
            return wrapped

        @wraps(wrapped)
        def ascii_ids_only(request, *args, **kwargs):
            # Positional: django-simple-history's ``<object_id>/history/<version_id>/``.
            ids = [*args, *(kwargs[name] for name in _ID_KWARGS if name in kwargs)]
            if all(is_object_id(unquote(str(value))) for value in ids):
                return wrapped(request, *args, **kwargs)
            if view is shortcut and is_object_id(kwargs.get("content_type_id", "")):
                content_type = ContentType.objects.filter(pk=kwargs["content_type_id"]).first()
                model = content_type.model_class() if content_type else None
                if model is not None and not _has_integer_key(model):
                    return wrapped(request, *args, **kwargs)
            raise Http404

        return ascii_ids_only
