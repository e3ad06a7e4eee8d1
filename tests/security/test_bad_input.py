"""Bad input never breaks the app: random CSV files, random SLA terms, oversized bodies and
fields, and names in any script.

The CSV import is all or nothing (SPEC §2): for any file it either creates every row,
each value exactly as written (trimmed), or creates nothing and names every bad row.
Forms answer with field errors and the API with 400, never a server error.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from kpis import services as kpis
from kpis.models import Kpi, Measurement
from leads import services as leads
from leads.models import Campaign, ImportBatch, Lead, Rejection, Touch
from notifications import services as notices
from slas import services as slas
from slas.models import Breach, Delivery, Sla
from slas.services import notifications
from teams import services as teams
from teams.models import ClosedDate, Team

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
# The largest deal value: 13 digits before the point and 2 after on every backend, what
# SQLite's doubles hold exactly (SPEC §2; docs/operations.md, "Limits").
LARGEST_EXACT_VALUE = Decimal("9999999999999.99")
NOW = datetime(2026, 8, 12, 10, tzinfo=JAKARTA)  # a Wednesday

# Bounded: each property runs in a few seconds; the function-scoped fixtures (users, teams)
# are shared by the examples of one test on purpose, as the database is.
settings.register_profile(
    "selaras-security",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BOUNDED = settings.get_profile("selaras-security")


def upload(content: bytes, name: str = "leads.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def new_leads(before: int) -> list[Lead]:
    return list(Lead.objects.filter(pk__gt=before).order_by("pk"))


def last_pk(model) -> int:
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# -- 1. CSV import: random files --------------------------------------------------------------
CAMPAIGN = "Pameran Jakarta 🚀"
SAMPLES = [
    "Siti Nurhaliza — PT Maju Jaya",
    "张伟",
    "🚀 Rocket Co",
    "北京科技有限公司",
    'He said "halo"',
    "a,b;c",
    "line one\nline two",
    "Ruang\r\nRapat",
    "  padded  ",
    "Café Société",
    "👩‍💻🇮🇩",
    "=1+2",
    "'quoted'",
    "tab\there",
    "\u00a0",
    "",
]
UNICODE = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
FREE_TEXT = st.one_of(st.sampled_from(SAMPLES), st.text(alphabet=UNICODE, max_size=30))


def too_long(limit: int) -> st.SearchStrategy[str]:
    """Text just over a column's limit, in one- to four-byte characters."""
    return st.builds(
        lambda char, n: char * n, st.sampled_from(["x", "é", "张", "🚀"]), st.integers(limit + 1, limit + 3)
    )


HEADER_WORDS = {
    "name": ["name", "Nama", "NAME", "Full Name"],
    "email": ["email", "E-mail", "Surel"],
    "phone": ["phone", "Telepon", "No HP"],
    "company": ["company", "Perusahaan"],
    "notes": ["notes", "Catatan"],
    "source": ["source", "Sumber"],
    "value": ["value", "Nilai"],
    "campaign": ["campaign", "Kampanye"],
    "owner": ["owner", "Pemilik"],
}
LIMITS = {"name": 200, "phone": 40, "company": 200, "notes": 5000}
SOURCES = {"web": "web", "website": "web", "situs web": "web", "acara": "event", "iklan": "ads", "referral": "referral"}
BAD_EMAILS = ["not-an-email", "siti@", "@contoh.co.id", "siti rahma@contoh.co.id", "siti@@contoh.co.id", "张伟@", "a@b"]
BAD_VALUES = ["abc", "-5", "1e20", "NaN", "Infinity", "1.000.000", "15,000", "Rp 5000", "100000000000000"]
# Phones as people type them, and what is stored: E.164, read in Indonesia (SPEC §2).
PHONES = {
    "": "",
    "0812-3456-7890": "+6281234567890",
    "+62 812 3456 7890": "+6281234567890",
    "6281234567890": "+6281234567890",
    "(021) 555-1234": "+62215551234",
    "+1 415 555 0100": "+14155550100",
}
BAD_PHONES = ["0812", "abc", "+62 8", "nomor saya"]
REPS = {"rep1", "rep2"}  # reps of Sales Jakarta that its manager may assign

# (good cells, bad cells) per column; a blank name or an over-long text is bad too.
CELLS = {
    "name": (FREE_TEXT, too_long(200)),
    "email": (
        st.one_of(
            st.just(""),
            st.builds(
                "{}@{}".format,
                st.from_regex(r"[A-Za-z0-9]{1,12}(\.[A-Za-z0-9]{1,8})?", fullmatch=True),
                st.sampled_from(["contoh.co.id", "Example.com", "pt-maju.id"]),
            ),
        ),
        st.sampled_from(BAD_EMAILS),
    ),
    "phone": (st.sampled_from(list(PHONES)), st.one_of(st.sampled_from(BAD_PHONES), too_long(40))),
    "company": (FREE_TEXT, too_long(200)),
    "notes": (FREE_TEXT, too_long(5000)),
    "source": (
        st.sampled_from(["", "web", "Website", " Iklan ", "ACARA", "situs web", "referral"]),
        st.sampled_from(["tv", "koran"]),
    ),
    "value": (
        st.one_of(st.just(""), st.decimals(min_value=0, max_value=LARGEST_EXACT_VALUE, places=2).map(str)),
        st.sampled_from(BAD_VALUES),
    ),
    "campaign": (st.sampled_from(["", CAMPAIGN, CAMPAIGN.upper(), f"  {CAMPAIGN} "]), st.just("Tidak Ada")),
    "owner": (st.sampled_from(["", "rep1", "REP2"]), st.sampled_from(["rep3", "siapa"])),
}


