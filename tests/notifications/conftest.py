from tests.slas.conftest import assignment_sla, cadence_sla, response_sla, volume_sla  # noqa: F401
