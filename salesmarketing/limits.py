"""Numbers and dates that every database and time zone hold (SPEC §2).

SQLite, the embedded default, keeps a decimal as an 8-byte float, which holds 15
significant digits exactly. So money has at most 13 digits before the point and 2 after,
other decimals (KPI values and targets) at most 15 significant digits, on PostgreSQL too:
a number is refused as a field error before it is stored, never read back changed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# The column of an amount of money: up to 9,999,999,999,999.99.
MONEY = {"max_digits": 15, "decimal_places": 2}
SIGNIFICANT_DIGITS = 15


@deconstructible
class SignificantDigitsValidator:
    """At most `limit` significant digits (trailing zeros after the point don't count)."""

    message = _("Use at most %(limit)d significant digits.")
    code = "significant_digits"

    def __init__(self, limit: int = SIGNIFICANT_DIGITS) -> None:
        self.limit = limit

    def __call__(self, value: Decimal) -> None:
        if value.is_finite() and len(value.normalize().as_tuple().digits) > self.limit:
            raise ValidationError(self.message, code=self.code, params={"limit": self.limit})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SignificantDigitsValidator) and other.limit == self.limit


# Dates and instants that every time zone can convert and every period can follow: a
# date in year 1 or 9999 overflows once moved into UTC or on to the next quarter.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(9998, 12, 31)
DATE_RANGE_MESSAGE = _("Choose a date between 1900 and 9998.")
DAY_VALIDATORS = [
    MinValueValidator(EARLIEST_DAY, DATE_RANGE_MESSAGE),
    MaxValueValidator(LATEST_DAY, DATE_RANGE_MESSAGE),
]
INSTANT_VALIDATORS = [
    MinValueValidator(datetime.combine(EARLIEST_DAY, time(), UTC), DATE_RANGE_MESSAGE),
    MaxValueValidator(datetime.combine(LATEST_DAY, time(), UTC), DATE_RANGE_MESSAGE),
]


def day_in_range(day: date, field: str) -> None:
    """Raise a field error unless `day` lies within [EARLIEST_DAY, LATEST_DAY]."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValidationError({field: [DATE_RANGE_MESSAGE]})