@dataclass
class CsvCase:
    columns: list[str]  # field names, or "" for a column the import ignores
    header: list[str]
    rows: list[list[str]]
    delimiter: str
    bom: bool
    lineterminator: str
    quoting: int

    def content(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.delimiter, lineterminator=self.lineterminator, quoting=self.quoting)
        writer.writerow(self.header)
        writer.writerows(self.rows)
        return (("\ufeff" if self.bom else "") + buffer.getvalue()).encode("utf-8")


@st.composite
def csv_cases(draw) -> CsvCase:
    optional = draw(st.lists(st.sampled_from([name for name in HEADER_WORDS if name != "name"]), unique=True))
    has_name = draw(st.integers(0, 19)) > 0  # now and then a file without its name column
    extra = draw(st.integers(0, 2))
    columns = draw(st.permutations((["name"] if has_name else []) + optional + [""] * extra))
    assume(columns)
    header = [
        draw(st.sampled_from(HEADER_WORDS[name]))
        if name
        else "x-" + draw(st.from_regex(r"[a-zé张]{1,6}", fullmatch=True))
        for name in columns
    ]
    dirty = draw(st.booleans())  # half the files may hold bad cells; the others only good ones
    rows = []
    for _ in range(draw(st.integers(0, 5))):
        row = [
            draw(st.one_of(*CELLS[name]) if dirty else CELLS[name][0]) if name else draw(FREE_TEXT) for name in columns
        ]
        shape = draw(st.sampled_from(["full", "full", "full", "short", "long", "blank"]))
        if shape == "short":  # a ragged row: trailing cells missing
            row = row[: draw(st.integers(0, len(row)))]
        elif shape == "long":  # more cells than the header names
            row += draw(st.lists(FREE_TEXT, min_size=1, max_size=2))
        elif shape == "blank":
            row = []
        rows.append(row)
    # A one-column file has no separator in its header to tell `;` from `,`.
    delimiter = draw(st.sampled_from([",", ";"])) if len(columns) > 1 else ","
    # Quote every cell when lines end in a bare \n, so a bare \r in a cell stays inside it.
    lineterminator, quoting = draw(
        st.sampled_from([("\r\n", csv.QUOTE_MINIMAL), ("\n", csv.QUOTE_ALL), ("\r\n", csv.QUOTE_ALL)])
    )
    return CsvCase(columns, header, rows, delimiter, draw(st.booleans()), lineterminator, quoting)


@dataclass
class Expected:
    rows: int = 0
    errors: set[tuple[int, str]] = field(default_factory=set)
    leads: list[dict] = field(default_factory=list)


def expected_import(case: CsvCase, *, campaign: Campaign, reps: dict[str, int]) -> Expected:
    """What SPEC §2 says the import of `case` does, worked out from the cells themselves."""
    result = Expected()
    if "name" not in case.columns:
        result.errors.add((1, "name"))
        return result
    for number, raw in enumerate(case.rows, start=2):
        if not any(cell.strip() for cell in raw):
            continue  # blank lines are skipped, but keep their row number
        result.rows += 1

        def cell(name: str, raw=raw) -> str:
            position = case.columns.index(name) if name in case.columns else len(raw)
            return raw[position].strip() if position < len(raw) else ""

        errors = set()
        values = {name: cell(name) for name in LIMITS}
        if not values["name"]:
            errors.add("name")
        errors |= {name for name, limit in LIMITS.items() if len(values[name]) > limit}
        if values["phone"] in PHONES:
            values["phone"] = PHONES[values["phone"]]
        else:
            errors.add("phone")
        values["email"] = cell("email").lower()
        if values["email"] in BAD_EMAILS:
            errors.add("email")
        source = cell("source")
        values["source"] = SOURCES.get(source.lower()) if source else "other"
        if values["source"] is None:
            errors.add("source")
        value = cell("value")
        if value in BAD_VALUES:
            errors.add("value")
        values["value"] = Decimal(value).quantize(Decimal("0.01")) if value and value not in BAD_VALUES else None
        named = cell("campaign")
        if named and named.lower() != campaign.name.lower():
            errors.add("campaign")
        values["campaign_id"] = campaign.pk if named else None
        owner = cell("owner").lower()
        if owner and owner not in REPS:
            errors.add("owner")
        values["owner_id"] = reps.get(owner)
        result.errors |= {(number, name) for name in errors}
        result.leads.append(values)
    return result


LEAD_FIELDS = ["name", "email", "phone", "company", "notes", "source", "value", "campaign_id", "owner_id"]


@pytest.fixture
def campaign(users, marketing_team) -> Campaign:
    return leads.campaign_create(
        by=users["marketing_manager"], team=marketing_team, name=CAMPAIGN, start_date=date(2026, 1, 1)
    )


