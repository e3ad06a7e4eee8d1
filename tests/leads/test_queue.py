"""The rep's queue page: one page read in two statements, cards worked out in Python.

The page is checked against `lead_queue`, the one-query definition of the queue: the same
leads in the same order on every page, and cards saying what its annotations say.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.template import engines
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.safestring import mark_safe

from leads import selectors
from leads import services as lead_services
from leads.cards import QueueCards, QuickTouch
from leads.views import QUICK_KINDS
from slas.badges import DueBadge
from tests.factories import LeadFactory, seed_slas

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 8, 20, 10, tzinfo=JAKARTA)  # a Thursday
# the session, the user with their team (its time zone); the queue's order; its page's cards; unassigned leads
QUEUE_STATEMENTS = 5


@pytest.fixture
def pinned():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def slas(users, sales_team):
    """A response and a cadence SLA: every assignment starts two clocks, due at different times."""
    seed_slas(team=sales_team, by=users["sales_manager"], now=NOW - timedelta(days=90))


def _fill_queue(users, sales_team, n: int) -> None:
    """`n` open leads of rep1 of every kind the queue sorts: never answered (deadline passed,
    near or far), answered once or more, answered by a former owner only, and leads without
    clocks, some assigned at the very same moment (the id breaks the tie)."""
    rep, other, manager = users["sales_rep"], users["other_rep"], users["sales_manager"]
    for i in range(n):
        kind = i % 5
        created = NOW - timedelta(hours=(i * 7) % 80 + 1, minutes=i)
        if kind == 4:  # no clocks: assigned before any SLA ran, five at one moment
            LeadFactory(team=sales_team, owner=rep, name=f"Lead {i:02d}", created_at=NOW - timedelta(days=3))
            continue
        lead = LeadFactory(team=sales_team, name=f"Lead {i:02d}", created_at=created, phone=f"+62 812 {i:04d}")
        first = other if kind == 3 else rep
        lead_services.lead_assign(lead=lead, owner=first, by=manager, now=created)
        for touch in range(kind if kind in (1, 2) else 1 if kind == 3 else 0):
            lead_services.touch_log(lead=lead, by=first, kind="call", now=created + timedelta(minutes=20 + touch))
        if kind == 3:  # the new owner has not answered yet
            lead_services.lead_assign(lead=lead, owner=rep, by=manager, now=created + timedelta(hours=1))
    LeadFactory(team=sales_team, owner=rep, status="won", name="Closed", created_at=NOW - timedelta(days=1))
    LeadFactory(team=sales_team, owner=other, name="Teammate's", created_at=NOW - timedelta(days=1))


@pytest.mark.parametrize("per_page", [50, 7])
def test_the_pages_hold_lead_queues_leads_in_its_order_with_its_annotations(users, sales_team, slas, pinned, per_page):
    _fill_queue(users, sales_team, 55)
    rep = users["sales_rep"]
    expected = list(selectors.lead_queue(user=rep))
    first = selectors.lead_queue_page(user=rep, number=1, per_page=per_page, now=NOW)
    more = range(2, first.page.paginator.num_pages + 1)
    pages = [first, *(selectors.lead_queue_page(user=rep, number=n, per_page=per_page, now=NOW) for n in more)]
    assert [len(page.cards) for page in pages][:2] == [per_page, min(per_page, 55 - per_page)]
    maker = QueueCards(now=NOW)
    assert [card for page in pages for card in page.cards] == [maker.card_of(lead) for lead in expected]
    assert len(expected) == pages[0].page.paginator.count == 55
    assert {page.unanswered for page in pages} == {sum(1 for lead in expected if not lead.answered)}
    # Every kind is there, and the order is the queue's: unanswered first, nearest deadline first.
    cards = [card for page in pages for card in page.cards]
    assert {card.due.style if card.due else None for card in cards} >= {"text-bg-danger", "text-bg-light border", None}
    assert [card.answered for card in cards] == sorted(card.answered for card in cards)
    assert any(not card.answered and "last follow-up" in card.ages for card in cards)  # the former owner's


def test_a_page_past_the_end_is_the_last_and_a_bad_number_the_first(users, sales_team, slas, pinned):
    _fill_queue(users, sales_team, 12)
    rep = users["sales_rep"]
    last = selectors.lead_queue_page(user=rep, number="99", per_page=5, now=NOW)
    assert last.page.number == 3 and len(last.cards) == 2
    assert selectors.lead_queue_page(user=rep, number="x", per_page=5, now=NOW).page.number == 1


def test_an_empty_queue_has_one_empty_page(users):
    page = selectors.lead_queue_page(user=users["sales_rep"], number=None, per_page=50, now=NOW)
    assert page.cards == [] and page.unanswered == 0 and page.page.paginator.count == 0


ROW = {
    "pk": 7,
    "name": "Siti Rahma",
    "company": "PT Maju",
    "source": "web",
    "phone": "+62 812 1111 2222",
    "email": "siti@example.com",
    "assigned_at": NOW - timedelta(days=2, hours=3),
    "answered": True,
    "touch_count": 3,
    "last_touch_at": NOW - timedelta(hours=5),
    "sla_due_at": NOW - timedelta(hours=1, minutes=20),
    "sla_warn_at": NOW - timedelta(hours=3),
}


@pytest.mark.parametrize(
    "language,source,follow_ups,ages,overdue,at_risk,due_in",
    [
        (
            "en",
            "Website",
            "3 follow-ups",
            "Assigned 2\xa0days, 3\xa0hours ago · last follow-up 5\xa0hours ago",
            "Overdue by 1 h 20 min",
            "At risk: due in 40 min",
            "Due in 1 d 2 h",
        ),
        (
            "id",
            "Situs web",
            "3 tindak lanjut",
            "Ditugaskan 2\xa0hari, 3\xa0jam yang lalu · tindak lanjut terakhir 5\xa0jam yang lalu",
            "Terlambat 1 jam 20 mnt",
            "Berisiko: jatuh tempo dalam 40 mnt",
            "Jatuh tempo dalam 1 hr 2 jam",
        ),
    ],
)
def test_a_card_says_what_the_lead_annotations_say_in_the_users_language(
    language, source, follow_ups, ages, overdue, at_risk, due_in
):
    with translation.override(language):
        maker = QueueCards(now=NOW)
        card = maker.card(ROW)
        soon = maker.card(ROW | {"sla_due_at": NOW + timedelta(minutes=40)})
        later = maker.card(
            ROW | {"sla_due_at": NOW + timedelta(days=1, hours=2), "sla_warn_at": NOW + timedelta(hours=20)}
        )
    assert (card.origin, card.follow_ups, card.ages) == (f"PT Maju · {source}", follow_ups, ages)
    assert card.due == DueBadge("text-bg-danger", "alarm", overdue)
    assert soon.due == DueBadge("text-bg-warning", "exclamation-triangle", at_risk)
    assert later.due == DueBadge("text-bg-light border", "clock", due_in)
    assert (card.dom_id, card.url, card.touch_url) == ("queue-lead-7", "/leads/7/", "/leads/7/touch/")


def test_an_unanswered_card_and_a_lead_that_left_the_queue():
    maker = QueueCards(now=NOW)
    card = maker.card(ROW | {"answered": False, "touch_count": 0, "last_touch_at": None, "sla_due_at": None})
    assert (card.answered, card.follow_ups, card.due) == (False, "", None)
    assert card.ages == "Assigned 2\xa0days, 3\xa0hours ago"
    assert maker.card(ROW | {"touch_count": 1}).follow_ups == "1 follow-up"
    plain = LeadFactory.build(pk=8, name="Left", company="", assigned_at=None)  # no queue annotations
    left = maker.card_of(plain)
    assert (left.answered, left.follow_ups, left.due, left.ages) == (False, "", None, "")
    assert (left.name, left.origin, left.url) == ("Left", "Website", "/leads/8/")


@pytest.mark.parametrize(
    "language,label,group",
    [("en", "Log Call", "Log a follow-up for "), ("id", "Catat Telepon", "Catat tindak lanjut untuk ")],
)
def test_the_quick_touch_forms_post_each_kind_to_the_lead_with_the_csrf_token(
    users, sales_team, language, label, group
):
    """The queue's cards and the lead page print the same form: one a lead, to its touch URL,
    with the page's CSRF token, a button for each kind, and the lead's name escaped."""
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], name='<b>O\'Brien & "Co"</b>')
    request = RequestFactory().get("/leads/queue/?page=2")
    request.user = users["sales_rep"]
    template = engines["django"].from_string(
        '{% load leads_tags %}{% quick_touch fragment="queue" target="closest article" as forms %}'
        "{% for card in cards %}{% quick_touch_forms forms card.touch_url card.name %}{% endfor %}<!-- partial -->"
        '{% include "leads/_quick_touch.html" with fragment="queue" target="closest article" %}'
    )
    with translation.override(language):
        cards = [QueueCards(now=NOW).card_of(lead)]
        html = template.render({"cards": cards, "lead": lead, "touch_kinds": QUICK_KINDS}, request)
    card, partial = html.split("<!-- partial -->")
    assert card == partial.strip()
    action = f'action="/leads/{lead.pk}/touch/"'
    assert card.count("<form ") == card.count(action) == card.count('name="csrfmiddlewaretoken"') == 1
    assert [card.count(f'type="submit" name="kind" value="{kind.value}"') for kind in QUICK_KINDS] == [1] * len(
        QUICK_KINDS
    )
    assert 'name="fragment" value="queue"' in card and 'name="next" value="/leads/queue/?page=2"' in card
    assert f"{label}</button>" in card and 'hx-target="closest article"' in card
    assert "&lt;b&gt;O&#x27;Brien &amp; &quot;Co&quot;&lt;/b&gt;" in card and "<b>" not in card
    assert f'aria-label="{group}&lt;b&gt;O' in card


def test_quick_touch_forms_keep_braces_and_quotes_of_every_part_literally():
    """The shared parts become a format string once a page: braces in them stay text, and a
    lead's name or URL cannot reach into them."""
    forms = QuickTouch(
        kinds=QUICK_KINDS[:1],
        csrf_input=mark_safe('<input type="hidden" name="csrfmiddlewaretoken" value="t{0}k">'),
        fragment='q{"x"}',
        target="closest article",
        next_url="/leads/queue/?q={url}&page=2",
    )
    html = forms.forms("/leads/7/touch/", "{label} {0} <i>")
    assert 'value="t{0}k"' in html and 'value="q{&quot;x&quot;}"' in html
    assert 'value="/leads/queue/?q={url}&amp;page=2"' in html
    assert html.count('action="/leads/7/touch/"') == 1
    assert 'aria-label="Log a follow-up for {label} {0} &lt;i&gt;"' in html


