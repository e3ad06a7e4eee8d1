"""REST API of intake (SPEC §1, §7, §13): lead-forms/, inbound-hooks/ and whatsapp-numbers/,
who may see and change them, what they answer, and what they refuse."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache

from intake.models import InboundEvent, InboundHook, LeadForm, WhatsAppNumber
from leads.models import Lead
from tests.factories import CampaignFactory, InboundHookFactory, LeadFormFactory, WhatsAppNumberFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 8, 5, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))  # a Wednesday, working hours
FORMS = "/api/v1/lead-forms/"
HOOKS = "/api/v1/inbound-hooks/"
NUMBERS = "/api/v1/whatsapp-numbers/"
URL_SAFE_KEY = re.compile(r"^[A-Za-z0-9_-]{22,}$")
# What the forms below ask besides the name, and require.
ASKS = {"fields": ["email", "phone"], "required": ["email"]}


@pytest.fixture(autouse=True)
def _pinned_clock_and_fresh_rate_limits():
    """The form posts below count against the per-minute rate limit kept in the cache."""
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield
    cache.clear()


@pytest.fixture
def as_user(api_client, users):
    def login(role: str):
        api_client.force_authenticate(users[role])
        return api_client

    return login


@pytest.fixture
def forms(sales_team, other_sales_team):
    return {
        "own": LeadFormFactory(name="Jakarta webinar", team=sales_team),
        "other": LeadFormFactory(name="Papua expo", team=other_sales_team),
    }


@pytest.fixture
def hooks(sales_team, other_sales_team):
    return {
        "own": InboundHookFactory(name="Jakarta Zapier", team=sales_team),
        "other": InboundHookFactory(name="Papua Make", team=other_sales_team),
    }


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


# -- who sees what (SPEC §1) -----------------------------------------------------------------------------
EVERY = {"own": 200, "other": 200}
VISIBILITY = [
    ("admin", EVERY),
    ("marketing_manager", EVERY),
    ("marketer", EVERY),
    ("sales_manager", {"own": 200, "other": 404}),
    ("other_manager", {"own": 404, "other": 200}),
]


@pytest.mark.parametrize("role,expected", VISIBILITY)
@pytest.mark.parametrize("endpoint,objects", [(FORMS, "forms"), (HOOKS, "hooks")])
def test_forms_and_hooks_visibility_by_role(request, as_user, role, expected, endpoint, objects):
    rows = request.getfixturevalue(objects)
    client = as_user(role)
    got = {kind: client.get(f"{endpoint}{row.pk}/").status_code for kind, row in rows.items()}
    assert got == expected
    listed = client.get(endpoint)
    assert listed.status_code == 200
    assert ids(listed) == {rows[kind].pk for kind, code in expected.items() if code == 200}


@pytest.mark.parametrize("role", ["sales_rep", "other_rep", "other_team_rep"])
@pytest.mark.parametrize("endpoint,objects", [(FORMS, "forms"), (HOOKS, "hooks")])
def test_reps_may_not_see_or_make_forms_and_hooks(request, as_user, sales_team, role, endpoint, objects):
    rows = request.getfixturevalue(objects)
    client = as_user(role)
    assert client.get(endpoint).status_code == 403
    assert client.get(f"{endpoint}{rows['own'].pk}/").status_code == 403
    assert client.patch(f"{endpoint}{rows['own'].pk}/", {"name": "Mine now"}, format="json").status_code == 403
    assert client.post(endpoint, {"name": "Rep's own", "team": sales_team.pk}, format="json").status_code == 403
    model = type(rows["own"])
    assert model.objects.count() == 2
    assert model.objects.get(pk=rows["own"].pk).name != "Mine now"


@pytest.mark.parametrize("endpoint", [FORMS, HOOKS, NUMBERS])
def test_the_intake_api_needs_authentication(api_client, forms, endpoint):
    assert api_client.get(endpoint).status_code in (401, 403)
    assert api_client.post(endpoint, {"name": "Anonymous"}, format="json").status_code in (401, 403)
    assert LeadForm.objects.count() == 2
    assert not WhatsAppNumber.objects.exists()


def test_a_sales_manager_may_not_patch_another_teams_form_or_hook(as_user, forms, hooks):
    client = as_user("sales_manager")
    assert client.patch(f"{FORMS}{forms['other'].pk}/", {"name": "Taken"}, format="json").status_code == 404
    assert client.patch(f"{HOOKS}{hooks['other'].pk}/", {"name": "Taken"}, format="json").status_code == 404
    forms["other"].refresh_from_db()
    hooks["other"].refresh_from_db()
    assert (forms["other"].name, hooks["other"].name) == ("Papua expo", "Papua Make")


def test_a_sales_manager_patches_their_own_teams_form(as_user, forms):
    response = as_user("sales_manager").patch(
        f"{FORMS}{forms['own'].pk}/", {"name": "Jakarta webinar 2", "source": "event"}, format="json"
    )
    assert response.status_code == 200
    forms["own"].refresh_from_db()
    assert (forms["own"].name, forms["own"].source) == ("Jakarta webinar 2", "event")


@pytest.mark.parametrize("endpoint,objects", [(FORMS, "forms"), (HOOKS, "hooks")])
def test_a_sales_manager_may_not_move_their_form_or_hook_to_another_team(
    request, as_user, sales_team, other_sales_team, endpoint, objects
):
    row = request.getfixturevalue(objects)["own"]
    response = as_user("sales_manager").patch(f"{endpoint}{row.pk}/", {"team": other_sales_team.pk}, format="json")
    assert response.status_code in (400, 403)
    row.refresh_from_db()
    assert row.team == sales_team


# -- creating lead forms ---------------------------------------------------------------------------------
def test_a_new_lead_form_answers_its_random_key_and_public_url(as_user, client, sales_team):
    response = as_user("marketing_manager").post(
        FORMS,
        {"name": "Webinar Agustus", "team": sales_team.pk, "fields": ["email", "phone"], "required": ["email"]},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    form = LeadForm.objects.get()
    assert body["key"] == form.key
    assert URL_SAFE_KEY.match(body["key"])
    assert body["url"].endswith(f"/f/{form.key}/")
    assert (body["source"], body["language"], body["active"]) == ("web", "id", True)
    assert (form.team, form.fields, form.required) == (sales_team, ["email", "phone"], ["email"])
    assert client.get(f"/f/{form.key}/").status_code == 200


def test_two_forms_get_different_keys(as_user, sales_team):
    client = as_user("admin")
    keys = {
        client.post(FORMS, {"name": f"Form {n}", "team": sales_team.pk, **ASKS}, format="json").json()["key"]
        for n in range(3)
    }
    assert len(keys) == 3


def test_the_key_is_read_only(as_user, forms):
    client = as_user("admin")
    before = forms["own"].key
    response = client.patch(f"{FORMS}{forms['own'].pk}/", {"key": "chosen-by-the-client-123456"}, format="json")
    assert response.status_code in (200, 400)
    forms["own"].refresh_from_db()
    assert forms["own"].key == before


def test_a_sales_manager_creating_a_form_without_a_team_gets_their_own_team(as_user, sales_team):
    response = as_user("sales_manager").post(FORMS, {"name": "Pameran", **ASKS}, format="json")
    assert response.status_code == 201
    assert response.json()["team"] == sales_team.pk
    assert LeadForm.objects.get().team == sales_team


def test_a_sales_manager_creating_a_hook_without_a_team_gets_their_own_team(as_user, sales_team):
    response = as_user("sales_manager").post(HOOKS, {"name": "Make"}, format="json")
    assert response.status_code == 201
    assert InboundHook.objects.get().team == sales_team


@pytest.mark.parametrize("endpoint,model", [(FORMS, LeadForm), (HOOKS, InboundHook)])
def test_a_sales_manager_may_not_create_one_for_another_team(as_user, other_sales_team, endpoint, model):
    data = {"name": "Papua", "team": other_sales_team.pk, **(ASKS if model is LeadForm else {})}
    response = as_user("sales_manager").post(endpoint, data, format="json")
    assert response.status_code in (400, 403)
    assert not model.objects.exists()


@pytest.mark.parametrize("role", ["admin", "marketing_manager", "marketer"])
def test_managers_of_every_team_name_the_team(as_user, role, other_sales_team):
    client = as_user(role)
    response = client.post(FORMS, {"name": "No team", **ASKS}, format="json")
    assert response.status_code == 400
    assert "team" in response.json()
    assert not LeadForm.objects.exists()
    response = client.post(FORMS, {"name": "Papua", "team": other_sales_team.pk, **ASKS}, format="json")
    assert response.status_code == 201
    assert LeadForm.objects.get().team == other_sales_team


@pytest.mark.parametrize(
    "change,field",
    [
        ({"fields": ["email", "fax"]}, "fields"),
        ({"fields": "email"}, "fields"),
        ({"fields": ["email"], "required": ["phone"]}, "required"),
        ({"fields": ["email", "phone"], "required": ["email", "name"]}, "required"),
        ({"allowed_origins": ["not a url"]}, "allowed_origins"),
        ({"allowed_origins": ["https://www.example.com/landing"]}, "allowed_origins"),
        ({"allowed_origins": ["https://www.example.com/?q=1"]}, "allowed_origins"),
        ({"allowed_origins": ["ftp://files.example.com"]}, "allowed_origins"),
        ({"allowed_origins": "https://www.example.com"}, "allowed_origins"),
        ({"team": "marketing"}, "team"),
        ({"team": 999_999}, "team"),
        ({"source": "billboard"}, "source"),
        ({"language": "fr"}, "language"),
        ({"redirect_url": "javascript:alert(1)"}, "redirect_url"),
        ({"name": ""}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"campaign": 999_999}, "campaign"),
    ],
)
def test_a_bad_lead_form_answers_400_with_the_field_and_writes_nothing(
    as_user, sales_team, marketing_team, change, field
):
    data = {"name": "Webinar", "team": sales_team.pk, "fields": ["email", "phone"], "required": ["email"], **change}
    if data["team"] == "marketing":
        data["team"] = marketing_team.pk
    response = as_user("admin").post(FORMS, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not LeadForm.objects.exists()


def test_a_bad_patch_answers_400_and_changes_nothing(as_user, forms):
    form = forms["own"]
    response = as_user("admin").patch(
        f"{FORMS}{form.pk}/", {"name": "Renamed", "required": ["company"], "fields": ["email"]}, format="json"
    )
    assert response.status_code == 400
    assert "required" in response.json()
    form.refresh_from_db()
    assert (form.name, form.fields, form.required) == (
        "Jakarta webinar",
        ["email", "phone", "company", "notes"],
        ["email"],
    )


@pytest.mark.parametrize(
    "asks",
    [{}, {"fields": ["email", "phone"], "required": []}, {"fields": [], "required": []}],
    ids=["defaults", "nothing required", "name only"],
)
def test_a_form_that_requires_nothing_besides_the_name_can_be_made(as_user, sales_team, asks):
    response = as_user("admin").post(FORMS, {"name": "Kontak", "team": sales_team.pk, **asks}, format="json")
    assert response.status_code == 201
    assert LeadForm.objects.get().required == []


def test_allowed_origins_are_kept_as_origins(as_user, sales_team):
    response = as_user("admin").post(
        FORMS,
        {
            "name": "Embed",
            "team": sales_team.pk,
            **ASKS,
            "allowed_origins": ["https://WWW.Example.co.id/", "http://localhost:8080"],
        },
        format="json",
    )
    assert response.status_code == 201
    assert LeadForm.objects.get().allowed_origins == ["http://localhost:8080", "https://www.example.co.id"]


# -- creating inbound hooks --------------------------------------------------------------------------------
def test_a_new_hook_shows_its_secret_once_and_its_url(as_user, client, sales_team):
    api = as_user("marketer")
    campaign = CampaignFactory()
    response = api.post(
        HOOKS,
        {"name": "n8n", "team": sales_team.pk, "campaign": campaign.pk, "field_map": {"email": "contact.email"}},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    hook = InboundHook.objects.get()
    assert body["secret"] == hook.secret
    assert len(body["secret"]) >= 22
    assert URL_SAFE_KEY.match(body["key"])
    assert body["url"].endswith(f"/hooks/{hook.key}/")
    assert (body["kind"], body["field_map"]) == ("json", {"email": "contact.email"})
    for later in (api.get(f"{HOOKS}{hook.pk}/").json(), api.get(HOOKS).json()["results"][0]):
        assert later.get("secret") is None
        assert hook.secret not in json.dumps(later)
    patched = api.patch(f"{HOOKS}{hook.pk}/", {"name": "n8n prod"}, format="json").json()
    assert patched.get("secret") is None
    # The secret shown is the one the hook checks.
    raw = json.dumps({"name": "Siti", "contact": {"email": "siti@example.com"}}).encode()
    answer = client.post(
        f"/hooks/{hook.key}/",
        data=raw,
        content_type="application/json",
        headers={"X-Selaras-Signature": sign(body["secret"], raw)},
    )
    assert answer.status_code == 201
    lead = Lead.objects.get()
    assert (lead.email, lead.campaign) == ("siti@example.com", campaign)


def test_a_new_google_ads_hook_is_an_ads_source_without_a_field_map(as_user, sales_team):
    response = as_user("admin").post(
        HOOKS, {"name": "Google Ads", "team": sales_team.pk, "kind": "google_ads"}, format="json"
    )
    assert response.status_code == 201
    assert (response.json()["source"], response.json()["field_map"]) == ("ads", {})
    assert response.json()["secret"]


@pytest.mark.parametrize(
    "change,field",
    [
        ({"field_map": {"favourite_colour": "answers.0"}}, "field_map"),
        ({"field_map": {"owner": "rep.id"}}, "field_map"),
        ({"field_map": {"email": ""}}, "field_map"),
        ({"field_map": ["email", "contact.email"]}, "field_map"),
        ({"kind": "google_ads", "field_map": {"email": "contact.email"}}, "field_map"),
        ({"kind": "facebook"}, "kind"),
        ({"source": "billboard"}, "source"),
        ({"team": "marketing"}, "team"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_hook_answers_400_with_the_field_and_writes_nothing(as_user, sales_team, marketing_team, change, field):
    data = {"name": "Zapier", "team": sales_team.pk, **change}
    if data["team"] == "marketing":
        data["team"] = marketing_team.pk
    response = as_user("admin").post(HOOKS, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not InboundHook.objects.exists()


def test_a_json_hook_may_not_become_google_ads_with_its_field_map(as_user, sales_team):
    hook = InboundHookFactory(team=sales_team, field_map={"email": "contact.email"})
    response = as_user("admin").patch(f"{HOOKS}{hook.pk}/", {"kind": "google_ads"}, format="json")
    assert response.status_code == 400
    assert "field_map" in response.json()
    hook.refresh_from_db()
    assert hook.kind == "json"


# -- switching off ----------------------------------------------------------------------------------------
def test_a_form_switched_off_answers_404_at_its_public_url(as_user, client, forms):
    form = forms["own"]
    assert client.get(f"/f/{form.key}/").status_code == 200
    response = as_user("sales_manager").patch(f"{FORMS}{form.pk}/", {"active": False}, format="json")
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert client.get(f"/f/{form.key}/").status_code == 404
    posted = client.post(
        f"/f/{form.key}/", {"name": "Siti", "email": "siti@example.com"}, content_type="application/json"
    )
    assert posted.status_code == 404
    assert not Lead.objects.exists()


def test_a_hook_switched_off_answers_404_at_its_public_url(as_user, client, hooks):
    hook = hooks["own"]
    raw = json.dumps({"name": "Siti"}).encode()
    headers = {"X-Selaras-Signature": sign(hook.secret, raw)}
    assert as_user("admin").patch(f"{HOOKS}{hook.pk}/", {"active": False}, format="json").status_code == 200
    response = client.post(f"/hooks/{hook.key}/", data=raw, content_type="application/json", headers=headers)
    assert response.status_code == 404
    assert not InboundEvent.objects.exists()
    assert as_user("admin").patch(f"{HOOKS}{hook.pk}/", {"active": True}, format="json").status_code == 200
    response = client.post(f"/hooks/{hook.key}/", data=raw, content_type="application/json", headers=headers)
    assert response.status_code == 201


# -- counts -------------------------------------------------------------------------------------------------
def test_the_form_list_counts_its_leads_and_spam(as_user, client, forms):
    form = forms["own"]
    url = f"/f/{form.key}/"
    for n, data in enumerate(
        [
            {"name": "Siti", "email": "siti@example.com"},
            {"name": "Budi", "email": "budi@example.com"},
            {"name": "Bot", "email": "bot@example.com", "website": "http://spam.example"},
        ]
    ):
        response = client.post(url, data, content_type="application/json", REMOTE_ADDR=f"203.0.113.{n + 1}")
        assert response.status_code == 201
    rows = {row["id"]: row for row in as_user("admin").get(FORMS).json()["results"]}
    assert (rows[form.pk]["leads"], rows[form.pk]["spam"]) == (2, 1)
    assert (rows[forms["other"].pk]["leads"], rows[forms["other"].pk]["spam"]) == (0, 0)
    detail = as_user("admin").get(f"{FORMS}{form.pk}/").json()
    assert (detail["leads"], detail["spam"]) == (2, 1)


def test_a_form_without_posts_counts_zero_not_null(as_user, forms):
    row = next(row for row in as_user("admin").get(FORMS).json()["results"] if row["id"] == forms["own"].pk)
    assert (row["leads"], row["inquiries"], row["spam"]) == (0, 0, 0)


def test_the_hook_list_counts_its_leads(as_user, client, hooks):
    hook = hooks["own"]
    for name in ("Siti", "Budi"):
        raw = json.dumps({"name": name}).encode()
        client.post(
            f"/hooks/{hook.key}/",
            data=raw,
            content_type="application/json",
            headers={"X-Selaras-Signature": sign(hook.secret, raw)},
        )
    row = next(row for row in as_user("admin").get(HOOKS).json()["results"] if row["id"] == hook.pk)
    assert row["leads"] == 2


# -- WhatsApp numbers -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "role", ["sales_manager", "marketing_manager", "marketer", "sales_rep", "other_manager", "other_team_rep"]
)
def test_only_admins_manage_whatsapp_numbers(as_user, sales_team, role):
    number = WhatsAppNumberFactory(team=sales_team)
    client = as_user(role)
    assert client.get(NUMBERS).status_code == 403
    assert client.get(f"{NUMBERS}{number.pk}/").status_code == 403
    assert client.patch(f"{NUMBERS}{number.pk}/", {"active": False}, format="json").status_code == 403
    response = client.post(NUMBERS, {"phone_number_id": "106540352242922", "team": sales_team.pk}, format="json")
    assert response.status_code == 403
    assert list(WhatsAppNumber.objects.values_list("phone_number_id", "active")) == [(number.phone_number_id, True)]


def test_an_admin_maps_a_number_to_a_team_and_campaign(as_user, sales_team, other_sales_team):
    client = as_user("admin")
    campaign = CampaignFactory()
    response = client.post(
        NUMBERS,
        {"phone_number_id": "106540352242922", "name": "CS Jakarta", "team": sales_team.pk, "campaign": campaign.pk},
        format="json",
    )
    assert response.status_code == 201
    number = WhatsAppNumber.objects.get()
    assert (number.phone_number_id, number.team, number.campaign, number.active) == (
        "106540352242922",
        sales_team,
        campaign,
        True,
    )
    assert ids(client.get(NUMBERS)) == {number.pk}
    response = client.patch(f"{NUMBERS}{number.pk}/", {"team": other_sales_team.pk}, format="json")
    assert response.status_code == 200
    number.refresh_from_db()
    assert number.team == other_sales_team


@pytest.mark.parametrize(
    "change,field",
    [
        ({"phone_number_id": "+62 811-0000-1111"}, "phone_number_id"),
        ({"phone_number_id": "abc123"}, "phone_number_id"),
        ({"phone_number_id": ""}, "phone_number_id"),
        ({"team": "marketing"}, "team"),
        ({"team": None}, "team"),
    ],
)
def test_a_bad_whatsapp_number_answers_400_and_writes_nothing(as_user, sales_team, marketing_team, change, field):
    data = {"phone_number_id": "106540352242922", "team": sales_team.pk, **change}
    if data["team"] == "marketing":
        data["team"] = marketing_team.pk
    response = as_user("admin").post(NUMBERS, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not WhatsAppNumber.objects.exists()


def test_a_phone_number_id_mapped_twice_answers_400_not_500(as_user, sales_team, other_sales_team):
    WhatsAppNumberFactory(phone_number_id="106540352242922", team=sales_team)
    other = WhatsAppNumberFactory(phone_number_id="200000000000001", team=sales_team)
    client = as_user("admin")
    response = client.post(NUMBERS, {"phone_number_id": "106540352242922", "team": other_sales_team.pk}, format="json")
    assert response.status_code == 400
    assert "phone_number_id" in response.json()
    response = client.patch(f"{NUMBERS}{other.pk}/", {"phone_number_id": "106540352242922"}, format="json")
    assert response.status_code == 400
    assert "phone_number_id" in response.json()
    assert WhatsAppNumber.objects.count() == 2
    other.refresh_from_db()
    assert other.phone_number_id == "200000000000001"
