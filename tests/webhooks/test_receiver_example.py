"""The receiver of docs/webhooks.md, run as it is written against real deliveries: it accepts
what Selaras signs, refuses a forged body, and handles a repeated delivery once."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from leads import services as leads
from tests.slas.conftest import jkt
from webhooks import services
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db
DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def example() -> dict:
    code = re.search(r"## A receiver to copy.*?```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    namespace: dict = {"__name__": "receiver_example"}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102  # nosec B102: our own documentation
    return namespace


class Headers(dict):
    """Header lookup as http.server gives it: by name, whatever its case."""

    def get(self, name, default=None):
        return next((value for key, value in self.items() if key.lower() == name.lower()), default)


def test_the_documented_receiver_checks_real_deliveries_and_drops_repeats(receiver, users, sales_team):
    _, secret = services.webhook_create(by=users["admin"], url=receiver.url, events=["lead.created"])
    leads.lead_create(by=users["sales_manager"], team=sales_team, name="Siti Rahma", now=jkt(2026, 8, 5, 9))
    services.webhooks_deliver(now=jkt(2026, 8, 5, 9))
    services.delivery_redeliver(delivery=WebhookDelivery.objects.get(), by=users["admin"], now=jkt(2026, 8, 5, 10))
    services.webhooks_deliver(now=jkt(2026, 8, 5, 10))
    first, repeat = receiver.received
    handler = example()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert handler["handle"](Headers(first.headers), first.body, secret) == 200
        assert handler["handle"](Headers(repeat.headers), repeat.body, secret) == 200
        forged = first.body.replace(b"Siti Rahma", b"Someone Else")
        assert handler["handle"](Headers(first.headers), forged, secret) == 401
        assert handler["handle"](Headers(first.headers), first.body, "whsec_wrong") == 401
    lead_id = WebhookDelivery.objects.get().lead_id
    assert printed.getvalue() == f"lead.created {lead_id}\n"  # handled once
