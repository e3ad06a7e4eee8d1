"""Fixtures: one company with two sales teams and a marketing team, and a user for every role."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings as django_settings
from django.template.backends import jinja2 as jinja2_backend
from django.test.signals import template_rendered
from django.test.utils import override_settings
from django.utils import timezone, translation
from rest_framework.test import APIClient

from teams.models import Role, Team
from tests.factories import MarketingTeamFactory, TeamFactory, UserFactory

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _english_and_the_default_zone_after_each_test():
    """A request in Indonesian, or a test that activates a team's zone, leaves it active in
    the thread; don't let it leak into the next test."""
    yield
    translation.deactivate()
    timezone.deactivate()


@pytest.fixture(autouse=True, scope="session")
def _jinja2_pages_tell_the_test_client_their_context():
    """Django's test environment has its own templates report what they render, so that a
    test reads `response.context`; the same for the Jinja2 pages."""
    render = jinja2_backend.Template.render

    def render_and_report(self, context=None, request=None):
        context = {} if context is None else context
        template_rendered.send(sender=self, template=self, context=context)
        return render(self, context, request)

    jinja2_backend.Template.render = render_and_report
    yield
    jinja2_backend.Template.render = render


@pytest.fixture(autouse=True, scope="session")
def _a_redis_cache_of_each_worker_s_own(worker_id):
    """Where the cache is Redis (CI's CACHE_URL), tests clear it around the rate limits they
    count: each xdist worker gets a database of its own (the next ones after CACHE_URL's),
    so that two workers never clear each other's counters."""
    cache = django_settings.CACHES["default"]
    if worker_id == "master" or not cache["BACKEND"].endswith("RedisCache"):
        yield
        return
    parts = urlsplit(cache["LOCATION"])
    database = int(parts.path.strip("/") or 0) + int(worker_id.removeprefix("gw")) + 1
    location = urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))
    with override_settings(CACHES={"default": {**cache, "LOCATION": location}}):
        yield


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _sessions_outlive_time_travel(settings):
    """Tests sign in on the day the suite runs and then travel to their pinned `NOW`, months
    away on most days of the year: a session of Django's two weeks would have expired there."""
    settings.SESSION_COOKIE_AGE = 20 * 365 * 24 * 3600


@pytest.fixture
def sales_team(db) -> Team:
    return TeamFactory(name="Sales Jakarta")


@pytest.fixture
def other_sales_team(db) -> Team:
    return TeamFactory(name="Sales Jayapura", timezone="Asia/Jayapura")


@pytest.fixture
def marketing_team(db) -> Team:
    return MarketingTeamFactory(name="Marketing")


@pytest.fixture
def users(sales_team, other_sales_team, marketing_team) -> dict:
    """A user per role, plus a second rep and another team's manager and rep."""
    return {
        "admin": UserFactory(username="admin", role=Role.ADMIN, team=None),
        "sales_manager": UserFactory(username="sales.manager", role=Role.SALES_MANAGER, team=sales_team),
        "marketing_manager": UserFactory(
            username="marketing.manager", role=Role.MARKETING_MANAGER, team=marketing_team
        ),
        "sales_rep": UserFactory(username="rep1", role=Role.SALES_REP, team=sales_team),
        "other_rep": UserFactory(username="rep2", role=Role.SALES_REP, team=sales_team),
        "marketer": UserFactory(username="marketer1", role=Role.MARKETER, team=marketing_team),
        "other_manager": UserFactory(username="papua.manager", role=Role.SALES_MANAGER, team=other_sales_team),
        "other_team_rep": UserFactory(username="rep3", role=Role.SALES_REP, team=other_sales_team),
    }


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as(api_client):
    """`api_as(user)`: an API client authenticated as `user` by token."""
    from rest_framework.authtoken.models import Token

    def login(user) -> APIClient:
        token, _ = Token.objects.get_or_create(user=user)
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return api_client

    return login
