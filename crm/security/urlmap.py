"""Every URL pattern of the project, by name: what the authorisation matrix and the
"no inline script" check walk (issue 14 items 5 and 10).

``url_patterns()`` walks ``get_resolver()`` recursively and yields one ``Endpoint`` per
pattern, with its namespaced name, the route as a template (``customers/<int:pk>/``) and
the view's module. DRF's format-suffix twins (``customers\\.(?P<format>…)``) are returned
with ``format_suffix=True``: they run the same view with the same checks as their base
pattern, so callers test the base one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

_CONVERTER = re.compile(r"<(?:(?P<converter>[a-z_]+):)?(?P<name>\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


@dataclass(frozen=True)
class Endpoint:
    name: str  # namespaced URL name, e.g. "customers:detail" or "customer-list"
    route: str  # the full route, patterns concatenated (Django syntax or regex pieces)
    module: str  # the view's module
    format_suffix: bool

    @property
    def kwargs(self) -> tuple[str, ...]:
        """The keyword arguments the route takes, in order."""
        names = [m.group("name") for m in _CONVERTER.finditer(self.route)]
        names += [m.group("name") for m in _REGEX_GROUP.finditer(self.route)]
        return tuple(dict.fromkeys(names))

    @property
    def is_admin(self) -> bool:
        return self.name.startswith("admin:") or self.route.startswith("admin/")

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    def path(self, values: dict[str, object]) -> str:
        """The path with each ``<converter:name>`` replaced by ``values[name]``."""
        if self.format_suffix:
            raise ValueError(f"{self.name}: format-suffix twins are not built, use the base")

        def fill(match):
            return str(values[match.group("name")])

        built = _CONVERTER.sub(fill, self.route)
        if "^" in built or "(?P" in built:
            raise ValueError(f"{self.name}: a regex route cannot be built: {self.route}")
        return "/" + built


def _walk(resolver, prefix: str, namespace: str | None):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            name = pattern.name or ""
            if namespace and name:
                name = f"{namespace}:{name}"
            callback = pattern.callback
            yield Endpoint(
                name=name,
                route=route,
                module=getattr(callback, "__module__", ""),
                format_suffix="(?P<format>" in route,
            )


def url_patterns(urlconf: str | None = None) -> list[Endpoint]:
    """Every pattern of the URL configuration, in resolution order."""
    return list(_walk(get_resolver(urlconf), "", None))
