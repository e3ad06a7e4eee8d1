"""Fault tests: the real PostgreSQL, a Redis of their own, gunicorn, Celery workers and beats,
an SMTP server of their own; then Redis refused and stalled, workers killed with SIGKILL,
PostgreSQL stopped, SMTP refused.

`.ci/run` runs them with FAULTS=1 against the machine's PostgreSQL. Elsewhere they are
skipped: they start processes, stop the machine's PostgreSQL for half a minute and take
about two minutes. Each test starts only its own processes (and stops the machine's
PostgreSQL only with the commands that start it again, in a `finally`).
"""

from __future__ import annotations

import email
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]
ENABLED = os.environ.get("FAULTS") == "1"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/faults/" not in str(item.fspath).replace(os.sep, "/"):
            continue
        item.add_marker(pytest.mark.faults)
        if not ENABLED:
            item.add_marker(pytest.mark.skip(reason="fault tests run in .ci/run (FAULTS=1, PostgreSQL)"))


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.fail("the fault tests need PostgreSQL: set DATABASE_URL")


@pytest.fixture(autouse=True)
def _fast_passwords():
    """Override the suite's MD5 hasher: no password is checked over HTTP here (sessions are made)."""


# -- processes ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], object], *, timeout: float, interval: float = 0.2, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


@dataclass
class Proc:
    """A child process with its output in a log file (read back on failure)."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen | None = None

    def start(self) -> Proc:
        self._file = self.log.open("ab")
        self.popen = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=self.env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill reaches its children
        )
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup, no ack, as when a machine dies."""
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.popen is not None:
            self.popen.wait(timeout=10)
            self._file.close()

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout=timeout)


class Processes:
    """Starts the app's processes with one environment, and stops every one at teardown."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.started: list[Proc] = []

    def spawn(self, name: str, args: list[str], **extra_env: str) -> Proc:
        proc = Proc(name, args, {**self.env, **extra_env}, self.logs / f"{name}-{len(self.started)}.log").start()
        self.started.append(proc)
        return proc

    def manage(self, *args: str, **extra_env: str) -> Proc:
        return self.spawn(args[0], [sys.executable, "manage.py", *args], **extra_env)

    def worker(self, name: str = "worker", *, pool: str = "solo", **extra_env: str) -> Proc:
        proc = self.spawn(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "salesmarketing",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname={name}-{len(self.started)}@%h",
            ],
            **extra_env,
        )
        wait_for(lambda: "ready." in proc.output() or not proc.alive(), timeout=60, what=f"{name} ready")
        assert proc.alive(), proc.output()
        return proc

    def beat(self, name: str = "beat", **extra_env: str) -> Proc:
        schedule = self.logs / f"{name}-{len(self.started)}-schedule"
        return self.spawn(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "salesmarketing",
                "beat",
                "--loglevel=INFO",
                f"--schedule={schedule}",
            ],
            **extra_env,
        )

    def gunicorn(self, name: str = "gunicorn", **extra_env: str) -> Web:
        root = Path(self.env["STATIC_ROOT"])
        if not (root / "staticfiles.json").exists():  # the production storage needs its manifest
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=self.env, check=True
            )
        port = free_port()
        proc = self.spawn(
            name,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "salesmarketing.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "30",
                "--log-level",
                "warning",
            ],
            **extra_env,
        )
        web = Web(f"http://127.0.0.1:{port}", proc)
        wait_for(web.healthy, timeout=60, what="gunicorn up")
        return web

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            proc.stop()

    def dump(self) -> str:
        return "\n".join(f"--- {proc.log.name}\n{proc.output()[-3000:]}" for proc in self.started)


@dataclass
class Web:
    base: str
    proc: Proc

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.base}/health/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def session(self, user) -> Browser:
        """A browser signed in as `user`: a session made in the database, as a login would."""
        client = Client()
        client.force_login(user)
        browser = Browser(self.base)
        browser.http.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
        return browser


@dataclass
class Timed:
    method: str
    path: str
    status: int
    seconds: float
    text: str = field(repr=False, default="")


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.log: list[Timed] = []

    def get(self, path: str, *, timeout: float = 10) -> Timed:
        return self._do("GET", path, timeout=timeout)

    def post(self, path: str, data: dict, *, timeout: float = 10) -> Timed:
        if "csrftoken" not in self.http.cookies:
            self.get("/accounts/notifications/")  # any page with a form sets the CSRF cookie
        headers = {"X-CSRFToken": self.http.cookies.get("csrftoken", "")}
        return self._do("POST", path, data=data, headers=headers, timeout=timeout)

    def _do(self, method: str, path: str, **kwargs) -> Timed:
        started = time.monotonic()
        response = self.http.request(method, self.base + path, allow_redirects=False, **kwargs)
        timed = Timed(method, path, response.status_code, time.monotonic() - started, response.text)
        self.log.append(timed)
        return timed


class FormFields(HTMLParser):
    """The values a browser would submit for the first form with `method=post` holding `marker`."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data[name] = attrs.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                self.data[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def form_values(html: str) -> dict[str, str]:
    parser = FormFields()
    parser.feed(html)
    return parser.data


