"""API tokens a user sees, rotates and revokes: the service, the "API access" page and the API."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from teams import tokens
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PAGE = "/accounts/api-token/"
ROTATE_PAGE = "/accounts/api-token/rotate/"
REVOKE_PAGE = "/accounts/api-token/revoke/"
OBTAIN = "/api/v1/auth/token/"
ROTATE = "/api/v1/auth/token/rotate/"
SOME_ENDPOINT = "/api/v1/teams/"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """The token endpoint is throttled per client in the cache; start each test with a clean slate."""
    cache.clear()
    yield
    cache.clear()


def status_with(key: str) -> int:
    """What an API call answers with `key` as its token (a fresh client: no session)."""
    return APIClient(HTTP_AUTHORIZATION=f"Token {key}").get(SOME_ENDPOINT).status_code


def key_of(user) -> str | None:
    return Token.objects.filter(user=user).values_list("key", flat=True).first()


def shown_key(response) -> str:
    """The full key displayed on the page answering a create or rotate."""
    match = re.search(r'<code[^>]*id="new-token"[^>]*>([0-9a-f]{40})</code>', response.content.decode())
    assert match, "no new key on the page"
    return match.group(1)


# --- service ---------------------------------------------------------------------------
def test_token_create_gives_a_working_key_once(users):
    token = tokens.token_create(user=users["sales_rep"])
    assert key_of(users["sales_rep"]) == token.key and len(token.key) == 40
    with pytest.raises(ValidationError) as exc:
        tokens.token_create(user=users["sales_rep"])
    assert exc.value.messages == ["You already have an API token. Rotate it to get a new key."]
    assert Token.objects.filter(user=users["sales_rep"]).get().key == token.key


def test_token_rotate_replaces_the_key_and_creates_one_if_none(users):
    first = tokens.token_rotate(user=users["sales_rep"])
    assert key_of(users["sales_rep"]) == first.key
    second = tokens.token_rotate(user=users["sales_rep"])
    assert second.key != first.key
    assert list(Token.objects.filter(user=users["sales_rep"]).values_list("key", flat=True)) == [second.key]


def test_token_revoke_is_idempotent(users):
    tokens.token_create(user=users["sales_rep"])
    assert tokens.token_revoke(user=users["sales_rep"]) is True
    assert key_of(users["sales_rep"]) is None
    assert tokens.token_revoke(user=users["sales_rep"]) is False


def test_token_writes_touch_only_their_user(users):
    other = tokens.token_create(user=users["other_rep"])
    tokens.token_create(user=users["sales_rep"])
    tokens.token_rotate(user=users["sales_rep"])
    tokens.token_revoke(user=users["sales_rep"])
    assert key_of(users["other_rep"]) == other.key


def test_token_masked_shows_only_the_last_four_characters(users):
    token = tokens.token_create(user=users["sales_rep"])
    masked = tokens.token_masked(token=token)
    assert masked.endswith(token.key[-4:])
    assert token.key[:-4] not in masked and token.key[-5:] not in masked


def test_token_writes_take_a_bounded_number_of_queries(users, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        tokens.token_rotate(user=users["sales_rep"])


# --- the page ---------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("path", [PAGE, ROTATE_PAGE, REVOKE_PAGE])
def test_pages_send_anonymous_visitors_to_the_login(client, users, path, method):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Token.objects.exists()


@pytest.mark.parametrize("role", ["admin", "sales_manager", "marketing_manager", "sales_rep", "marketer"])
def test_every_role_opens_the_page_from_the_user_menu(client, users, role):
    client.force_login(users[role])
    assert f'href="{PAGE}"' in client.get("/").content.decode()
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "You have no API token." in response.content.decode()
    assert not Token.objects.exists()


def test_get_never_changes_anything(client, users):
    client.force_login(users["sales_rep"])
    for path in (PAGE, ROTATE_PAGE, REVOKE_PAGE):
        client.get(path)
    assert not Token.objects.exists()  # no token is made by looking
    key = tokens.token_create(user=users["sales_rep"]).key
    for path in (PAGE, ROTATE_PAGE, REVOKE_PAGE):
        assert client.get(path).status_code == 200
    assert key_of(users["sales_rep"]) == key


def test_create_shows_the_full_key_once_then_only_masked(client, users):
    client.force_login(users["sales_rep"])
    response = client.post(PAGE)
    assert response.status_code == 200
    key = key_of(users["sales_rep"])
    assert shown_key(response) == key
    assert response.content.decode().count(key) == 1
    assert "no-store" in response["Cache-Control"]
    assert status_with(key) == 200
    # Not kept for later in a message or anywhere else in the session or cookies.
    assert key not in str(dict(client.session)) and key not in str(client.cookies)

    again = client.get(PAGE).content.decode()
    assert key not in again
    assert tokens.token_masked(token=Token.objects.get(key=key)) in again


def test_create_when_a_token_exists_keeps_it_and_says_why(client, users):
    key = tokens.token_create(user=users["sales_rep"]).key
    client.force_login(users["sales_rep"])
    response = client.post(PAGE, follow=True)
    assert "Rotate it to get a new key." in response.content.decode()
    assert key not in response.content.decode()
    assert key_of(users["sales_rep"]) == key


def test_rotate_asks_first_then_replaces_the_key(client, users):
    old = tokens.token_create(user=users["sales_rep"]).key
    client.force_login(users["sales_rep"])
    page = client.get(PAGE).content.decode()
    assert f'href="{ROTATE_PAGE}"' in page and f'href="{REVOKE_PAGE}"' in page
    confirm = client.get(ROTATE_PAGE).content.decode()
    assert f'action="{ROTATE_PAGE}"' in confirm and 'method="post"' in confirm
    assert key_of(users["sales_rep"]) == old

    response = client.post(ROTATE_PAGE)
    new = shown_key(response)
    assert new != old and key_of(users["sales_rep"]) == new
    assert status_with(old) == 401
    assert status_with(new) == 200
    assert new not in client.get(PAGE).content.decode()


def test_revoke_asks_first_then_deletes_the_token(client, users):
    key = tokens.token_create(user=users["sales_rep"]).key
    client.force_login(users["sales_rep"])
    confirm = client.get(REVOKE_PAGE).content.decode()
    assert f'action="{REVOKE_PAGE}"' in confirm
    response = client.post(REVOKE_PAGE, follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    body = response.content.decode()
    assert "Your API token was revoked." in body and "You have no API token." in body
    assert key_of(users["sales_rep"]) is None
    assert status_with(key) == 401


def test_confirmation_pages_without_a_token_lead_back_to_the_page(client, users):
    client.force_login(users["sales_rep"])
    for path in (ROTATE_PAGE, REVOKE_PAGE):
        response = client.get(path)
        assert (response.status_code, response["Location"]) == (302, PAGE)
    assert not Token.objects.exists()


def test_pages_need_no_inline_script(client, users):
    tokens.token_create(user=users["sales_rep"])
    client.force_login(users["sales_rep"])
    for response in (client.get(PAGE), client.get(ROTATE_PAGE), client.get(REVOKE_PAGE), client.post(ROTATE_PAGE)):
        # The page's own markup (the shared navbar and footer are not this page's concern).
        body = re.search(r"<main.*</main>", response.content.decode(), re.S).group(0)
        assert not re.search(r"\son[a-z]+=", body), "inline event handler"
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), "inline script"


def test_posts_are_csrf_protected(users):
    key = tokens.token_create(user=users["sales_rep"]).key
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users["sales_rep"])
    for path in (PAGE, ROTATE_PAGE, REVOKE_PAGE):
        assert strict.post(path).status_code == 403
    assert key_of(users["sales_rep"]) == key


def test_a_user_cannot_change_another_users_token(client, users):
    theirs = tokens.token_create(user=users["other_rep"]).key
    client.force_login(users["sales_rep"])
    # Whatever the form says, the page acts on the signed-in user alone.
    client.post(PAGE, {"user": users["other_rep"].pk})
    client.post(ROTATE_PAGE, {"user": users["other_rep"].pk})
    client.post(REVOKE_PAGE, {"user": users["other_rep"].pk})
    assert key_of(users["other_rep"]) == theirs
    assert status_with(theirs) == 200
    assert theirs not in client.get(PAGE).content.decode()


# --- the API ----------------------------------------------------------------------------
def test_rotate_with_the_current_token_returns_a_new_key(users):
    old = tokens.token_create(user=users["marketer"]).key
    response = APIClient(HTTP_AUTHORIZATION=f"Token {old}").post(ROTATE)
    assert response.status_code == 200
    new = response.json()["token"]
    assert new != old and key_of(users["marketer"]) == new
    assert response["Cache-Control"] == "no-store"
    assert status_with(old) == 401
    assert status_with(new) == 200


def test_rotate_with_a_session_needs_the_csrf_token(users):
    old = tokens.token_create(user=users["marketer"]).key
    strict = APIClient(enforce_csrf_checks=True)
    strict.force_login(users["marketer"])
    assert strict.post(ROTATE).status_code == 403
    assert key_of(users["marketer"]) == old

    relaxed = APIClient()
    relaxed.force_login(users["marketer"])
    response = relaxed.post(ROTATE)
    assert response.status_code == 200 and response.json()["token"] == key_of(users["marketer"]) != old


def test_delete_revokes_the_callers_token(users):
    key = tokens.token_create(user=users["marketer"]).key
    response = APIClient(HTTP_AUTHORIZATION=f"Token {key}").delete(OBTAIN)
    assert response.status_code == 204
    assert key_of(users["marketer"]) is None
    assert status_with(key) == 401

    session = APIClient()
    session.force_login(users["marketer"])
    assert session.delete(OBTAIN).status_code == 204  # nothing left to revoke: still done


@pytest.mark.parametrize(
    "credentials", [{}, {"HTTP_AUTHORIZATION": "Token " + "0" * 40}], ids=["anonymous", "unknown key"]
)
def test_rotate_and_revoke_answer_401_without_valid_credentials(users, credentials):
    key = tokens.token_create(user=users["marketer"]).key
    client = APIClient(**credentials)
    assert client.post(ROTATE).status_code == 401
    assert client.delete(OBTAIN).status_code == 401
    assert key_of(users["marketer"]) == key


def test_api_never_reaches_another_users_token(users):
    mine = tokens.token_create(user=users["sales_rep"]).key
    theirs = tokens.token_create(user=users["other_rep"]).key
    client = APIClient(HTTP_AUTHORIZATION=f"Token {mine}")
    client.post(ROTATE, {"user": users["other_rep"].pk}, format="json")
    new = key_of(users["sales_rep"])
    APIClient(HTTP_AUTHORIZATION=f"Token {new}").delete(OBTAIN, {"user": users["other_rep"].pk}, format="json")
    assert key_of(users["sales_rep"]) is None
    assert key_of(users["other_rep"]) == theirs


def test_reading_the_endpoints_changes_nothing(users):
    key = tokens.token_create(user=users["marketer"]).key
    client = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(ROTATE).status_code == 405
    assert client.get(OBTAIN).status_code == 405
    assert key_of(users["marketer"]) == key


def test_obtaining_a_token_with_a_password_still_works_around_rotation(api_client, users):
    response = api_client.post(OBTAIN, {"username": "marketer1", "password": PASSWORD})
    assert response.status_code == 200
    first = response.json()["token"]
    assert status_with(first) == 200

    rotated = APIClient(HTTP_AUTHORIZATION=f"Token {first}").post(ROTATE).json()["token"]
    assert api_client.post(OBTAIN, {"username": "marketer1", "password": PASSWORD}).json()["token"] == rotated

    tokens.token_revoke(user=users["marketer"])
    again = api_client.post(OBTAIN, {"username": "marketer1", "password": PASSWORD}).json()["token"]
    assert again not in (first, rotated) and status_with(again) == 200


def test_the_schema_documents_rotate_and_revoke(api_as, users):
    schema = api_as(users["marketer"]).get("/api/v1/schema/?format=json").json()
    assert set(schema["paths"][OBTAIN]) == {"post", "delete"}
    assert "204" in schema["paths"][OBTAIN]["delete"]["responses"]
    rotate = schema["paths"][ROTATE]["post"]
    assert rotate["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Token"}


def test_admins_still_see_and_delete_tokens_in_the_django_admin(client, users):
    key = tokens.token_create(user=users["sales_rep"]).key
    admin = users["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(admin)
    assert str(users["sales_rep"]) in client.get("/admin/authtoken/tokenproxy/").content.decode()
    response = client.post(f"/admin/authtoken/tokenproxy/{users['sales_rep'].pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert key_of(users["sales_rep"]) is None
    assert status_with(key) == 401
