"""The follow-up tallies (leads.models.TouchTally): follow-ups per UTC hour and per the teams
their lead counts for, kept in step by the services that change what they count.

A change adds the rows it brings (`sign=1`) or takes away those it removes (`sign=-1`),
counted from the follow-ups as stored at that moment, in one INSERT … ON CONFLICT DO UPDATE.
A move (a follow-up's time corrected, a lead given another campaign, a campaign moved to
another team) takes the rows away before the change and adds them back after it, in the
caller's transaction. Two writers at once add to the same row one after the other (its row
lock), so no count is lost. `touch_tallies_rebuild` counts them all afresh: after a bulk load
that bypassed the services, or to repair.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from leads.models import TouchTally

# The hour a follow-up fell in, as stored (UTC; SQLite keeps text).
HOUR = {
    "postgresql": "date_trunc('hour', t.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    "sqlite": "strftime('%%Y-%%m-%%d %%H:00:00', t.occurred_at)",
}

COUNTED = """SELECT {hour}, l.team_id, COALESCE(c.team_id, 0), COALESCE(l.created_by_id, 0),
       %s * COUNT(*), %s * COUNT(CASE WHEN t.origin <> 'manual' THEN 1 END)
  FROM leads_touch t JOIN leads_lead l ON l.id = t.lead_id LEFT JOIN leads_campaign c ON c.id = l.campaign_id
 WHERE {where}
 GROUP BY 1, 2, 3, 4
 ORDER BY 1, 2, 3, 4"""

ADD = """INSERT INTO leads_touchtally (hour, team_id, campaign_team_id, creator_id, touches, captured)
{counted}
ON CONFLICT (hour, team_id, campaign_team_id, creator_id)
DO UPDATE SET touches = leads_touchtally.touches + excluded.touches,
              captured = leads_touchtally.captured + excluded.captured"""

FILL = """INSERT INTO leads_touchtally (hour, team_id, campaign_team_id, creator_id, touches, captured)
{counted}"""


def touch_tallies_count(
    *,
    sign: int,
    touch_ids: Iterable[int] | None = None,
    lead_ids: Iterable[int] | None = None,
    campaign_id: int | None = None,
) -> None:
    """Add (`sign=1`) or take away (`sign=-1`) the follow-ups given by id, those of the leads
    given by id, or those of a campaign's leads, as they are stored now. One statement."""
    if touch_ids is not None:
        ids = sorted(set(touch_ids))
        where, params = f"t.id IN ({', '.join(['%s'] * len(ids))})", ids
    elif lead_ids is not None:
        ids = sorted(set(lead_ids))
        where, params = f"t.lead_id IN ({', '.join(['%s'] * len(ids))})", ids
    elif campaign_id is not None:
        where, params = "l.campaign_id = %s", [campaign_id]
    else:
        raise TypeError("touch_ids, lead_ids or campaign_id")
    if not params:
        return
    counted = COUNTED.format(hour=HOUR[connection.vendor], where=where)
    with connection.cursor() as cursor:
        cursor.execute(ADD.format(counted=counted), [sign, sign, *params])


def touch_tallies_rebuild() -> int:
    """Count every follow-up afresh (after a bulk load, or to repair); answers the rows."""
    with transaction.atomic():
        TouchTally.objects.all().delete()
        counted = COUNTED.format(hour=HOUR[connection.vendor], where="1 = 1")
        with connection.cursor() as cursor:
            cursor.execute(FILL.format(counted=counted), [1, 1])
    return TouchTally.objects.count()
