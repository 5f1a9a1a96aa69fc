"""Signing out everywhere through the API ends the very session that asks (issue 14 item 4).

Found by the authorisation matrix: a session last seen over a minute ago is touched by the
security middleware on the request, and the API then saved the session it had just
deleted, which Django answers with a 400 instead of the sign-out.
"""

import time

import pytest
from django.contrib.sessions.models import Session
from rest_framework.test import APIClient

from crm import roles
from crm.security.middleware import SEEN_AT
from crm.security.models import ApiToken
from crm.security.tokens import token_issue
from crm.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("seen_seconds_ago", [0, 120])
def test_sign_out_everywhere_ends_the_calling_session_too(seen_seconds_ago):
    user = UserFactory(role=roles.SALES_REP)
    token_issue(user=user)
    elsewhere = APIClient()
    elsewhere.force_login(user)
    client = APIClient()
    client.force_login(user)
    session = client.session
    session[SEEN_AT] = int(time.time()) - seen_seconds_ago
    session.save()

    response = client.post("/api/v1/auth/sign-out-everywhere/")

    assert response.status_code == 200, response.content
    assert response.json() == {"sessions": 2, "tokens": 1}
    assert Session.objects.count() == 0
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() == 0
    assert client.get("/api/v1/users/me/").status_code in (401, 403)
    assert elsewhere.get("/api/v1/users/me/").status_code in (401, 403)