@BOUNDED
@given(case=csv_cases())
def test_any_csv_imports_wholly_and_exactly_or_not_at_all(users, sales_team, campaign, case):
    reps = {"rep1": users["sales_rep"].pk, "rep2": users["other_rep"].pk}
    expected = expected_import(case, campaign=campaign, reps=reps)
    before = last_pk(Lead)
    report = leads.leads_import(file=upload(case.content()), team=sales_team, by=users["sales_manager"], now=NOW)
    created = new_leads(before)
    event("refused" if expected.errors else f"imported {len(expected.leads)} rows")
    assert {(error.row, error.column) for error in report.errors} == expected.errors
    assert report.rows == expected.rows
    if expected.errors:
        assert not report.ok and report.created == 0 and created == []
    else:
        assert report.ok and report.created == len(created) == len(expected.leads)
        assert [{name: getattr(lead, name) for name in LEAD_FIELDS} for lead in created] == [
            {name: values[name] for name in LEAD_FIELDS} for values in expected.leads
        ]


@BOUNDED
@given(case=csv_cases())
def test_a_dry_run_reports_the_same_and_creates_nothing(users, sales_team, campaign, case):
    before = last_pk(Lead)
    content = case.content()
    dry = leads.leads_import(file=upload(content), team=sales_team, by=users["sales_manager"], dry_run=True, now=NOW)
    assert new_leads(before) == []
    real = leads.leads_import(file=upload(content), team=sales_team, by=users["sales_manager"], now=NOW)
    assert (dry.ok, dry.rows, dry.errors) == (real.ok, real.rows, real.errors)
    assert len(new_leads(before)) == (real.rows if real.ok else 0)


LATIN = "éèñüöçàÀÉ€“”‘’…–—"


@BOUNDED
@given(
    text=st.text(alphabet=st.sampled_from("abc XYZ" + LATIN), min_size=1, max_size=40),
    encoding=st.sampled_from(["cp1252", "latin-1"]),
)
def test_text_in_a_windows_or_latin_encoding_is_refused_with_a_clear_error(users, sales_team, text, encoding):
    try:
        content = f"name,company\nSiti,{text}\n".encode(encoding)
    except UnicodeEncodeError:
        assume(False)  # € and curly quotes are not in latin-1
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        assume(False)  # these bytes happen to be UTF-8 as well
    before = last_pk(Lead)
    report = leads.leads_import(file=upload(content), team=sales_team, by=users["marketer"], now=NOW)
    assert not report.ok and report.created == 0 and new_leads(before) == []
    assert [(error.row, error.column) for error in report.errors] == [(0, "file")]
    assert "not UTF-8" in report.errors[0].message


@BOUNDED
@given(content=st.binary(max_size=400))
def test_random_bytes_never_raise_and_never_import_part_of_a_file(users, sales_team, content):
    before = last_pk(Lead)
    report = leads.leads_import(file=upload(content), team=sales_team, by=users["marketer"], now=NOW)
    created = new_leads(before)
    assert len(created) == (report.rows if report.ok else 0)
    if not report.ok:
        assert report.errors and all(error.message for error in report.errors)
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        assert not report.ok


@BOUNDED
@given(
    content=st.one_of(
        st.binary(max_size=300),
        st.text(alphabet=st.sampled_from('name,;\n"x' + LATIN), max_size=60).map(lambda t: t.encode("cp1252")),
    )
)
def test_the_upload_page_answers_bad_bytes_with_a_form_error(client, users, sales_team, content):
    client.force_login(users["marketer"])
    batches = ImportBatch.objects.count()
    response = client.post("/leads/import/", {"file": upload(content), "team": sales_team.pk})
    assert response.status_code in (200, 400)
    text = response.content.decode()
    report = response.context.get("report")
    if report is None:  # the form refused the upload itself (an empty file)
        assert response.context["form"].errors["file"] and "The submitted file is empty." in text
    elif not report.ok:
        assert response.status_code == 400 and ImportBatch.objects.count() == batches
        assert all(escape(error.message) in text for error in report.errors)
    assert not Lead.objects.exists()  # the page previews; nothing is created before confirming


def test_a_windows_file_on_the_upload_page(client, users, sales_team):
    client.force_login(users["marketer"])
    content = "name,company\nJosé,Café “Société”\n".encode("cp1252")
    response = client.post("/leads/import/", {"file": upload(content), "team": sales_team.pk})
    assert response.status_code == 400
    assert "The file is not UTF-8 text" in response.content.decode()
    assert not ImportBatch.objects.exists() and not Lead.objects.exists()


def test_a_nul_character_in_a_cell_is_a_row_error(users, sales_team):
    report = leads.leads_import(
        file=upload(b"name,company\nSiti,PT\x00Maju\nAndi,PT Jaya\n"), team=sales_team, by=users["marketer"], now=NOW
    )
    assert [(error.row, error.column) for error in report.errors] == [(2, "company")]
    assert not Lead.objects.exists()


def test_a_name_with_a_line_break_still_gets_its_e_mail(users, sales_team, mailoutbox):
    """A quoted CSV cell may hold a line break; e-mail subjects must stay on one line."""
    rep = users["sales_rep"]
    notifications.preferences_update(
        user=rep, digest_enabled=True, digest_when_empty=False, email_notifications=["clock_at_risk"]
    )
    slas.sla_create(
        by=users["sales_manager"],
        team=sales_team,
        kind="response",
        name="Call within an hour",
        target_value=1,
        target_unit="hours",
        now=NOW - timedelta(days=1),
    )
    content = b'name,owner\n"PT Maju\nJaya",rep1\n'
    report = leads.leads_import(file=upload(content), team=sales_team, by=users["sales_manager"], now=NOW)
    assert report.ok and Lead.objects.get().name == "PT Maju\nJaya"
    later = NOW + timedelta(minutes=50)  # past 75 % of the hour
    slas.sla_sweep(now=later)
    notices.notifications_email_schedule(now=later)
    result = notifications.deliveries_send(now=later)
    assert (result.sent, result.failed) == (1, 0)
    assert Delivery.objects.get().status == Delivery.Status.SENT
    assert mailoutbox[0].subject.startswith("Selaras · “PT Maju Jaya” is at risk of breaching “Call within an hour”")


