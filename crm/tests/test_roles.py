"""The roles of DESIGN §1 exist as groups with their model permissions."""

import pytest
from django.contrib.auth.models import Group, Permission

from crm import roles

pytestmark = pytest.mark.django_db


def _perms(group):
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_every_role_group_exists_with_its_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)
    for role in roles.ROLES:
        group = Group.objects.get(name=role)
        assert _perms(group) == set(roles.PERMISSIONS[role]), role


def test_every_listed_permission_exists():
    existing = {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }
    listed = {perm for perms in roles.PERMISSIONS.values() for perm in perms}
    assert listed <= existing, listed - existing


def test_only_oversight_roles_read_the_audit_trail():
    readers = {
        role
        for role in roles.ROLES
        if "audit.view_auditevent" in _perms(Group.objects.get(name=role))
    }
    assert readers == {roles.DPO, roles.AUDITOR}


def test_auditor_changes_nothing():
    perms = _perms(Group.objects.get(name=roles.AUDITOR))
    assert all(p.split(".")[1].startswith(("view_", "verify_")) for p in perms)


def test_sync_only_adds(django_user_model):
    group = Group.objects.get(name=roles.SALES_REP)
    extra = Permission.objects.get(codename="add_team")
    group.permissions.add(extra)
    roles.sync_roles(Group, Permission)
    assert group.permissions.filter(pk=extra.pk).exists()


def _all_permissions() -> set[str]:
    """The permissions of every installed model (not those left by a removed model)."""
    return {
        f"{perm.content_type.app_label}.{perm.codename}"
        for perm in Permission.objects.select_related("content_type")
        if perm.content_type.model_class() is not None
    }


def test_every_permission_is_held_by_a_role_or_declared_unused():
    """Each app grants its permissions from its AppConfig.ready() (roles.extend) or says
    why no role holds them (roles.declare_unused)."""
    assert roles.unaccounted(_all_permissions()) == []


def test_every_unused_declaration_names_existing_permissions():
    import fnmatch

    existing = _all_permissions()
    stale = [
        pattern
        for pattern in roles._UNUSED
        if not any(fnmatch.fnmatchcase(perm, pattern) for perm in existing)
    ]
    assert stale == []


def test_apps_add_their_own_permissions_to_the_roles():
    # Listed by customers and audit from their ready(), not in crm.roles.
    assert "customers.view_customer" in roles.PERMISSIONS[roles.SALES_REP]
    assert "audit.view_auditevent" in roles.PERMISSIONS[roles.AUDITOR]
    assert roles.unused_reason("customers.delete_customer")
    assert roles.unused_reason("customers.view_customer") is None


def test_extend_refuses_an_unknown_role_or_a_bare_codename():
    with pytest.raises(ValueError):
        roles.extend("janitor", ["customers.view_customer"])
    with pytest.raises(ValueError):
        roles.extend(roles.SALES_REP, ["view_customer"])
    with pytest.raises(ValueError):
        roles.declare_unused(["customers.view_customer"], reason=" ")
