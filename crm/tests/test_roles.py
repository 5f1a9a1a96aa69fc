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
