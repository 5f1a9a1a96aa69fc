"""The navigation registry: what the header and the home page offer each user.

Each app registers its entries in ``AppConfig.ready()``; an entry is shown to a user who
holds any of its permissions (or, with none listed, to every signed-in user).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str
    url_name: str
    description: str = ""
    permissions: tuple[str, ...] = field(default_factory=tuple)
    staff_only: bool = False
    order: int = 100

    def visible_to(self, user) -> bool:
        if not user.is_authenticated:
            return False
        if self.staff_only and not user.is_staff:
            return False
        return not self.permissions or any(user.has_perm(perm) for perm in self.permissions)

    @property
    def url(self) -> str:
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return ""


_entries: dict[str, NavEntry] = {}


def register(entry: NavEntry) -> None:
    _entries[entry.key] = entry


def entries_for(user) -> list[NavEntry]:
    return [
        entry
        for entry in sorted(_entries.values(), key=lambda e: (e.order, e.key))
        if entry.visible_to(user) and entry.url
    ]


@dataclass(frozen=True)
class HeaderBadge:
    """A count in the header (approvals waiting, say), loaded by htmx after the page so no
    page pays a query for it: ``url_name`` answers the fragment, ``link_name`` is where a
    click goes. Shown to a user who holds any of ``permissions``."""

    key: str
    label: str
    url_name: str
    link_name: str
    permissions: tuple[str, ...] = field(default_factory=tuple)
    order: int = 100

    def visible_to(self, user) -> bool:
        return user.is_authenticated and any(user.has_perm(perm) for perm in self.permissions)

    @property
    def url(self) -> str:
        return reverse(self.url_name)

    @property
    def link(self) -> str:
        return reverse(self.link_name)


_badges: dict[str, HeaderBadge] = {}


def register_badge(badge: HeaderBadge) -> None:
    _badges[badge.key] = badge


def badges_for(user) -> list[HeaderBadge]:
    return [
        badge
        for badge in sorted(_badges.values(), key=lambda b: (b.order, b.key))
        if badge.visible_to(user)
    ]
