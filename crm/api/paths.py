"""URL helpers of the API: every app's ``api/urls.py`` lists explicit ``path()``s.

Object ids in API paths are ``<int:…>``: ASCII digits only (``crm.ids``), so
``/api/v1/customers/١٥/`` is 404, not card 15.
"""

from __future__ import annotations

from django.urls import re_path


def format_suffixes(urlpatterns: list) -> list:
    """Each pattern followed by its format-suffixed variant (``customers/7.json``).

    The variants the DRF router used to add, kept so that no URL of the API goes away; like
    the router's, they are left out of the OpenAPI schema. Their ids keep the ``[0-9]+`` of
    ``<int:…>``.
    """
    patterns = []
    for pattern in urlpatterns:
        regex = pattern.pattern.regex.pattern.removesuffix(r"\Z").removesuffix("/")
        suffixed = re_path(
            regex + r"\.(?P<format>[a-z0-9]+)/?$",
            pattern.callback,
            pattern.default_args,
            pattern.name,
        )
        patterns += [pattern, suffixed]
    return patterns
