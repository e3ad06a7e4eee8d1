"""An admin adds a webhook in the browser, copies its secret (shown once) and sees its
deliveries; the pages pass the accessibility audit and fit a phone (SPEC §12)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.test_accessibility import AUDIT
from webhooks.models import Webhook, WebhookDelivery

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _a_receiver_on_this_machine(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(page, login, users):
    login(users["admin"].username)
    page.goto("/webhooks/")
    assert page.evaluate(AUDIT) == []
    page.get_by_role("link", name="New webhook").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New webhook")
    page.wait_for_load_state()
    assert page.evaluate(AUDIT) == []
    page.get_by_label("Name").fill("Sales channel")
    page.get_by_label("URL").fill("http://127.0.0.1:9/hook")
    page.get_by_label("lead.created — A lead was created").check()
    page.get_by_label("Slack (one line of text)").check()
    page.get_by_role("button", name="Add webhook").click()
    secret = page.get_by_label("Secret")
    expect(secret).to_be_visible()
    made = Webhook.objects.get()
    expect(secret).to_have_value(made.secret)
    assert page.evaluate(AUDIT) == []
    page.reload()
    expect(page.get_by_role("heading", name="Deliveries")).to_be_visible()
    expect(page.get_by_label("Secret")).to_have_count(0)
    assert (made.name, made.format, made.events) == (
        "Sales channel",
        "slack",
        ["lead.created", "breach.recorded", "lead.rerouted"],
    )


def test_the_deliveries_fit_a_phone_and_one_is_sent_again_in_place(page, login, users):
    webhook = Webhook.objects.create(name="Sales channel", url="http://127.0.0.1:9/hook", events=["lead.created"])
    failed = WebhookDelivery.objects.create(
        webhook=webhook, event="lead.created", subject_id=1, status="failed", attempts=9, response_code=503,
        last_error="HTTP 503", retry_until=timezone.now() - timedelta(hours=1),
    )  # fmt: skip
    page.set_viewport_size({"width": 375, "height": 740})
    login(users["admin"].username)
    page.goto(f"/webhooks/{webhook.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    row = page.locator(f"#delivery-{failed.pk}")
    expect(row).to_contain_text("Failed")
    row.get_by_role("button", name="Redeliver").click()
    expect(page.locator(f"#delivery-{failed.pk}")).to_contain_text("Waiting")
    failed.refresh_from_db()
    assert failed.status == "pending"