# -- services of our own ------------------------------------------------------------------------
class OwnRedis:
    """A redis-server of the test's own on a free port: killed, restarted and paused at will."""

    def __init__(self, logs: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.logs = logs
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(self.logs / f"redis-{self.port}.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_for(self.ping, timeout=20, what="redis up")

    def ping(self) -> bool:
        import redis

        try:
            return redis.Redis.from_url(self.url, socket_timeout=1).ping()
        except redis.RedisError:
            return False

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def pause(self, milliseconds: int) -> None:
        import redis

        redis.Redis.from_url(self.url).execute_command("CLIENT", "PAUSE", milliseconds, "ALL")

    def send_task(self, name: str, **kwargs) -> None:
        from celery import Celery

        app = Celery(broker=self.url)
        app.conf.broker_transport_options = {"socket_connect_timeout": 2}
        app.send_task(name, kwargs=kwargs)


class SmtpSink:
    """A mail server of the test's own that keeps what it accepts. `before_accept(message)`
    runs after a message's data arrived and before the server answers 250."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.accepted: list[tuple[list[str], email.message.Message]] = []
        self.before_accept: Callable[[email.message.Message], None] | None = None
        self.server: socketserver.ThreadingTCPServer | None = None

    def start(self) -> None:
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                reply = self.wfile.write
                reply(b"220 sink ESMTP\r\n")
                recipients: list[str] = []
                for raw in self.rfile:
                    verb = raw.decode(errors="replace").strip().upper()
                    if verb.startswith(("EHLO", "HELO")):
                        reply(b"250 sink\r\n")
                    elif verb.startswith("MAIL"):
                        recipients = []
                        reply(b"250 OK\r\n")
                    elif verb.startswith("RCPT"):
                        recipients.append(raw.decode().split(":", 1)[1].strip().strip("<>"))
                        reply(b"250 OK\r\n")
                    elif verb == "DATA":
                        reply(b"354 go ahead\r\n")
                        lines = []
                        for line in self.rfile:
                            if line in (b".\r\n", b".\n"):
                                break
                            lines.append(line[1:] if line.startswith(b"..") else line)
                        message = email.message_from_bytes(b"".join(lines))
                        if sink.before_accept:
                            sink.before_accept(message)
                        sink.accepted.append((recipients, message))
                        reply(b"250 accepted\r\n")
                    elif verb in ("RSET", "NOOP"):
                        reply(b"250 OK\r\n")
                    elif verb == "QUIT":
                        reply(b"221 bye\r\n")
                        return
                    else:
                        reply(b"502 unknown\r\n")

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def recipients(self) -> list[str]:
        return sorted(address for rcpts, _ in self.accepted for address in rcpts)


class Sink:
    """A receiver on a fixed port: down (nothing listens), hanging past the sender's timeout,
    or answering 200 (after `delay`); counts the deliveries it answered and all it was sent."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.hang = False
        self.delay = 0.0
        self.hold_after: int | None = None  # answer this many, then hold every request until released
        self.released = threading.Event()
        self.answered: Counter = Counter()
        self.sent: Counter = Counter()
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                delivery = int(self.headers["X-Selaras-Delivery"])
                sink.sent[delivery] += 1
                if sink.hold_after is not None and sum(sink.answered.values()) >= sink.hold_after:
                    sink.released.wait(30)
                    self.close_connection = True
                    return
                if sink.hang:
                    time.sleep(3)
                    self.close_connection = True
                    return
                time.sleep(sink.delay)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                sink.answered[delivery] += 1

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.released.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


# -- fixtures ---------------------------------------------------------------------------------------
def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    """Where gunicorn's static files are collected (once, by the first test that needs them)."""
    return tmp_path_factory.mktemp("static")


@pytest.fixture
def own_redis(tmp_path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def sink():
    receiver = Sink()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def processes(tmp_path, static_root, own_redis, smtp_sink) -> Iterator[Processes]:
    """Everything the app runs, configured as production is (DEBUG off), on the test database."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL", "PYTEST_CURRENT_TEST")
    }
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=own_redis.url,
        EMAIL_URL=smtp_sink.url,
        DEBUG="false",
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        STATIC_ROOT=str(static_root),
        CONN_MAX_AGE="60",
        AXES_ENABLED="false",
        PYTHONUNBUFFERED="1",
    )
    procs = Processes(env, tmp_path)
    yield procs
    procs.stop_all()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and "processes" in item.funcargs:
        report.sections.append(("process logs", item.funcargs["processes"].dump()))


# -- PostgreSQL, stopped and started with the machine's own commands ------------------------------
def postgres_cluster() -> str:
    return sorted(path.name for path in Path("/etc/postgresql").iterdir())[-1]


def postgres_stop() -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", postgres_cluster(), "main", "stop", "-m", "fast"], check=True
    )


def postgres_start() -> None:
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", postgres_cluster(), "main", "start"], check=False)
    wait_for(
        lambda: subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode == 0,
        timeout=60,
        what="PostgreSQL back",
    )


def other_connection():
    """A connection of the test's own (not Django's), for holding locks while a worker runs."""
    import psycopg2

    return psycopg2.connect(database_url())


# -- the data ---------------------------------------------------------------------------------------
def local(team, days_ago: int, hour: int) -> datetime:
    from zoneinfo import ZoneInfo

    day = timezone.now().astimezone(ZoneInfo(team.timezone)).date() - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(team.timezone))


def assign_leads(*, team, owners, count: int, at: datetime, by) -> list:
    """`count` leads created and assigned at `at`, shared between `owners`: their clocks start then."""
    from leads import services as leads
    from leads.models import Lead
    from tests.factories import LeadFactory

    created = Lead.objects.bulk_create([LeadFactory.build(team=team, created_at=at) for _ in range(count)])
    ids = [lead.pk for lead in created]
    for index, owner in enumerate(owners):
        batch = list(Lead.objects.filter(pk__in=ids[index :: len(owners)]))
        leads.leads_assign_bulk(leads=batch, owner=owner, by=by, now=at)
    return ids


def breach_rows() -> set[tuple]:
    """The breach set, without when it was detected (which differs between runs by design)."""
    from slas.models import Breach

    return set(
        Breach.objects.values_list(
            "sla_id",
            "sla_version",
            "kind",
            "clock_id",
            "lead_id",
            "responsible_user_id",
            "due_at",
            "expected",
            "actual",
        )
    )


def clean_run_breaches() -> set[tuple]:
    """What one clean full sweep records from the data as it stands, without keeping it:
    swept in this process inside a transaction that is rolled back (past any sweep that a
    worker is running meanwhile, whose writes it waits for)."""
    from unittest import mock

    from django.db import transaction

    from slas.services import sla_sweep

    with transaction.atomic(), mock.patch("slas.services.sweep._guard_take", return_value=True):
        sla_sweep(now=timezone.now(), full=True)
        expected = breach_rows()
        transaction.set_rollback(True)
    return expected


@dataclass
class World:
    team: object
    users: dict
    slas: list
    week_start: object = None


@pytest.fixture
def world(users, sales_team) -> World:
    """Sales Jakarta under the response and cadence SLAs, with clocks that fell due unmet:
    240 leads assigned 40 days ago (response and cadence due), 360 assigned 10 days ago
    (response due), 40 of them answered in time (met). No sweep has run yet."""
    from leads import services as leads
    from leads.models import Lead
    from tests.factories import seed_slas

    sales_team.holiday_country = ""  # the dates move with the calendar; keep the working days plain
    sales_team.save()
    manager, reps = users["sales_manager"], [users["sales_rep"], users["other_rep"]]
    since = local(sales_team, 60, 9)
    slas = list(seed_slas(team=sales_team, by=manager, now=since).values())
    assign_leads(team=sales_team, owners=reps, count=240, at=local(sales_team, 40, 10), by=manager)
    recent = assign_leads(team=sales_team, owners=reps, count=360, at=local(sales_team, 10, 10), by=manager)
    for lead in Lead.objects.filter(pk__in=recent[:40]).select_related("owner"):
        leads.touch_log(lead=lead, by=lead.owner, kind="call", now=local(sales_team, 10, 11))
    return World(team=sales_team, users=users, slas=slas)


@pytest.fixture
def digest_world(users, sales_team) -> World:
    """Last ISO week's breaches on Sales Jakarta (swept), and a pending digest for each of
    the six people who get one (everyone asked for a digest even when empty)."""
    from slas import services
    from slas.digests import previous_week
    from slas.services import notifications
    from teams.models import User

    sales_team.holiday_country = ""
    sales_team.save()
    now = timezone.now()
    today = timezone.localdate(now)
    week = previous_week(team=sales_team, now=now) or today - timedelta(days=today.weekday() + 7)
    manager, reps = users["sales_manager"], [users["sales_rep"], users["other_rep"]]
    from zoneinfo import ZoneInfo

    tuesday = datetime(week.year, week.month, week.day, 10, tzinfo=ZoneInfo(sales_team.timezone)) + timedelta(days=1)
    services.sla_create(
        by=manager,
        team=sales_team,
        kind="response",
        name="First touch within 1 business day",
        target_value=1,
        target_unit="business_days",
        now=tuesday - timedelta(days=30),
    )
    assign_leads(team=sales_team, owners=reps, count=30, at=tuesday, by=manager)
    services.sla_sweep(now=now)
    User.objects.update(digest_when_empty=True)
    assert notifications.digests_schedule(now=now, week_start=week) == 6
    return World(team=sales_team, users=users, slas=[], week_start=week)


def lock_waiters() -> int:
    """Backends of the test database waiting on a lock (a worker stuck behind our lock)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def kill_worker_and_its_connection(worker: Proc) -> None:
    """SIGKILL the worker, and cut its database session where it waits, as a dead machine's
    connection is cut. (A statement already sent would otherwise still run once the lock is
    free: PostgreSQL notices the vanished client only when it next talks to it.)"""
    worker.kill()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
    wait_for(lambda: lock_waiters() == 0, timeout=20, what="the killed worker's session to end")


CHUNK = 50  # clocks per sweep chunk in these tests: many chunks from a few hundred leads


def hold_clock_in_the_middle() -> tuple[object, int]:
    """Lock a clock halfway through the due ones; returns the connection and the first
    clock id of the chunk that the sweep will be stuck in."""
    from slas.models import Clock

    due = sorted(Clock.objects.filter(state="running", due_at__lte=timezone.now()).values_list("pk", flat=True))
    middle = due[len(due) // 2]
    blocker = other_connection()
    blocker.cursor().execute("SELECT id FROM slas_clock WHERE id = %s FOR UPDATE", [middle])
    return blocker, due[0] + (middle - due[0]) // CHUNK * CHUNK