# -- KPI values import: random dates and numbers ----------------------------------------------
DAYS = st.one_of(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)).map(lambda d: (d.isoformat(), d)),
    st.sampled_from(["", "2026-02-30", "31/12/2026", "2026-13-01", "kemarin", "2026-1-5", "0000-00-00"]).map(
        lambda text: (text, None)
    ),
)
# KPI values have at most 15 significant digits on every backend (what SQLite's doubles
# hold exactly): with 4 after the point, 11 before it.
LARGEST = 10**11 - 1
NUMBERS = st.one_of(
    st.decimals(min_value=-LARGEST, max_value=LARGEST, places=4).map(lambda d: (str(d), d)),
    st.sampled_from(["", "abc", "1,5", "NaN", "Infinity", "1e20", "Rp 5"]).map(lambda text: (text, None)),
)


@BOUNDED
@given(rows=st.lists(st.tuples(DAYS, NUMBERS), max_size=6), bom=st.booleans())
def test_kpi_values_import_wholly_or_not_at_all(users, sales_team, rows, bom):
    kpi = Kpi.objects.filter(name="Pengunjung situs").first() or kpis.kpi_create(
        by=users["sales_manager"], name="Pengunjung situs", metric="manual", team=sales_team
    )
    lines = ["tanggal,nilai"] + [
        f"{day},{value}" if "," not in value else f'{day},"{value}"' for (day, _), (value, _) in rows
    ]
    content = ("\ufeff" if bom else "") + "\n".join(lines) + "\n"
    before = Measurement.objects.count()
    result = kpis.measurements_import(
        by=users["sales_manager"], kpi=kpi, file=upload(content.encode()), team=sales_team
    )
    valid = all(day is not None and number is not None for (_, day), (_, number) in rows)
    assert result.ok == valid
    assert Measurement.objects.count() - before == (len(rows) if valid else 0)
    if valid and rows:
        saved = Measurement.objects.order_by("-pk")[: len(rows)][::-1]
        assert [(m.date, m.value) for m in saved] == [(day, number) for (_, day), (_, number) in rows]


def test_kpi_values_in_another_encoding_or_too_big_are_refused(users, sales_team, settings):
    kpi = kpis.kpi_create(by=users["sales_manager"], name="Kepuasan", metric="manual", team=sales_team)
    result = kpis.measurements_import(
        by=users["sales_manager"],
        kpi=kpi,
        file=upload("tanggal,nilai\n2026-08-01,5\n# café\n".encode("cp1252")),
        team=sales_team,
    )
    assert not result.ok and "not UTF-8" in result.errors[0][2]
    settings.IMPORT_MAX_BYTES = 30
    result = kpis.measurements_import(
        by=users["sales_manager"], kpi=kpi, file=upload(b"tanggal,nilai\n" + b"2026-08-01,5\n" * 10), team=sales_team
    )
    assert not result.ok and "files up to 30" in result.errors[0][2]
    assert not Measurement.objects.exists()


# -- 2. SLA forms and API: random terms ------------------------------------------------------------
@dataclass
class Field:
    """Input for one field: values SPEC §3 accepts, and values it refuses."""

    good: st.SearchStrategy
    bad: st.SearchStrategy


def pick(draw, spec: Field, dirty: bool) -> tuple[object, bool]:
    """A value and whether it is acceptable; a dirty post gets a bad value now and then."""
    if dirty and draw(st.integers(0, 3)) == 0:
        return draw(spec.bad), False
    return draw(spec.good), True


def numbers(low: int, high: int) -> Field:
    """Form input for an integer field bounded to [low, high]: numbers, negatives, huge, empty, text."""
    return Field(
        st.integers(low, high).map(str),
        st.one_of(
            st.integers(max_value=low - 1).map(str),
            st.integers(min_value=high + 1).map(str),
            st.sampled_from(["", " ", "abc", "1.5", "1e3", "NaN", "½", "12 kali", "9" * 5000, "0x10"]),
        ),
    )


SLA_NAME = Field(
    st.text(alphabet=UNICODE, min_size=1, max_size=120).filter(str.strip),
    st.sampled_from(["", "   ", "x" * 121, "张" * 121, "a\x00b"]),
)
SOURCES_FIELD = Field(st.lists(st.sampled_from(["web", "event", "ads"]), unique=True), st.just(["web", "tv"]))
KIND_TERMS = {
    "response": {
        "target_value": numbers(1, 100_000),
        "target_unit": Field(
            st.sampled_from([unit.value for unit in Sla.Unit]), st.sampled_from(["", "weeks", "<b>", "HOURS"])
        ),
        # Optional: left empty, the SLA warns at 75 %; so empty is no bad value here.
        "warn_at_percent": Field(
            st.one_of(st.integers(1, 99).map(str), st.just("")), numbers(1, 99).bad.filter(lambda text: text != "")
        ),
    },
    "cadence": {"min_touches": numbers(1, 100), "window_days": numbers(1, 365)},
    "volume": {
        "leads_per_rep": numbers(1, 100_000),
        "period": Field(st.sampled_from(["month", "quarter"]), st.sampled_from(["", "year", "week"])),
        "count_rejected": Field(st.sampled_from(["on", "", "false"]), st.nothing()),
    },
}


