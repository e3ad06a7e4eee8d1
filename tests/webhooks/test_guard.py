"""No server-side request forgery (SPEC §12): loopback, private and link-local addresses are
refused when a webhook is saved and again at every delivery, whatever name leads there."""

from __future__ import annotations

import socket
from unittest import mock

import pytest

from webhooks.guard import Refused, target_of

PUBLIC = "93.184.215.14"


def resolving(table: dict[str, list[str]]):
    """getaddrinfo answering from `table` (host → addresses) and refusing any other name."""

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        family = {4: socket.AF_INET, 6: socket.AF_INET6}
        return [
            (family[6 if ":" in a else 4], socket.SOCK_STREAM, 6, "", (a, port) if ":" not in a else (a, port, 0, 0))
            for a in table[host]
        ]

    return mock.patch("webhooks.guard.socket.getaddrinfo", side_effect=getaddrinfo)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.1.2.3:8080/hook",
        "http://10.0.0.5/hook",
        "http://172.16.4.1/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://100.64.0.1/hook",  # carrier-grade NAT
        "http://0.0.0.0/hook",
        "http://2130706433/hook",  # 127.0.0.1 written as a number
        "http://0x7f.1/hook",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[fd00::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",  # IPv4 inside IPv6
        "http://localhost:8000/hook",
    ],
)
def test_a_url_reaching_a_loopback_private_or_link_local_address_is_refused(url, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(Refused, match="loopback, private or link-local"):
        target_of(url)


def test_a_name_that_resolves_to_a_private_address_is_refused(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with resolving({"hooks.evil.example": [PUBLIC, "127.0.0.1"]}), pytest.raises(Refused, match=r"127\.0\.0\.1"):
        target_of("https://hooks.evil.example/x")


def test_a_public_name_is_reached_at_the_address_that_was_checked(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with resolving({"hooks.example.com": [PUBLIC]}):
        target = target_of("https://hooks.example.com:8443/services/T0/B0?x=1")
    assert (target.scheme, target.host, target.port, target.path, target.address) == (
        "https",
        "hooks.example.com",
        8443,
        "/services/T0/B0?x=1",
        PUBLIC,
    )


def test_an_allowed_host_may_be_private(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["receiver.internal", "127.0.0.1"]
    with resolving({"receiver.internal": ["10.1.2.3"], "127.0.0.1": ["127.0.0.1"]}):
        assert target_of("http://receiver.internal/hook").address == "10.1.2.3"
        assert target_of("http://127.0.0.1:9000/hook").address == "127.0.0.1"
    # Being saved, an allowed host is not even looked up.
    assert target_of("http://receiver.internal/hook", resolve=False).address == ""


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example.com/x", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("hooks.example.com/x", "http:// or https://"),
        ("https://user:pw@hooks.example.com/x", "no user name or password"),
        ("https://hooks.example.com:99999/x", "port"),
        ("https://no-such-host.example/x", "does not resolve"),
    ],
)
def test_a_url_that_is_not_a_reachable_web_address_is_refused(url, message, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with resolving({"hooks.example.com": [PUBLIC]}), pytest.raises(Refused, match=message):
        target_of(url)
