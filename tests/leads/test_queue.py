"""The rep's queue page: one page read in three statements, its cards a Jinja2 template.

The page is checked against `lead_queue`, the one-query definition of the queue: the same
leads in the same order on every page, with the same annotations and deadlines, and cards
saying what they say.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.template import engines
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from leads import selectors
from leads import services as lead_services
from leads.views import QUICK_KINDS
from tests.factories import LeadFactory, seed_slas

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 8, 20, 10, tzinfo=JAKARTA)  # a Thursday
# the session, the user with their team (its time zone); the queue's order; its page's leads and
# their clocks; unassigned leads
QUEUE_STATEMENTS = 6


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


def _as_shown(lead, clocks) -> tuple:
    """What a card shows of a lead, from `lead_queue`'s annotations or the page's clocks."""
    clock = clocks.get(lead.pk) if clocks is not None else None
    due = (clock.due_at, clock.warn_at, clock.kind) if clock else (None, None, None)
    if clocks is None:
        due = (lead.sla_due_at, lead.sla_warn_at, lead.sla_kind)
    return (lead.pk, lead.name, lead.answered, lead.touch_count, lead.last_touch_at, *due)


@pytest.mark.parametrize("per_page", [50, 7])
def test_the_pages_hold_lead_queues_leads_in_its_order_with_its_annotations(users, sales_team, slas, pinned, per_page):
    _fill_queue(users, sales_team, 55)
    rep = users["sales_rep"]
    expected = list(selectors.lead_queue(user=rep))
    first = selectors.lead_queue_page(user=rep, number=1, per_page=per_page)
    more = range(2, first.page.paginator.num_pages + 1)
    pages = [first, *(selectors.lead_queue_page(user=rep, number=n, per_page=per_page) for n in more)]
    assert [len(page.leads) for page in pages][:2] == [per_page, min(per_page, 55 - per_page)]
    shown = [_as_shown(lead, page.clocks) for page in pages for lead in page.leads]
    assert shown == [_as_shown(lead, None) for lead in expected]
    assert len(expected) == pages[0].page.paginator.count == 55
    assert {page.unanswered for page in pages} == {sum(1 for lead in expected if not lead.answered)}
    # Every kind is there, and the order is the queue's: unanswered first, nearest deadline first.
    assert {row[-1] for row in shown} == {"response", "cadence", None}
    assert [row[2] for row in shown] == sorted(row[2] for row in shown)
    assert any(not row[2] and row[4] for row in shown)  # answered by the former owner only


def test_a_page_past_the_end_is_the_last_and_a_bad_number_the_first(users, sales_team, slas, pinned):
    _fill_queue(users, sales_team, 12)
    rep = users["sales_rep"]
    last = selectors.lead_queue_page(user=rep, number="99", per_page=5)
    assert last.page.number == 3 and len(last.leads) == 2
    assert selectors.lead_queue_page(user=rep, number="x", per_page=5).page.number == 1


def test_an_empty_queue_has_one_empty_page(users):
    page = selectors.lead_queue_page(user=users["sales_rep"], number=None, per_page=50)
    assert page.leads == [] and page.clocks == {} and page.unanswered == 0 and page.page.paginator.count == 0


class _Clock:
    def __init__(self, due_at, warn_at=None, kind="response"):
        self.due_at, self.warn_at, self.kind = due_at, warn_at, kind


def _card(lead=None, clock=None, *, language="en", **annotations) -> str:
    """The card of one lead (built, not saved) with `lead_queue_cards`' annotations."""
    lead = lead or LeadFactory.build(
        pk=7,
        name="Siti Rahma",
        company="PT Maju",
        source="web",
        phone="+62 812 1111 2222",
        email="siti@example.com",
        assigned_at=NOW - timedelta(days=2, hours=3),
    )
    values = {"answered": True, "touch_count": 3, "last_touch_at": NOW - timedelta(hours=5)} | annotations
    for name, value in values.items():
        setattr(lead, name, value)
    request = RequestFactory().get("/leads/queue/?page=2")
    context = {
        "leads": [lead],
        "clocks": {lead.pk: clock} if clock else {},
        "kinds": QUICK_KINDS,
        "next": "/leads/queue/?page=2",
        "now": NOW,
        "flash": "",
    }
    with translation.override(language):
        return render_to_string("leads/queue_cards.html", context, request, using="jinja2")


