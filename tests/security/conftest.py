"""The SLA engine's fixtures (the SPEC's SLAs on Sales Jakarta), for the security tests."""

from tests.slas.conftest import response_sla, volume_sla  # noqa: F401
