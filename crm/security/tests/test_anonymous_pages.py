"""A page refused to someone not signed in asks him to sign in (found by the matrix: the
audit console's pages, guarded by ``permission_required(raise_exception=True)``, told an
anonymous visitor 403 where every other page redirects to the sign-in page)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_an_anonymous_visitor_is_sent_to_sign_in_not_refused():
    response = Client().get("/audit/events/?page=2")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/audit/events/%3Fpage%3D2"


def test_an_anonymous_post_is_sent_to_sign_in_without_repeating_it():
    response = Client().post("/audit/monitoring/alerts/1/acknowledge/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_the_api_still_answers_json_401_to_anonymous():
    response = Client().get("/api/v1/audit/events/")
    assert response.status_code == 401
    assert response.json()["detail"]
