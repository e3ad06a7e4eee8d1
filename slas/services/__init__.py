"""Writes of the SLA engine.

The leads services call three hooks, plainly and inside their own transaction,
whenever something happens that can start, satisfy or cancel a clock:

- `clocks_start_unassigned`: leads were created without an owner (the team's
  assignment clocks, before routing gives them one);
- `clocks_start`: leads got an owner (assignment, reassignment, claim, import);
- `clocks_refresh`: a lead was touched, rejected, closed or reopened, or a touch
  was edited or deleted.

The sweep (`sla_sweep`) records breaches; managers define SLAs and acknowledge or
waive breaches through the other functions here.
"""

from slas.services.breaches import breach_acknowledge, breach_review, breach_waive
from slas.services.clocks import clocks_refresh, clocks_start, clocks_start_unassigned
from slas.services.definitions import sla_create, sla_set_active, sla_update
from slas.services.sweep import SweepResult, sla_sweep

__all__ = [
    "SweepResult",
    "breach_acknowledge",
    "breach_review",
    "breach_waive",
    "clocks_refresh",
    "clocks_start",
    "clocks_start_unassigned",
    "sla_create",
    "sla_set_active",
    "sla_sweep",
    "sla_update",
]
