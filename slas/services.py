"""Writes of the SLA engine.

The leads services call the two hooks below, plainly and after their own writes
in the same transaction, whenever something happens that can start, satisfy,
cancel or breach an SLA clock:

- `clocks_start`: a lead got an owner (assignment, reassignment, claim, import);
- `clocks_refresh`: a lead was touched, rejected, closed or reopened, or a touch
  was edited or deleted.

SLA definitions and clocks are not built yet, so both hooks have nothing to do;
their signatures are the contract the leads app relies on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leads.models import Assignment


def clocks_start(*, assignments: Iterable[Assignment], now: datetime) -> None:
    """Start the clocks of the SLAs in force for these new assignments (and cancel the
    unfinished clocks of the lead's previous owners). Set-based over `assignments`."""


def clocks_refresh(*, lead_ids: Iterable[int], now: datetime) -> None:
    """Bring the clocks of these leads in line with their touches, rejections and status.
    Idempotent: calling it again with nothing changed changes nothing."""
