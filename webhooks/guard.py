"""No server-side request forgery (SPEC §12): a webhook reaches only public addresses.

A URL is refused when its host resolves to a loopback, private, link-local or otherwise
non-public address, unless the host is named in `WEBHOOK_ALLOWED_HOSTS`. The check is made
when the URL is saved and again before every delivery, and the delivery connects to the very
address that was checked: a name that resolves elsewhere between the check and the request
(DNS rebinding) cannot take it to an address that was not. Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class Refused(Exception):
    """A URL a webhook may not reach; the message says why, for the admin."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with its query
    address: str  # the checked address the request goes to


def allowed_hosts() -> set[str]:
    return {host.strip().lower().strip("[]") for host in settings.WEBHOOK_ALLOWED_HOSTS if host.strip()}


def target_of(url: str, *, resolve: bool = True) -> Target:
    """Where a POST to `url` goes: the URL's parts and one checked address of its host.
    Raises Refused for a URL that is not http(s), has no host, carries a password, does not
    resolve, or resolves to any address that is not public (and its host is not allowed).
    With `resolve=False` (checking a URL being saved) an allowed host is not looked up."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(_("Enter an http:// or https:// address."))
    if parts.username or parts.password:
        raise Refused(_("Put no user name or password in the address: the signature tells the receiver it is us."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Refused(_("The port of the address is not a number.")) from exc
    host = parts.hostname.lower()
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    if not resolve and host in allowed_hosts():
        return Target(scheme=parts.scheme, host=host, port=port, path=path, address="")
    addresses = _resolve(host, port)
    if host not in allowed_hosts():
        for address in addresses:
            if not _public(address):
                raise Refused(
                    _(
                        "%(host)s resolves to %(address)s, a loopback, private or link-local address: "
                        "webhooks only reach public addresses."
                    )
                    % {"host": host, "address": address}
                )
    return Target(scheme=parts.scheme, host=host, port=port, path=path, address=addresses[0])


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Refused(_("%(host)s does not resolve to any address.") % {"host": host}) from exc
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    if not addresses:
        raise Refused(_("%(host)s does not resolve to any address.") % {"host": host})
    return addresses


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return ip.is_global and not ip.is_multicast