def _statements(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in queries.captured_queries]


def test_the_queue_page_takes_the_same_statements_for_10_and_50_cards(client, users, sales_team, slas, pinned):
    rep = users["sales_rep"]
    _fill_queue(users, sales_team, 10)
    LeadFactory(team=sales_team, name="Nobody's")  # listed under "Take it"
    client.force_login(rep)
    client.get("/leads/queue/")  # the session, and what a process loads once
    ten = _statements(client, "/leads/queue/")
    _fill_queue(users, sales_team, 60)
    response = client.get("/leads/queue/")
    assert len(response.context["queue"]) == 50 and response.context["page"].paginator.count == 70
    fifty = _statements(client, "/leads/queue/")
    assert len(ten) == len(fifty) == QUEUE_STATEMENTS, "\n".join(fifty)


def test_the_page_shows_the_cards_in_indonesian(client, users, sales_team, slas, pinned):
    rep = users["sales_rep"]
    rep.language = "id"
    rep.save(update_fields=["language"])
    _fill_queue(users, sales_team, 10)
    client.force_login(rep)
    page = client.get("/leads/queue/").content.decode()
    assert "10 prospek terbuka" in page and "Belum ditindaklanjuti" in page and "pertama terlambat " in page
    assert "Ditugaskan 1\xa0hari" in page and "yang lalu" in page and "Catat Telepon" in page