@pytest.mark.parametrize(
    "language,origin,follow_ups,ages,overdue,at_risk,due_in",
    [
        (
            "en",
            "PT Maju · Website",
            "Follow-ups: 3",
            "Assigned 2 d 3 h ago · last follow-up 5 h ago",
            "First follow-up overdue by 1 h 20 min",
            "First follow-up at risk: due in 40 min",
            "Follow-ups on pace: 1 d 2 h left",
        ),
        (
            "id",
            "PT Maju · Situs web",
            "Tindak lanjut: 3",
            "Ditugaskan 2 hr 3 jam yang lalu · tindak lanjut terakhir 5 jam yang lalu",
            "Terlambat 1 jam 20 mnt",
            "Berisiko: jatuh tempo dalam 40 mnt",
            "Jatuh tempo dalam 1 hr 2 jam",
        ),
    ],
)
def test_a_card_says_what_the_lead_annotations_say_in_the_users_language(
    language, origin, follow_ups, ages, overdue, at_risk, due_in
):
    late = _card(clock=_Clock(NOW - timedelta(hours=1, minutes=20), NOW - timedelta(hours=3)), language=language)
    soon = _card(clock=_Clock(NOW + timedelta(minutes=40), NOW - timedelta(hours=1)), language=language)
    later = _card(
        clock=_Clock(NOW + timedelta(days=1, hours=2), NOW + timedelta(hours=20), "cadence"), language=language
    )
    assert origin in late and follow_ups in late and ages in late
    assert 'class="badge text-bg-danger"><i class="bi bi-alarm" aria-hidden="true"></i> ' in late
    assert 'class="badge text-bg-warning"><i class="bi bi-exclamation-triangle"' in soon
    assert 'class="badge text-bg-light border"><i class="bi bi-clock"' in later
    if language == "en":
        assert overdue in late and at_risk in soon and due_in in later
    else:  # the words differ by kind in English only where Indonesian has them too
        assert "terlambat" in late.lower() and "40 mnt" in soon and "1 hr 2 jam" in later
    assert 'id="queue-lead-7"' in late and 'href="/leads/7/"' in late and 'action="/leads/7/touch/"' in late
    # The number is a tap that logs the call or message (views_taps), not a bare tel: link.
    assert 'formaction="/leads/7/tap/call/"' in late and 'formaction="/leads/7/tap/whatsapp/"' in late
    assert 'href="tel:' not in late and 'href="mailto:siti@example.com"' in late


def test_an_unanswered_card_and_a_lead_that_left_the_queue():
    card = _card(answered=False, touch_count=0, last_touch_at=None)
    assert "Not answered yet" in card and "border-danger-subtle" in card and "Follow-ups:" not in card
    assert "Assigned 2 d 3 h ago</div>" in card
    assert "bi-alarm" not in card  # no clock, no deadline badge
    # A lead without the annotations (it has just left the queue) shows as unanswered, with no deadline.
    plain = LeadFactory.build(pk=8, name="Left", company="", assigned_at=None)
    request = RequestFactory().get("/leads/8/touch/")
    context = {"leads": [plain], "clocks": {}, "kinds": QUICK_KINDS, "next": "/leads/queue/", "now": NOW, "flash": ""}
    left = render_to_string("leads/queue_cards.html", context, request, using="jinja2")
    assert "Not answered yet" in left and ">Website</div>" in left and 'href="/leads/8/"' in left
    assert "Assigned" not in left and "last follow-up" not in left


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
        '{% load selaras %}{% jinja "leads/quick_touch.html" lead=lead kinds=kinds fragment="queue" '
        'target="closest article" next="/leads/queue/?page=2" %}'
    )
    with translation.override(language):
        html = render_to_string(
            "leads/queue_cards.html",
            {"leads": [lead], "clocks": {}, "kinds": QUICK_KINDS, "next": "/leads/queue/?page=2", "now": NOW}
            | {"flash": ""},
            request,
            using="jinja2",
        )
        partial = template.render({"lead": lead, "kinds": QUICK_KINDS}, request)
    card = html[html.index("<form ") : html.index("</form>") + len("</form>")]
    token = 'name="csrfmiddlewaretoken" value="'
    same = [part.split(token)[0] + part.split(token)[1].split('"', 1)[1] for part in (card, partial.strip())]
    assert same[0] == same[1]  # the same form but for the token, masked anew each time
    action = f'action="/leads/{lead.pk}/touch/"'
    assert card.count("<form ") == card.count(action) == card.count(token) == 1
    assert [card.count(f'type="submit" name="kind" value="{kind.value}"') for kind in QUICK_KINDS] == [1] * len(
        QUICK_KINDS
    )
    assert 'name="fragment" value="queue"' in card and 'name="next" value="/leads/queue/?page=2"' in card
    assert f"{label}</button>" in card and 'hx-target="closest article"' in card
    assert "&lt;b&gt;O&#39;Brien &amp; &#34;Co&#34;&lt;/b&gt;" in card and "<b>" not in card
    assert f'aria-label="{group}&lt;b&gt;O' in card


def test_a_page_of_cards_prints_one_csrf_token_for_all_its_forms(users, sales_team, slas, pinned, client):
    _fill_queue(users, sales_team, 6)
    client.force_login(users["sales_rep"])
    page = client.get("/leads/queue/").content.decode()
    cards = page[page.index('id="queue"') : page.rindex("</article>")]
    tokens = [part.split('"', 1)[0] for part in cards.split('name="csrfmiddlewaretoken" value="')[1:]]
    assert cards.count("<article ") == len(tokens) == 6 and len(set(tokens)) == 1


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
    assert len(response.context["queue"].leads) == 50 and response.context["page"].paginator.count == 70
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
    assert "Ditugaskan 1 hr" in page and "yang lalu" in page and "Catat Telepon" in page