@st.composite
def sla_posts(draw, kind: str, team: Team, other_team: Team, marketing: Team) -> tuple[dict, bool]:
    dirty = draw(st.booleans())
    fields = {
        "name": SLA_NAME,
        "team": Field(st.just(str(team.pk)), st.sampled_from([str(other_team.pk), "", "abc", "999999"])),
        **KIND_TERMS[kind],
        "sources": SOURCES_FIELD,
    }
    if kind == "volume":
        fields["from_team"] = Field(st.just(str(marketing.pk)), st.sampled_from([str(team.pk), "", "x"]))
    data, valid = {}, True
    for name, spec in fields.items():
        data[name], ok = pick(draw, spec, dirty and name != "count_rejected")
        valid = valid and ok
    return data, valid


def assert_sla_keeps_its_terms(sla: Sla) -> None:
    """Whatever was posted, a saved SLA has terms the sweep can work with."""
    sla.full_clean()
    if sla.kind == "response":
        assert 1 <= sla.target_value <= 100_000 and sla.target_unit in Sla.Unit.values
        assert 1 <= sla.warn_at_percent <= 99
    elif sla.kind == "cadence":
        assert 1 <= sla.min_touches <= 100 and 1 <= sla.window_days <= 365
    else:
        assert sla.from_team.kind == "marketing" and 1 <= sla.leads_per_rep <= 100_000 and sla.period
    assert sla.name == sla.name.strip() and 0 < len(sla.name) <= 120


@pytest.mark.parametrize("kind", ["response", "cadence", "volume"])
def test_the_sla_form_saves_valid_terms_or_shows_errors(
    client, users, sales_team, other_sales_team, marketing_team, kind
):
    client.force_login(users["sales_manager"])

    @BOUNDED
    @given(post=sla_posts(kind, sales_team, other_sales_team, marketing_team))
    def check(post):
        data, valid = post
        before = Sla.objects.count()
        response = client.post(f"/slas/new/{kind}/", data)
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 302:
            sla = Sla.objects.latest("pk")
            assert response["Location"] == f"/slas/{sla.pk}/" and Sla.objects.count() == before + 1
            assert_sla_keeps_its_terms(sla)
            assert (sla.kind, sla.team_id, sla.name, sla.sources) == (
                kind,
                sales_team.pk,
                data["name"].strip(),
                data["sources"],
            )
            for name in ("target_value", "min_touches", "window_days", "leads_per_rep", "warn_at_percent"):
                if data.get(name):
                    assert getattr(sla, name) == int(data[name]), name
            if kind == "response" and not data["warn_at_percent"]:
                assert sla.warn_at_percent == 75
            if kind == "volume":
                assert (sla.period, sla.count_rejected) == (data["period"], data["count_rejected"] == "on")
        else:
            assert response.context["form"].errors and Sla.objects.count() == before
        assert (response.status_code == 302) == valid, (data, response.context and response.context["form"].errors)

    check()


JSON_JUNK = st.sampled_from([None, [], {}, "", "abc", 1.5, "1e3", {"$gt": 0}])


def json_numbers(low: int, high: int) -> Field:
    return Field(
        st.integers(low, high),
        st.one_of(st.integers(max_value=low - 1), st.integers(min_value=high + 1), st.just(2**70), JSON_JUNK),
    )


API_TERMS = {
    "response": {
        "target_value": json_numbers(1, 100_000),
        "target_unit": Field(st.sampled_from(list(Sla.Unit.values)), st.sampled_from(["", "weeks", 1, None])),
        "warn_at_percent": json_numbers(1, 99),
    },
    "cadence": {"min_touches": json_numbers(1, 100), "window_days": json_numbers(1, 365)},
    "volume": {
        "leads_per_rep": json_numbers(1, 100_000),
        "period": Field(st.sampled_from(["month", "quarter"]), st.sampled_from(["", "year", None, 5])),
    },
}


@st.composite
def sla_payloads(draw, team: Team, marketing: Team) -> tuple[dict, bool]:
    dirty = draw(st.booleans())
    kind = draw(st.sampled_from(list(API_TERMS)))
    fields = {
        "name": Field(SLA_NAME.good, st.sampled_from(["", "  ", "x" * 121, None, [], {"a": 1}, "a\x00b"])),
        "kind": Field(st.just(kind), st.sampled_from(["speed", "", None, 3])),
        "team": Field(st.just(team.pk), st.sampled_from([999_999, 2**70, -1, "abc", None, [team.pk]])),
        **API_TERMS[kind],
        "sources": Field(st.lists(st.sampled_from(["web", "ads"]), unique=True), st.sampled_from([["tv"], "web", [1]])),
    }
    if kind == "volume":
        fields["from_team"] = Field(st.just(marketing.pk), st.sampled_from([team.pk, 999_999, 2**70, "x"]))
    body, valid = {}, True
    for name, spec in fields.items():
        if name == "warn_at_percent" and draw(st.booleans()):
            continue  # optional
        body[name], ok = pick(draw, spec, dirty)
        valid = valid and ok
    return body, valid


