"""The project's DRF router: object ids in URLs are ASCII digits unless a viewset says not.

DRF's default lookup pattern ``[^/.]+`` lets ``/api/v1/customers/١٥/`` reach the view, and
the ORM reads ``"١٥"`` as 15 (``"²"`` fails in ``int()``: a 500). Every ``api/urls.py``
registers its viewsets on this router; a viewset whose lookup is not a numeric id sets its
own ``lookup_value_regex``.
"""

from rest_framework import routers

from crm.ids import OBJECT_ID_REGEX


class DefaultRouter(routers.DefaultRouter):
    def __init__(self, *args, **kwargs):
        kwargs["use_regex_path"] = True
        super().__init__(*args, **kwargs)
        self._default_value_pattern = OBJECT_ID_REGEX
