"""The SQL of the grouped scorecard statements (kpis.grouped): what each reads, by the teams
a row belongs to and by bucket; the exact median and hours on PostgreSQL; and how their
values come back on either backend."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_datetime

from kpis.metrics import ZERO


def bucket_sql(column: str, bounds: list[datetime], low: int = 0, high: int | None = None) -> tuple[str, list[Any]]:
    """SQL for the bucket of `column`, for rows in [bounds[0], bounds[-1]): the number of
    inner bounds at or before it, found in [low, high] by halves (a nightly run has dozens
    of bounds; a row costs a handful of comparisons, not dozens)."""
    high = len(bounds) - 2 if high is None else high
    if low == high:
        return str(low), []
    middle = (low + high + 1) // 2
    below, below_params = bucket_sql(column, bounds, low, middle - 1)
    above, above_params = bucket_sql(column, bounds, middle, high)
    sql = f"CASE WHEN {column} < %s THEN {below} ELSE {above} END"
    return sql, [param(bounds[middle]), *below_params, *above_params]


def param(value: datetime) -> Any:
    """An instant as a parameter of these statements."""
    return connection.ops.adapt_datetimefield_value(value)


def instant(value: Any) -> datetime:
    """A timestamp as the ORM returns it: aware, in UTC (SQLite hands back text)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def money_value(value: Any) -> Decimal:
    """A sum of money as the ORM returns `Sum` of a DecimalField: SQLite sums them as floats,
    and Django keeps 15 significant digits of the float."""
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Context(prec=15).create_decimal_from_float(value)


def hours_between(later: Any, earlier: Any) -> float:
    """Hours between two timestamps of a row, as `timedelta.total_seconds() / 3600`."""
    return (instant(later) - instant(earlier)).total_seconds() / 3600


def fetch(sql: str, params: list[Any]) -> list[tuple]:
    """The rows of a statement on the default connection."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def postgres() -> bool:
    """Whether the statements run on PostgreSQL (else SQLite: no ordered-set aggregates)."""
    return connection.vendor == "postgresql"


# A lead's teams other than its sales team: its campaign's and its creator's.
TEAMS = """LEFT JOIN leads_campaign c ON c.id = l.campaign_id
    LEFT JOIN teams_user u ON u.id = l.created_by_id"""

# Leads created in the cards' periods or the periods before (growth); only those from the
# first card's start on pay for the look-ups (reached qualified, first assigned).
CREATED = """WITH {cards}facts AS (
  SELECT l.id, l.team_id AS sales_team, c.team_id AS campaign_team, u.team_id AS creator_team,
         l.created_at, l.status, l.source, l.campaign_id, {bucket} AS bucket,
         CASE WHEN l.created_at >= %s AND l.reached_qualified THEN 1 ELSE 0 END AS qualified,
         CASE WHEN l.created_at >= %s THEN l.first_assigned_at END AS first_assigned
    FROM leads_lead l {teams}
   WHERE l.created_at >= %s AND l.created_at < %s
)
SELECT 'count', sales_team, campaign_team, creator_team, bucket, source, campaign_id,
       COUNT(*), SUM(qualified), COUNT(CASE WHEN status = 'won' THEN 1 END),
       COUNT(CASE WHEN status = 'rejected' THEN 1 END), CAST(NULL AS double precision)
  FROM facts GROUP BY sales_team, campaign_team, creator_team, bucket, source, campaign_id
UNION ALL
SELECT 'reason', NULL, campaign_team, creator_team, bucket, r.reason, NULL, COUNT(*), NULL, NULL, NULL, NULL
  FROM facts x JOIN leads_rejection r ON r.lead_id = x.id AND r.overturned_at IS NULL
 WHERE x.created_at >= %s AND (x.campaign_team IS NOT NULL OR x.creator_team IS NOT NULL)
 GROUP BY campaign_team, creator_team, bucket, r.reason