def test_the_sla_api_answers_201_or_400(api_as, users, sales_team, marketing_team):
    api = api_as(users["sales_manager"])

    @BOUNDED
    @given(payload=sla_payloads(sales_team, marketing_team))
    def check(payload):
        body, valid = payload
        before = Sla.objects.count()
        response = api.post("/api/v1/slas/", json.dumps(body), content_type="application/json")
        assert response.status_code in (201, 400), (body, response.status_code, response.content[:300])
        if response.status_code == 201:
            sla = Sla.objects.get(pk=response.json()["id"])
            assert_sla_keeps_its_terms(sla)
            assert (sla.name, sla.kind, sla.team_id) == (body["name"].strip(), body["kind"], sales_team.pk)
        else:
            assert Sla.objects.count() == before and response.json()
        assert (response.status_code == 201) == valid, (body, response.json())

    check()


# -- 3. Oversized uploads, bodies and fields -------------------------------------------------------
GOOD_CSV = "name,email\nSiti Rahma,siti@contoh.co.id\nAndi,andi@contoh.co.id\n" * 20


def test_an_upload_over_the_import_limit_is_refused_on_the_page(client, users, sales_team, settings):
    settings.IMPORT_MAX_BYTES = 200
    client.force_login(users["marketer"])
    response = client.post("/leads/import/", {"file": upload(GOOD_CSV.encode()), "team": sales_team.pk})
    assert response.status_code == 400
    assert "files up to 200" in response.content.decode()
    assert not ImportBatch.objects.exists() and not Lead.objects.exists()


