"""POSTing a body to a webhook: signed, to a checked address, within the timeout, never
following a redirect (SPEC §12)."""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass

import urllib3
from django.conf import settings

from webhooks.guard import Refused, Target, target_of

USER_AGENT = "Selaras-Webhooks/1.0"


def signature(secret: str, body: bytes) -> str:
    """The X-Selaras-Signature header: sha256=<hex HMAC-SHA256 of the body with the secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Outcome:
    code: int | None  # the receiver's status code; None when no answer came
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


class Sender:
    """Sends for one run of the worker, from several threads. Each URL's host is resolved and
    checked once per run and the request goes to the address checked; connections are kept
    alive per address."""

    def __init__(self, *, timeout: float | None = None, pool_size: int = 8) -> None:
        self.timeout = urllib3.Timeout(total=timeout or settings.WEBHOOK_TIMEOUT_SECONDS)
        self.pool_size = pool_size
        self._targets: dict[str, Target | Refused] = {}
        self._pools: dict[Target, urllib3.HTTPConnectionPool] = {}
        self._lock = threading.Lock()

    def post(self, *, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        try:
            target = self._target(url)
        except Refused as exc:
            return Outcome(None, str(exc))
        host = f"[{target.host}]" if ":" in target.host else target.host  # an IPv6 address
        if target.port != (443 if target.scheme == "https" else 80):
            host = f"{host}:{target.port}"
        try:
            response = self._pool(target).urlopen(
                "POST",
                target.path,
                body=body,
                headers={**headers, "Host": host, "User-Agent": USER_AGENT, "Content-Type": "application/json"},
                redirect=False,
                retries=False,
                timeout=self.timeout,
                assert_same_host=False,
                preload_content=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            return Outcome(None, f"{type(exc).__name__}: {exc}"[:500])
        try:
            response.drain_conn()  # read the answer to the end, so the connection is used again
        except urllib3.exceptions.HTTPError:
            pass
        finally:
            response.release_conn()
        return Outcome(response.status, "" if 200 <= response.status < 300 else f"HTTP {response.status}")

    def _target(self, url: str) -> Target:
        found = self._targets.get(url)
        if found is None:
            try:
                found = target_of(url)
            except Refused as exc:
                found = exc
            self._targets[url] = found
        if isinstance(found, Refused):
            raise found
        return found

    def _pool(self, target: Target) -> urllib3.HTTPConnectionPool:
        with self._lock:
            pool = self._pools.get(target)
            if pool is None:
                if target.scheme == "https":
                    pool = urllib3.HTTPSConnectionPool(
                        target.address,
                        target.port,
                        maxsize=self.pool_size,
                        server_hostname=target.host,
                        assert_hostname=target.host,
                        cert_reqs="CERT_REQUIRED",
                    )
                else:
                    pool = urllib3.HTTPConnectionPool(target.address, target.port, maxsize=self.pool_size)
                self._pools[target] = pool
            return pool

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