UNION ALL
{assigned}"""
# PostgreSQL: the median per card, through the leads' three teams.
ASSIGNED_MEDIAN = """SELECT 'median', i, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, {median}
  FROM ({routes}) routes WHERE first_assigned IS NOT NULL GROUP BY i"""
# SQLite: the timestamps, to Python.
ASSIGNED_VALUES = """SELECT 'value', sales_team, campaign_team, creator_team, bucket, created_at, first_assigned,
       NULL, NULL, NULL, NULL, NULL
  FROM facts WHERE first_assigned IS NOT NULL"""

# The leads of `facts` in the cards whose range [s, e) holds `at`, one row per lead and card.
ROUTES = """
  SELECT k.i, x.* FROM facts x JOIN card k
      ON k.kind = 'sales' AND k.team_id = x.sales_team AND x.{at} >= k.s AND x.{at} < k.e
  UNION ALL
  SELECT k.i, x.* FROM facts x JOIN card k
      ON k.kind = 'marketing' AND k.team_id = x.campaign_team AND x.{at} >= k.s AND x.{at} < k.e
  UNION ALL
  SELECT k.i, x.* FROM facts x JOIN card k
      ON k.kind = 'marketing' AND k.team_id = x.creator_team AND x.{at} >= k.s AND x.{at} < k.e
   WHERE x.campaign_team IS NULL OR x.campaign_team <> x.creator_team"""


def median_sql(hours: str) -> str:
    """The median of an expression, to the bit of `statistics.median` (PostgreSQL): the mean
    of the lower and the upper middle value, from one sort. `percentile_disc(f)` is the value
    at position ceil(f × n); at f = 0.5 that is the lower middle, and a hair above 0.5 (less
    than 1/n for any n below 10^14) the upper one, the same for an odd n. PostgreSQL computes
    the two identical aggregates once."""
    both = f"percentile_disc(ARRAY[0.5, {UPPER_MIDDLE}]) WITHIN GROUP (ORDER BY {hours})"
    return f"(({both})[1] + ({both})[2]) / 2"


UPPER_MIDDLE = "0.50000000000001"  # 0.5 + 1e-14


def hours_sql(later: str, earlier: str) -> str:
    """Hours between two instants as Python's `timedelta.total_seconds() / 3600` gives them:
    exact seconds (numeric) rounded once to a double, then divided."""
    return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS double precision) / 3600"


WON = """SELECT l.team_id, c.team_id, u.team_id, l.campaign_id, {bucket}, l.company, COUNT(*), SUM(l.value)
  FROM leads_lead l {teams}
 WHERE l.status = 'won' AND l.closed_at >= %s AND l.closed_at < %s
 GROUP BY 1, 2, 3, 4, 5, 6"""

# Leads first assigned in the cards' periods, with their first follow-up at or after it.
FIRST_RESPONSES = """WITH {cards}facts AS (
  SELECT l.team_id AS sales_team, c.team_id AS campaign_team, u.team_id AS creator_team,
         {bucket} AS bucket, l.first_assigned_at AS first_assigned, l.first_response_at AS first_touch
    FROM leads_lead l {teams}
   WHERE l.first_assigned_at >= %s AND l.first_assigned_at < %s AND l.first_response_at IS NOT NULL
)
{select}"""
FIRST_RESPONSE_MEDIAN = """SELECT i, {median} FROM ({routes}) routes WHERE first_touch IS NOT NULL GROUP BY i"""
FIRST_RESPONSE_VALUES = """SELECT sales_team, campaign_team, creator_team, bucket, first_assigned, first_touch
  FROM facts WHERE first_touch IS NOT NULL"""

# Response, cadence and assignment clocks that fell due (met; breached, waived left out) by team;
# breaches that fell due, not waived, by sales team and by the marketing team that owed them; and
# disputes of rejections (SPEC §15) raised, and overturned, in the periods, by the sales team of
# the disputed lead and the team of the person who raised it.
SLAS = """SELECT 'clock', c.team_id, NULL, c.kind, {clock_bucket},
       COUNT(CASE WHEN c.state = 'met' THEN 1 END), COUNT(CASE WHEN c.state = 'breached' AND b.waived = %s THEN 1 END)
  FROM slas_clock c LEFT JOIN slas_breach b ON b.clock_id = c.id AND c.state = 'breached'
 WHERE c.kind IN ('response', 'cadence', 'assignment') AND c.due_at >= %s AND c.due_at < %s
 GROUP BY 2, 4, 5
UNION ALL
SELECT 'breach', b.team_id, b.responsible_team_id, NULL, {breach_bucket}, COUNT(*), NULL
  FROM slas_breach b
 WHERE b.waived = %s AND b.due_at >= %s AND b.due_at < %s
 GROUP BY 2, 3, 5
UNION ALL
SELECT 'raised', l.team_id, u.team_id, NULL, {raised_bucket}, COUNT(*), NULL
  FROM leads_dispute d JOIN leads_lead l ON l.id = d.lead_id JOIN teams_user u ON u.id = d.raised_by_id
 WHERE d.raised_at >= %s AND d.raised_at < %s
 GROUP BY 2, 3, 5
UNION ALL
SELECT 'overturned', l.team_id, u.team_id, NULL, {ruled_bucket}, COUNT(*), NULL
  FROM leads_dispute d JOIN leads_lead l ON l.id = d.lead_id JOIN teams_user u ON u.id = d.raised_by_id
 WHERE d.state = 'overturned' AND d.ruled_at >= %s AND d.ruled_at < %s
 GROUP BY 2, 3, 5"""

# Touches in the cards' periods, and those not entered by hand (captured_share, SPEC §14):
# from the hourly tallies when every bound of the cards falls on a UTC hour (the zones of
# Indonesia and most others), else from the follow-ups themselves.
TOUCH_TALLIES = """SELECT t.team_id, NULLIF(t.campaign_team_id, 0), u.team_id, {bucket}, SUM(t.touches), SUM(t.captured)
  FROM leads_touchtally t LEFT JOIN teams_user u ON u.id = t.creator_id
 WHERE t.hour >= %s AND t.hour < %s
 GROUP BY 1, 2, 3, 4"""
TOUCHES = """SELECT l.team_id, c.team_id, u.team_id, {bucket}, COUNT(*),
       COUNT(CASE WHEN t.origin <> 'manual' THEN 1 END)
  FROM leads_touch t JOIN leads_lead l ON l.id = t.lead_id {teams}
 WHERE t.occurred_at >= %s AND t.occurred_at < %s
 GROUP BY 1, 2, 3, 4"""
