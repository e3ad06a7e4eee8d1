"""Who is asking, and how often: the client's address and rate limits counted in the cache.

The address is the connection's, or, behind `NUM_PROXIES` proxies that each append to
X-Forwarded-For, the one the outermost of them saw: never a header the client wrote
itself. Counters live in the configured cache (`CACHE_URL`), shared by every web process
when that names a shared cache such as Redis. A cache that cannot be reached lets the
request through (logged) rather than failing it: the limits slow attackers down, the
lockout of django-axes (in the database) still guards the password.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from redis.exceptions import RedisError
from rest_framework import throttling

logger = logging.getLogger(__name__)
CACHE_ERRORS = (RedisError, OSError)


def client_ip(request: HttpRequest) -> str:
    """The client's address (see the module's docstring); the same as DRF's throttles use."""
    proxies = settings.NUM_PROXIES
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if forwarded:
            return forwarded[-min(proxies, len(forwarded))]
    return request.META.get("REMOTE_ADDR", "")


def rate_exceeded(*, scope: str, key: str, limit: int, per: int) -> bool:
    """Count one hit of `key` in `scope`; True once the window of `per` seconds holds more
    than `limit` of them. A fixed window, counted atomically (add, then incr)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    name = f"rate:{scope}:{digest}:{int(time.time()) // per}"
    try:
        cache.add(name, 0, per)
        count = cache.incr(name)
    except CACHE_ERRORS:
        logger.warning("rate limit %s not counted: the cache is unreachable", scope)
        return False
    except ValueError:  # the window's key expired between add and incr: a new window
        return False
    return count > limit


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    """DRF's scoped throttle, letting the request through when the cache is unreachable."""

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS:
            logger.warning("throttle %s not counted: the cache is unreachable", self.scope)
            return True
