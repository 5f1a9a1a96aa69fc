"""Factories for users and teams, shared by every app's tests."""

import factory
from django.contrib.auth.models import Group

from crm import roles
from crm.models import Team, User

PASSWORD = "test-Passw0rd!"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    """``UserFactory(role=roles.SALES_REP, team=team)``; the role's group is added."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.django.Password(PASSWORD)

    role = None  # a name from crm.roles; not a model field, taken out in _create

    @classmethod
    def _create(cls, model_class, *args, role=None, **kwargs):
        if role in roles.STAFF_ROLES:
            kwargs.setdefault("is_staff", True)
        user = super()._create(model_class, *args, **kwargs)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user
