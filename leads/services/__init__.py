"""Writes of the leads app: the only code that creates or changes campaigns, leads,
assignments, touches, rejections and their disputes. Each function validates, writes in one
transaction, and calls the SLA engine's hooks (`slas.services`) itself."""

from leads.services.campaigns import campaign_create, campaign_update
from leads.services.disputes import dispute_raise, dispute_rule
from leads.services.importing import ImportReport, RowError, import_commit, import_preview, leads_import
from leads.services.inquiries import inquiry_record
from leads.services.leads import (
    lead_assign,
    lead_change,
    lead_claim,
    lead_create,
    lead_reject,
    lead_status_change,
    lead_update,
    lead_validate,
    leads_assign_bulk,
    leads_round_robin,
)
from leads.services.routing import lead_route, leads_route, route_preview
from leads.services.touches import (
    UNDO_WINDOW,
    tap_url,
    touch_delete,
    touch_log,
    touch_record,
    touch_tap,
    touch_undo,
    touch_update,
    touches_capture,
)

__all__ = [
    "UNDO_WINDOW",
    "ImportReport",
    "RowError",
    "campaign_create",
    "campaign_update",
    "dispute_raise",
    "dispute_rule",
    "import_commit",
    "import_preview",
    "inquiry_record",
    "lead_assign",
    "lead_change",
    "lead_claim",
    "lead_create",
    "lead_reject",
    "lead_route",
    "lead_status_change",
    "lead_update",
    "lead_validate",
    "leads_assign_bulk",
    "leads_import",
    "leads_round_robin",
    "leads_route",
    "route_preview",
    "tap_url",
    "touch_delete",
    "touch_log",
    "touch_record",
    "touch_tap",
    "touch_undo",
    "touch_update",
    "touches_capture",
]
