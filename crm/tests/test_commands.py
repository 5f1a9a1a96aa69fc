"""Management commands of the foundation."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from audit import events
from audit.models import AuditEvent
from crm import roles
from crm.models import Team, User

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_demo_company(settings):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    names = set(User.objects.values_list("username", flat=True))
    assert names >= {
        "rep1",
        "rep2",
        "rep3",
        "manager1",
        "manager2",
        "gm",
        "service1",
        "dpo",
        "auditor",
        "admin",
    }
    north, south = Team.objects.get(name="North"), Team.objects.get(name="South")
    assert north.manager.username == "manager1" and south.manager.username == "manager2"
    assert set(north.members.values_list("username", flat=True)) == {"rep1", "rep2", "manager1"}
    assert set(south.members.values_list("username", flat=True)) == {"rep3", "manager2"}
    assert User.objects.get(username="rep3").has_role(roles.SALES_REP)
    assert User.objects.get(username="gm").has_role(roles.GENERAL_MANAGER)
    admin = User.objects.get(username="admin")
    assert admin.is_staff and not admin.is_superuser
    assert not User.objects.filter(is_superuser=True).exists()
    assert authenticate(username="dpo", password=settings.DEMO_PASSWORD) is not None


def test_seed_demo_if_empty_does_not_touch_a_used_database():
    call_command("seed_demo", stdout=io.StringIO())
    before = User.objects.count()
    out = io.StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert "not loaded" in out.getvalue()
    assert User.objects.count() == before


def test_create_user_with_role_and_team(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-Long-passw0rd\n"))
    call_command(
        "create_user",
        "rep9",
        "--role",
        roles.SALES_REP,
        "--team",
        "East",
        "--password-stdin",
        stdout=io.StringIO(),
    )
    user = User.objects.get(username="rep9")
    assert user.team.name == "East" and user.has_role(roles.SALES_REP)
    assert authenticate(username="rep9", password="a-Long-passw0rd") == user
    assert AuditEvent.objects.filter(action=events.USER_CREATED, object_id=str(user.pk)).exists()


def test_create_user_refuses_a_weak_password_and_a_duplicate(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError):
        call_command("create_user", "rep9", "--role", roles.SALES_REP, "--password-stdin")
    assert not User.objects.filter(username="rep9").exists()
    monkeypatch.setattr("sys.stdin", io.StringIO("a-Long-passw0rd\n"))
    call_command(
        "create_user", "rep9", "--role", roles.SALES_REP, "--password-stdin", stdout=io.StringIO()
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("a-Long-passw0rd\n"))
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_user", "REP9", "--role", roles.SALES_REP, "--password-stdin")


def test_generate_env_writes_keys_once(tmp_path):
    target = tmp_path / ".env"
    call_command("generate_env", "--path", str(target), stdout=io.StringIO())
    text = target.read_text()
    assert "FIELD_ENCRYPTION_KEYS=" in text and "BLIND_INDEX_KEY=" in text
    assert "PRIVACY_BACKUP_KEY=" in text
    assert oct(target.stat().st_mode)[-3:] == "600"
    call_command("generate_env", "--path", str(target), stdout=io.StringIO())
    assert target.read_text() == text


def test_rotate_keys_is_audited():
    call_command("rotate_keys", stdout=io.StringIO())
    assert AuditEvent.objects.filter(action=events.KEYS_ROTATED).count() == 1
