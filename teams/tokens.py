"""API tokens (SPEC §7): the only code that creates, rotates or revokes a user's token.

One token per user (DRF's `Token`, keyed by the key itself). The settings page, the
API and scripts call these; admins may still edit tokens in the Django admin. Every
write locks the user's row first, so two rotations at once end with one valid key
(the later one) instead of an integrity error.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from teams.models import User

VISIBLE_CHARS = 4
MASK = "•" * 8


def token_of(*, user: User) -> Token | None:
    """The user's token, or None. Read-only: looking never creates one."""
    return Token.objects.filter(user=user).first()


def token_masked(*, token: Token) -> str:
    """The key with all but its last characters hidden, enough to tell keys apart."""
    return MASK + token.key[-VISIBLE_CHARS:]


def token_create(*, user: User) -> Token:
    """Give `user` their first token.

    Raises ValidationError if they already have one: its key was shown once and
    is not shown again, so the caller should rotate instead. Transactional.
    """
    with transaction.atomic():
        _lock(user)
        if Token.objects.filter(user=user).exists():
            raise ValidationError(_("You already have an API token. Rotate it to get a new key."))
        return Token.objects.create(user=user)


def token_rotate(*, user: User) -> Token:
    """Replace the user's key with a new one (or create one if they had none).

    The old key stops authenticating as soon as this commits. Transactional.
    """
    with transaction.atomic():
        _lock(user)
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


def token_revoke(*, user: User) -> bool:
    """Delete the user's token; calls with its key then answer 401.

    Idempotent: returns whether there was a token to delete.
    """
    with transaction.atomic():
        _lock(user)
        deleted, _by_model = Token.objects.filter(user=user).delete()
    return deleted > 0


def _lock(user: User) -> None:
    """Serialise token writes per user (a no-op on SQLite, which serialises all writes)."""
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
