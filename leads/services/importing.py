"""CSV import of leads: all or nothing.

Either every row is valid and all leads are created in one transaction, or nothing
is created and every bad row is reported with its row number (the header is row
1, as in a spreadsheet), column and message. Whole-file problems (size, encoding,
a missing column) are reported as row 0.

The file is read twice, streaming: once to validate, once to write in batches, so
memory stays bounded whatever the number of rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from leads.models import ArrivedVia, Assignment, Campaign, ImportBatch, Lead, Source
from leads.phones import phone_e164
from leads.services.routing import leads_plan
from notifications import services as notifications
from routing.models import Trigger
from slas import services as slas_services
from teams import permissions
from teams.models import Team, User
from teams.selectors import own_sales_team, team_reps
from webhooks import outbox
from webhooks.models import Event

BATCH_SIZE = 2000
MAX_REPORTED_ERRORS = 500
PREVIEW_ROWS = 10

# Accepted header names (compared case-insensitively, spaces and underscores alike).
HEADERS = {
    "name": {"name", "nama", "full name", "nama lengkap", "contact", "kontak"},
    "email": {"email", "e-mail", "e mail", "surel", "alamat email"},
    "phone": {"phone", "telepon", "telp", "no hp", "hp", "phone number", "nomor telepon", "mobile"},
    "company": {"company", "perusahaan", "organisation", "organization", "organisasi"},
    "source": {"source", "sumber"},
    "campaign": {"campaign", "kampanye"},
    "value": {"value", "nilai", "deal value", "nilai transaksi"},
    "owner": {"owner", "pemilik", "rep", "sales"},
    "notes": {"notes", "note", "catatan"},
}
MAX_LENGTH = {"name": 200, "email": 254, "phone": 40, "company": 200, "notes": 5000}
# Sources by code, English label or Indonesian word.
SOURCE_WORDS = {
    **{code: code for code in Source.values},
    **{str(label).lower(): code for code, label in Source.choices},
    "situs web": "web",
    "acara": "event",
    "rujukan": "referral",
    "referensi": "referral",
    "iklan": "ads",
    "konten": "content",
    "lainnya": "other",
}


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportReport:
    """What an import found (and, unless a dry run or errors, did)."""

    rows: int = 0
    created: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    duplicates: list[RowError] = field(default_factory=list)  # warnings, not errors
    ignored_columns: list[str] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row, column, message))


class _Invalid(Exception):
    """Raised inside the write transaction to roll it back when a row turned bad meanwhile."""


def leads_import(
    *, file: IO[bytes], by: User, team: Team | None = None, dry_run: bool = False, now: datetime | None = None
) -> ImportReport:
    """Import leads for the sales team `team` (default: the importer's own) from a CSV file;
    see the module docstring."""
    now = now or timezone.now()
    team = team or own_sales_team(user=by)
    if team is None:
        raise ValidationError({"team": [_("Name the sales team to import the leads for.")]})
    if not permissions.can_create_leads(by, team):
        raise PermissionDenied
    report = ImportReport(dry_run=dry_run)
    if team.kind != Team.Kind.SALES:
        report.add_error(0, "team", _("Leads are imported for a sales team."))
        return report
    size = getattr(file, "size", None)
    if size is not None and size > settings.IMPORT_MAX_BYTES:
        report.add_error(
            0,
            "file",
            _("The file is %(size)s; files up to %(limit)s can be imported. Split it into smaller files.")
            % {"size": filesizeformat(size), "limit": filesizeformat(settings.IMPORT_MAX_BYTES)},
        )
        return report
    context = _Context.load(team=team, by=by)
    for _row, _values in _rows(file, report, context):  # pass 1: validate everything
        pass
    if not report.ok or dry_run:
        return report
    try:
        with transaction.atomic():
            report.created = _write(file, team=team, by=by, now=now, context=context)
    except _Invalid as exc:
        failed = exc.args[0]
        report.errors, report.error_count, report.created = failed.errors, failed.error_count, 0
    return report


@dataclass
class _Context:
    """Lookups made once per import: campaigns by name, reps by username, the team's e-mails."""

    campaigns: dict[str, list[int]]
    reps: dict[str, User]
    known_emails: set[str]
    may_assign: set[int]  # reps the importer may hand a lead to (SPEC §1)
    region: str = ""  # the team's country, in which phones are read

    @classmethod
    def load(cls, *, team: Team, by: User) -> _Context:
        campaigns: dict[str, list[int]] = {}
        for pk, name in Campaign.objects.values_list("pk", "name"):
            campaigns.setdefault(name.strip().lower(), []).append(pk)
        reps = {rep.username.lower(): rep for rep in team_reps(team=team)}
        # Likely duplicates among the leads `by` may see: naming others would reveal them.
        visible = Lead.objects.filter(permissions.lead_scope(by), team=team).exclude(email="")
        emails = set(visible.values_list("email", flat=True))
        unassigned = Lead(team=team)
        may_assign = {rep.pk for rep in reps.values() if permissions.can_assign_lead(by, unassigned, owner=rep)}
        return cls(
            campaigns=campaigns, reps=reps, known_emails=emails, may_assign=may_assign, region=team.holiday_country
        )


def _rows(file: IO[bytes], report: ImportReport, context: _Context) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (row number, cleaned values) of every valid row; record errors in `report`."""
    file.seek(0)
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="", errors="strict")
    seen_emails: dict[str, int] = {}
    try:
        first = text.readline()
        if not first.strip():
            report.add_error(0, "file", _("The file is empty. The first row must name the columns."))
            return
        dialect = _dialect(first)
        header = next(csv.reader([first], dialect))
        columns = _columns(header, report)
        if columns is None:
            return
        reader = csv.reader(text, dialect)
        for number, raw in enumerate(reader, start=2):
            if not any(cell.strip() for cell in raw):
                continue
            report.rows += 1
            values = _clean_row(number, raw, columns, report, context)
            if values is None:
                continue
            email = values["email"]
            if email and (email in context.known_emails or email in seen_emails):
                where = seen_emails.get(email)
                message = (
                    _("Same e-mail as row %(row)d.") % {"row": where}
                    if where
                    else _("A lead with this e-mail already exists in the team.")
                )
                report.duplicates.append(RowError(number, "email", message))
            if email:
                seen_emails.setdefault(email, number)
            if len(report.preview) < PREVIEW_ROWS:
                report.preview.append({"row": number, **{k: v for k, v in values.items() if k != "owner"}})
            yield number, values
    except UnicodeDecodeError:
        report.add_error(
            0, "file", _("The file is not UTF-8 text. In Excel choose “CSV UTF-8”, or save it as UTF-8 and try again.")
        )
    except csv.Error as exc:
        report.add_error(0, "file", _("The file is not a readable CSV file (%(error)s).") % {"error": exc})
    finally:
        text.detach()


def _dialect(first_line: str) -> type[csv.Dialect]:
    """Comma by default; semicolon (Excel in Indonesian settings) or tab when the header uses it."""
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: (counts[d], d == ","))

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter if counts[delimiter] else ","
    return Dialect


def _columns(header: list[str], report: ImportReport) -> dict[str, int] | None:
    """Map our field names to column positions; report a missing name column or repeats."""
    lookup = {alias: name for name, aliases in HEADERS.items() for alias in aliases}
    columns: dict[str, int] = {}
    for position, title in enumerate(header):
        key = " ".join(title.strip().lower().replace("_", " ").split())
        name = lookup.get(key)
        if name is None:
            if title.strip():
                report.ignored_columns.append(title.strip())
        elif name in columns:
            report.add_error(1, title, _("This column appears twice."))
        else:
            columns[name] = position
    if "name" not in columns:
        report.add_error(1, "name", _("The file needs a “name” (or “nama”) column."))
    return columns if report.ok else None


def _clean_row(
    number: int, raw: list[str], columns: dict[str, int], report: ImportReport, context: _Context
) -> dict[str, Any] | None:
    def cell(name: str) -> str:
        position = columns.get(name)
        return raw[position].strip() if position is not None and position < len(raw) else ""

    errors_before = report.error_count
    for name, position in columns.items():
        if position < len(raw) and "\x00" in raw[position]:
            report.add_error(number, name, _("This cell contains a NUL character; remove it."))
            return None
    values: dict[str, Any] = {name: cell(name) for name in ("name", "phone", "company", "notes")}
    values["email"] = cell("email").lower()
    if not values["name"]:
        report.add_error(number, "name", _("A name is required."))
    for name, limit in MAX_LENGTH.items():
        if len(values[name]) > limit:
            report.add_error(number, name, _("At most %(limit)d characters.") % {"limit": limit})
    try:
        values["phone"] = phone_e164(values["phone"], region=context.region)
    except ValidationError as exc:
        report.add_error(number, "phone", exc.messages[0])
    if values["email"]:
        try:
            validate_email(values["email"])
        except ValidationError:
            report.add_error(
                number, "email", _("“%(value)s” is not a valid e-mail address.") % {"value": values["email"]}
            )
    source = cell("source")
    values["source"] = SOURCE_WORDS.get(source.lower()) if source else Source.OTHER
    if values["source"] is None:
        report.add_error(
            number,
            "source",
            _("Unknown source “%(value)s”; use one of: %(choices)s.")
            % {"value": source, "choices": ", ".join(Source.values)},
        )
    values["campaign"] = _campaign(number, cell("campaign"), report, context)
    values["value"] = _value(number, cell("value"), report)
    owner = cell("owner")
    values["owner"] = context.reps.get(owner.lower()) if owner else None
    if owner and values["owner"] is None:
        report.add_error(number, "owner", _("“%(value)s” is not an active sales rep of this team.") % {"value": owner})
    elif values["owner"] is not None and values["owner"].pk not in context.may_assign:
        report.add_error(number, "owner", _("You may not assign leads to “%(value)s”.") % {"value": owner})
    return values if report.error_count == errors_before else None


def _campaign(number: int, name: str, report: ImportReport, context: _Context) -> int | None:
    if not name:
        return None
    found = context.campaigns.get(name.lower(), [])
    if len(found) == 1:
        return found[0]
    message = _("No campaign is called “%(value)s”.") if not found else _("Several campaigns are called “%(value)s”.")
    report.add_error(number, "campaign", message % {"value": name})
    return None


def _value(number: int, text: str, report: ImportReport) -> Decimal | None:
    """A deal value: digits with an optional decimal point (no thousands separators)."""
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0:
        report.add_error(
            number, "value", _("“%(value)s” is not an amount; write digits only, e.g. 15000000.") % {"value": text}
        )
        return None
    try:  # the column's own limits: 13 digits before the point, 2 after
        return Lead._meta.get_field("value").clean(value, None).quantize(Decimal("0.01"))
    except ValidationError as error:
        report.add_error(number, "value", " ".join(error.messages))
        return None


def _write(file: IO[bytes], *, team: Team, by: User, now: datetime, context: _Context) -> int:
    """Pass 2: create the leads in batches (and assignments for rows with an owner)."""
    check = ImportReport()
    created = 0
    batch: list[tuple[Lead, User | None]] = []
    for _number, values in _rows(file, check, context):
        owner = values.pop("owner")
        lead = Lead(team=team, created_at=now, created_by=by, arrived_via=ArrivedVia.IMPORT, **_model_values(values))
        batch.append((lead, owner))
        if len(batch) >= BATCH_SIZE:
            created += _flush(batch, by=by, now=now)
            batch = []
    if not check.ok:
        raise _Invalid(check)
    return created + _flush(batch, by=by, now=now)


def _model_values(values: dict[str, Any]) -> dict[str, Any]:
    campaign = values.pop("campaign")
    return {**values, "campaign_id": campaign}


def _flush(batch: list[tuple[Lead, User | None]], *, by: User, now: datetime) -> int:
    if not batch:
        return 0
    for lead, owner in batch:
        if owner is not None:
            lead.owner, lead.assigned_at, lead.first_assigned_at = owner, now, now  # new: no other assignment
    unowned = [lead for lead, owner in batch if owner is None]
    team = batch[0][0].team
    # An auto-routed team's rows without an owner are routed before they are inserted, so
    # that they are inserted with the owner routing chose (SPEC §11), in this transaction.
    plan = leads_plan(leads=unowned, team=team, now=now) if unowned and team.auto_route else None
    leads = bulk_create_with_history([lead for lead, _ in batch], Lead, batch_size=BATCH_SIZE, default_user=by)
    # Rows without an owner waited for one (routed or not): the team's assignment clocks,
    # started before the assignments below meet them.
    slas_services.clocks_start_unassigned(leads=unowned, now=now)
    assignments = Assignment.objects.bulk_create(
        [
            Assignment(lead_id=lead.pk, owner=lead.owner, assigned_by=by, assigned_at=now)
            for lead in leads
            if lead.owner is not None
        ]
    )
    outbox.webhook_events_record(event=Event.LEAD_CREATED, subjects=[(lead.pk, lead.pk) for lead in leads], now=now)
    if assignments:
        slas_services.clocks_start(assignments=assignments, now=now)
        notifications.leads_assigned_notify(assignments=assignments, by=by, now=now)
        outbox.webhook_events_record(
            event=Event.LEAD_ASSIGNED, subjects=[(a.pk, a.lead_id) for a in assignments], now=now
        )
    if plan is not None:
        plan.record(trigger=Trigger.CREATED, by=by)
    return len(leads)


def import_preview(
    *, upload: IO[bytes], filename: str, team: Team, by: User, now: datetime | None = None
) -> tuple[ImportBatch | None, ImportReport]:
    """Check an upload without creating anything, and keep it for `import_commit` when it
    is valid, so the user confirms the preview without choosing the file again."""
    now = now or timezone.now()
    report = leads_import(file=upload, team=team, by=by, dry_run=True, now=now)
    if not report.ok:
        return None, report
    # Uploads never confirmed are dropped after a day.
    ImportBatch.objects.filter(imported_at__isnull=True, created_at__lt=now - timedelta(days=1)).delete()
    upload.seek(0)
    batch = ImportBatch.objects.create(
        team=team, created_by=by, created_at=now, filename=filename[:255], content=upload.read(), rows=report.rows
    )
    return batch, report


def import_commit(*, batch: ImportBatch, by: User, now: datetime | None = None) -> ImportReport:
    """Import a previewed upload once: a second click, or two at once, creates nothing more."""
    now = now or timezone.now()
    if batch.created_by_id != by.pk:
        raise PermissionDenied
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.imported_at is not None:
            raise ValidationError(_("This file was already imported."))
        report = leads_import(file=io.BytesIO(bytes(batch.content)), team=batch.team, by=by, now=now)
        if report.ok:
            batch.imported_at, batch.created, batch.content = now, report.created, b""
            batch.save(update_fields=["imported_at", "created", "content"])
    return report
