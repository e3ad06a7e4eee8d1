"""Writes of intake (SPEC §13): forms, hooks and WhatsApp numbers, and the posts they receive."""

from intake.services.arrivals import (
    Refused,
    form_post_accept,
    form_spam_record,
    hook_post_accept,
    whatsapp_post_accept,
)
from intake.services.endpoints import (
    inbound_hook_create,
    inbound_hook_secret_rotate,
    inbound_hook_update,
    lead_form_create,
    lead_form_update,
    whatsapp_number_create,
    whatsapp_number_update,
)
from intake.services.events import ProcessResult, event_process, event_retry, event_store, events_process_due

__all__ = [
    "ProcessResult",
    "Refused",
    "event_process",
    "event_retry",
    "event_store",
    "events_process_due",
    "form_post_accept",
    "form_spam_record",
    "hook_post_accept",
    "inbound_hook_create",
    "inbound_hook_secret_rotate",
    "inbound_hook_update",
    "lead_form_create",
    "lead_form_update",
    "whatsapp_number_create",
    "whatsapp_number_update",
    "whatsapp_post_accept",
]