def test_a_body_over_the_memory_limit_is_a_400(client, api_as, users, sales_team, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client.force_login(users["sales_manager"])
    response = client.post("/leads/new/", {"name": "Siti", "team": sales_team.pk, "notes": "n" * 20_000})
    assert response.status_code == 400
    api = api_as(users["sales_manager"])
    body = json.dumps({"name": "Siti", "team": sales_team.pk, "junk": "j" * 20_000})
    response = api.post("/api/v1/leads/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "The request body is too large."}
    assert not Lead.objects.exists()


def test_too_many_form_fields_is_a_400(client, users, sales_team, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    client.force_login(users["sales_manager"])
    response = client.post("/leads/bulk-assign/", {"leads": [str(n) for n in range(60)], "owner": "1"})
    assert response.status_code == 400


@pytest.fixture
def things(users, sales_team) -> dict:
    """A lead of rep1 and a breach of its response SLA, for the forms and endpoints below."""
    manager = users["sales_manager"]
    slas.sla_create(
        by=manager,
        team=sales_team,
        kind="response",
        name="Call within an hour",
        target_value=1,
        target_unit="hours",
        now=NOW - timedelta(days=2),
    )
    late = leads.lead_create(
        by=manager, team=sales_team, name="Late", owner=users["sales_rep"], now=NOW - timedelta(days=1)
    )
    slas.sla_sweep(now=NOW)
    lead = leads.lead_create(by=manager, team=sales_team, name="Siti", owner=users["sales_rep"])
    return {"lead": lead, "breach": Breach.objects.get(lead=late), "team": sales_team}


def over(limit: int) -> str:
    """One character more than a field allows."""
    return "x" * (limit + 1)


# Who posts, where, and what: one text field one character over its limit.
FORM_CASES = {
    "lead name": ("sales_manager", "/leads/new/", lambda t: {"name": over(200), "team": t["team"].pk, "source": "web"}),
    "lead company": (
        "sales_manager",
        "/leads/new/",
        lambda t: {"name": "Siti", "company": over(200), "team": t["team"].pk, "source": "web"},
    ),
    "lead phone": (
        "sales_manager",
        "/leads/new/",
        lambda t: {"name": "Siti", "phone": over(40), "team": t["team"].pk, "source": "web"},
    ),
    "lead notes": (
        "sales_manager",
        "/leads/new/",
        lambda t: {"name": "Siti", "notes": over(5000), "team": t["team"].pk, "source": "web"},
    ),
    "lead edit": ("sales_manager", "/leads/{lead}/edit/", lambda t: {"name": over(200), "source": "web"}),
    "campaign name": (
        "marketing_manager",
        "/leads/campaigns/new/",
        lambda t: {
            "name": over(200),
            "channel": "events",
            "team": t["marketing"],
            "start_date": "2026-08-01",
            "spend": "0",
            "currency": "IDR",
        },
    ),
    "sla name": (
        "sales_manager",
        "/slas/new/response/",
        lambda t: {"name": over(120), "team": t["team"].pk, "target_value": "1", "target_unit": "hours"},
    ),
    "team name": ("admin", "/teams/{team}/edit/", None),
}


@pytest.mark.parametrize("case", list(FORM_CASES))
def test_text_over_its_length_is_a_field_error_on_the_form(client, users, things, marketing_team, case):
    role, path, build = FORM_CASES[case]
    things["marketing"] = marketing_team.pk
    team = things["team"]
    if build is None:  # the team form: every field as it is, with a name too long
        data = {
            "name": over(120),
            "kind": "sales",
            "timezone": team.timezone,
            "work_days": team.work_days,
            "work_start": "09:00",
            "work_end": "17:00",
            "holiday_country": "ID",
            "currency": "IDR",
        }
    else:
        data = build(things)
    client.force_login(users[role])
    counts = (Lead.objects.count(), Campaign.objects.count(), Sla.objects.count())
    response = client.post(path.format(lead=things["lead"].pk, team=team.pk), data)
    assert response.status_code == 200
    form = response.context["form"]
    field_name = next(name for name, value in data.items() if isinstance(value, str) and value.startswith("xxxx"))
    assert "at most" in " ".join(form.errors[field_name])
    assert (Lead.objects.count(), Campaign.objects.count(), Sla.objects.count()) == counts
    things["lead"].refresh_from_db()
    team.refresh_from_db()
    assert (things["lead"].name, team.name) == ("Siti", "Sales Jakarta")


def test_long_notes_on_follow_ups_rejections_breaches_kpis_and_closed_dates(client, users, things):
    lead, breach, team = things["lead"], things["breach"], things["team"]
    client.force_login(users["sales_manager"])
    response = client.post(f"/leads/{lead.pk}/touch/", {"kind": "call", "notes": over(5000)})
    assert response.status_code == 400 and response.context["touch_form"].errors["notes"]
    response = client.post(f"/leads/{lead.pk}/touch/", {"kind": "call", "notes": over(5000)}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "at most 5000" in response.content.decode()
    response = client.post(f"/leads/{lead.pk}/reject/", {"reason": "spam", "note": over(2000)})
    assert response.status_code == 400 and response.context["reject_form"].errors["note"]
    response = client.post(f"/breaches/{breach.pk}/acknowledge/", {"note": over(2000)}, follow=True)
    assert "at most 2000" in response.content.decode()
    response = client.post(f"/breaches/{breach.pk}/waive/", {"reason": over(2000)}, follow=True)
    assert "Say why this breach is waived." in response.content.decode()
    kpi = {"name": over(120), "metric": "leads_created", "aggregation": "sum", "team": team.pk}
    assert "at most 120" in client.post("/kpis/new/", kpi, follow=True).content.decode()
    response = client.post(f"/teams/{team.pk}/closed-dates/", {"date": "2026-08-20", "name": over(120)}, follow=True)
    assert "at most 120" in response.content.decode()
    breach.refresh_from_db()
    assert (breach.acknowledged_at, breach.waived, breach.note) == (None, False, "")
    assert not Touch.objects.exists() and not Rejection.objects.exists()
    assert not Kpi.objects.exists() and not ClosedDate.objects.exists()


API_CASES = {
    "lead name": ("sales_manager", "post", "/api/v1/leads/", lambda t: {"name": over(200), "team": t["team"].pk}),
    "lead company": (
        "sales_manager",
        "post",
        "/api/v1/leads/",
        lambda t: {"name": "Siti", "company": over(200), "team": t["team"].pk},
    ),
    "lead phone": ("sales_manager", "patch", "/api/v1/leads/{lead}/", lambda t: {"phone": over(40)}),
    "lead notes": ("sales_manager", "patch", "/api/v1/leads/{lead}/", lambda t: {"notes": over(5000)}),
    "campaign name": (
        "marketing_manager",
        "post",
        "/api/v1/campaigns/",
        lambda t: {"name": over(200), "team": t["marketing"], "start_date": "2026-08-01"},
    ),
    "sla name": (
        "sales_manager",
        "post",
        "/api/v1/slas/",
        lambda t: {"name": over(120), "kind": "cadence", "team": t["team"].pk},
    ),
    "touch notes": (
        "sales_rep",
        "post",
        "/api/v1/leads/{lead}/touches/",
        lambda t: {"kind": "call", "notes": over(5000)},
    ),
    "rejection note": (
        "sales_rep",
        "post",
        "/api/v1/leads/{lead}/reject/",
        lambda t: {"reason": "spam", "note": over(2000)},
    ),
    "breach note": ("sales_manager", "patch", "/api/v1/breaches/{breach}/", lambda t: {"note": over(2000)}),
    "waiver reason": (
        "sales_manager",
        "patch",
        "/api/v1/breaches/{breach}/",
        lambda t: {"waived": True, "waived_reason": over(2000)},
    ),
    "team name": ("admin", "patch", "/api/v1/teams/{team}/", lambda t: {"name": over(120)}),
    "first name": ("admin", "patch", "/api/v1/users/{rep}/", lambda t: {"first_name": over(150)}),
    "last name": ("admin", "patch", "/api/v1/users/{rep}/", lambda t: {"last_name": over(150)}),
    "kpi name": (
        "sales_manager",
        "post",
        "/api/v1/kpis/",
        lambda t: {"name": over(120), "metric": "leads_created", "team": t["team"].pk},
    ),
}


@pytest.mark.parametrize("case", list(API_CASES))
def test_text_over_its_length_is_a_400_from_the_api(api_as, users, things, marketing_team, case):
    role, method, path, build = API_CASES[case]
    things["marketing"] = marketing_team.pk
    data = build(things)
    url = path.format(
        lead=things["lead"].pk, breach=things["breach"].pk, team=things["team"].pk, rep=users["sales_rep"].pk
    )
    before = {model: model.objects.count() for model in (Lead, Campaign, Sla, Touch, Rejection, Kpi)}
    response = getattr(api_as(users[role]), method)(url, data, format="json")
    assert response.status_code == 400, response.content
    field_name = next(name for name, value in data.items() if isinstance(value, str) and value.startswith("xxxx"))
    assert field_name in response.json()
    assert {model: model.objects.count() for model in before} == before
    lead, breach, rep, team = things["lead"], things["breach"], users["sales_rep"], things["team"]
    for row in (lead, breach, rep, team):
        row.refresh_from_db()
    kept = {lead.name, lead.company, lead.phone, lead.notes, breach.note, breach.waived_reason}
    assert data[field_name] not in kept | {rep.first_name, rep.last_name, team.name}
    assert not breach.waived


# -- 4. Names in any script --------------------------------------------------------------------------
TEAM_NAME = "Tim Penjualan — 雅加达 🚀"
REP = ("Dewi", "Lestari 李 🌺")
NAMES = {
    "siti": ("Siti Nurhaliza — PT Maju Jaya", "PT Maju Jaya"),
    "zhang": ("张伟", "北京科技有限公司"),
    "rocket": ("Andi Wijaya", "🚀 Rocket Co"),
}
CAMPAIGN_NAME = "Kampanye Ramadan 🌙 — 春节"


@pytest.fixture
def people(users, sales_team, marketing_team) -> dict[str, Lead]:
    teams.team_update(team=sales_team, name=TEAM_NAME)
    teams.user_update(user=users["sales_rep"], first_name=REP[0], last_name=REP[1])
    campaign = leads.campaign_create(
        by=users["marketing_manager"], team=marketing_team, name=CAMPAIGN_NAME, start_date=date(2026, 1, 1)
    )
    return {
        key: leads.lead_create(
            by=users["sales_manager"],
            team=sales_team,
            name=name,
            company=company,
            campaign=campaign,
            owner=users["sales_rep"],
        )
        for key, (name, company) in NAMES.items()
    }


def test_unicode_names_on_the_lead_list_lead_pages_and_queue(client, users, people):
    client.force_login(users["sales_manager"])
    text = client.get("/leads/").content.decode()
    for name, company in NAMES.values():
        assert name in text and company in text
    assert TEAM_NAME in text and f"{REP[0]} {REP[1]}" in text
    for key, lead in people.items():
        text = client.get(f"/leads/{lead.pk}/").content.decode()
        assert NAMES[key][0] in text and NAMES[key][1] in text
        assert CAMPAIGN_NAME in text and TEAM_NAME in text and REP[1] in text
    client.force_login(users["sales_rep"])
    text = client.get("/leads/queue/").content.decode()
    assert all(name in text for name, _ in NAMES.values())
    assert REP[0] in client.get("/").content.decode()


@pytest.mark.parametrize(
    "query,found", [("张伟", "zhang"), ("北京", "zhang"), ("rocket co", "rocket"), ("maju jaya", "siti"), ("—", "siti")]
)
def test_searching_in_any_script_finds_the_lead(client, api_as, users, people, query, found):
    client.force_login(users["sales_manager"])
    text = client.get("/leads/", {"q": query}).content.decode()
    for key, (name, _) in NAMES.items():
        assert (name in text) == (key == found), (query, key)
    response = api_as(users["sales_manager"]).get("/api/v1/leads/", {"q": query})
    assert [row["id"] for row in response.json()["results"]] == [people[found].pk]


def test_the_csv_export_keeps_every_character(client, users, people):
    client.force_login(users["sales_manager"])
    response = client.get("/leads/export/")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeffid,name,")
    rows = {row["name"]: row for row in csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))}
    for name, company in NAMES.values():
        assert (rows[name]["company"], rows[name]["campaign"], rows[name]["team"]) == (
            company,
            CAMPAIGN_NAME,
            TEAM_NAME,
        )
        assert rows[name]["owner"] == "rep1"


def test_the_api_returns_unicode_as_utf8_json(api_as, users, people, sales_team):
    api = api_as(users["sales_manager"])
    response = api.get(f"/api/v1/leads/{people['zhang'].pk}/")
    assert "张伟".encode() in response.content  # UTF-8, not \\u escapes
    assert (response.json()["name"], response.json()["company"]) == NAMES["zhang"]
    assert TEAM_NAME in [team["name"] for team in api.get("/api/v1/teams/").json()["results"]]
    assert CAMPAIGN_NAME in [c["name"] for c in api.get("/api/v1/campaigns/").json()["results"]]
    found = api.get("/api/v1/users/", {"search": "李"}).json()["results"]
    assert [(user["first_name"], user["last_name"]) for user in found] == [REP]


def test_unicode_input_round_trips_through_the_form_and_the_api(client, api_as, users, sales_team):
    name, company, notes = "Kopi Kenangan ☕ — 咖啡", "PT Kopi 🇮🇩", "Rapat hari Jum'at\n会议 👍"
    client.force_login(users["sales_manager"])
    data = {"name": name, "company": company, "notes": notes, "team": sales_team.pk, "source": "web"}
    response = client.post("/leads/new/", data)
    assert response.status_code == 302
    lead = Lead.objects.get(name=name)
    assert (lead.company, lead.notes) == (company, notes)
    api = api_as(users["sales_manager"])
    response = api.post(
        "/api/v1/leads/", {"name": "🚀" * 200, "company": "张" * 200, "team": sales_team.pk}, format="json"
    )
    assert response.status_code == 201  # the limits count characters, not bytes
    assert api.get(f"/api/v1/leads/{response.json()['id']}/").json()["name"] == "🚀" * 200
