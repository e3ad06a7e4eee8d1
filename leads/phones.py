"""Phone numbers in E.164 (SPEC §2): read with the `phonenumbers` library in the country of
the lead's team (its holiday country; Indonesia when it has none), so that "0812-3456-7890",
"+62 812 3456 7890" and "6281234567890" are one number, "+6281234567890", wherever it came
from: a page, the API, an import, a form or WhatsApp."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DEFAULT_REGION = "ID"


def phone_e164(raw: str, *, region: str = "") -> str:
    """The number in E.164, or "" for none. Raises ValidationError for text that is not a
    possible phone number (too short, too long, letters)."""
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, (region or DEFAULT_REGION).upper())
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("“%(value)s” is not a phone number.") % {"value": text}, code="phone") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(_("“%(value)s” is not a phone number.") % {"value": text}, code="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=4096)
def phone_display(value: str) -> str:
    """An E.164 number as people write it ("+62 812-3456-7890"); anything else as it is.
    Remembered: a queue shows each card's number three times, and reps see the same leads
    all day, while parsing a number costs about as much as the rest of its card."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
