"""Signatures of what arrives (SPEC §13): `sha256=<hex HMAC-SHA256 of the raw body>`, checked
on the raw bytes before anything is parsed, in constant time."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: str, body: bytes) -> str:
    """The header value a sender computes: `sha256=<hex>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(*, secret: str, body: bytes, header: str) -> bool:
    """Whether `header` signs `body` with `secret`. No secret signs nothing."""
    if not secret or not header:
        return False
    return hmac.compare_digest(signature(secret, body).encode(), header.strip().lower().encode())
