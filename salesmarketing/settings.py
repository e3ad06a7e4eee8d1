"""Settings for Selaras: one module, every deployment difference from the environment.

With no variable set it runs on an embedded default (SQLite, a filesystem Celery
broker, e-mail written to files) so that a fresh laptop needs nothing but Python.
Production sets at least DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and
REDIS_URL; `manage.py check --deploy` is then clean.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # runtime files of the embedded default; ignored by git

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)


def _install_secret_key(path: Path) -> str:
    """This install's own random key, made on its first run and kept in `path` (var/secret_key,
    ignored by git), for DEBUG installs without SECRET_KEY: a key shared by every default
    install would let anyone sign links (unsubscribe, password reset) for any of them.
    Processes starting at once agree on one key: the first hard link wins."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            file.write(get_random_secret_key())
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    return path.read_text().strip()


# Read as it is: django-environ would take a key starting with "$" (Django's random keys may)
# for the name of another variable, and find nothing there.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = _install_secret_key(Path(env.str("SECRET_KEY_FILE", default=str(VAR_DIR / "secret_key"))))
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "simple_history",
    "axes",
    "csp",
    "teams",
    "leads",
    "slas",
    "kpis",
    "routing",
    "notifications",
    "webhooks",
    "intake",
    "mailcapture",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Early, so that every page gets the policy, including redirects and lock-outs.
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "teams.middleware.LoginRequiredMiddleware",
    "teams.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "salesmarketing.urls"
WSGI_APPLICATION = "salesmarketing.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "teams.context_processors.navigation",
            ],
        },
    },
    # The hot pages, their tables and cards, and the layout's pieces (each app's jinja2/ folder;
    # salesmarketing/jinja.py).
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "salesmarketing.jinja.environment",
            "context_processors": ["teams.context_processors.navigation"],
        },
    },
]

# --- Database -----------------------------------------------------------------
# SQLite by default, in WAL mode with a busy timeout and IMMEDIATE transactions so
# that the web, the worker and beat can write at the same time without "database
# is locked". PostgreSQL with DATABASE_URL=postgres://user@host:5432/name.
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'selaras.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Covering indexes (INCLUDE) are a PostgreSQL optimisation; SQLite uses their keys alone.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    # Fail fast when PostgreSQL is down instead of hanging a request.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    # No JIT: it spent 0.3 s compiling a sweep statement that then ran in 0.4 s (bench/README.md);
    # every query here is index-driven and short. Check every 5 s that the client is still
    # there: a worker killed while its statement waits on a lock would otherwise keep its
    # session, and the sweep's advisory lock, until the lock came free.
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off -c client_connection_check_interval=5000")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "teams.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "teams.backends.ModelBackendWithTeam",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "kpis:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: 5 failures per username and address lock that pair for 15 min.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_CLIENT_IP_CALLABLE = "salesmarketing.ratelimit.client_ip"
AXES_VERBOSE = False

# --- Internationalisation ---------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("id", _("Bahasa Indonesia"))]
# The company's currency: shared goals and sums over teams (each team has its own too).
CURRENCY = env.str("CURRENCY", default="IDR")
# English dates day-month-year with a 24-hour clock, as in Indonesia (salesmarketing/formats/en).
FORMAT_MODULE_PATH = ["salesmarketing.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Jakarta")
USE_I18N = True
USE_TZ = True
# Off: ids in attributes and URLs must never be grouped ("1,234"); templates group
# money and counts explicitly (floatformat:"0g", intcomma).

# --- Static files -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Uploads (CSV imports) are capped; larger bodies answer 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
# Clocks per transaction in a full sweep: small enough that no transaction runs long.
SLA_SWEEP_CHUNK = env.int("SLA_SWEEP_CHUNK", default=50_000)
# Scorecards for many teams run their statements on two PostgreSQL connections at once.
SCORECARDS_PARALLEL = env.bool("SCORECARDS_PARALLEL", default=True)

# --- Security: strict whenever DEBUG is off -----------------------------------------
# Trust X-Forwarded-Proto only behind a proxy that sets it (BEHIND_PROXY=true).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_PROXY", default=False) else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = env.bool("LANGUAGE_COOKIE_SECURE", default=not DEBUG)
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Proxies in front of the app that each append the address they saw to X-Forwarded-For
# (a load balancer: 1). With none, the connection's address is the client's and the
# header, which any client can write, is ignored (salesmarketing.ratelimit.client_ip).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
# Password reset e-mails asked for, per client address and per e-mail address an hour.
PASSWORD_RESET_RATE_PER_HOUR = env.int("PASSWORD_RESET_RATE_PER_HOUR", default=5)
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy: only our own files run. No inline script, no event-handler
# attribute, no eval (htmx's allowEval is off, see base.html): a script injected into a
# page through some unescaped value would not execute. Styles are as strict (no
# 'unsafe-inline'): progress bars get their width from a data attribute set by
# static/js/selaras.js, so no page needs a style attribute or a <style> element.
# data: images are Bootstrap's and Swagger UI's inline SVG icons. tests/security/test_csp.py
# renders every page and fails on markup this policy would block.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- E-mail -------------------------------------------------------------------------
# EMAIL_URL=smtp+tls://user:pass@host:587 in production; by default every message
# is written as a file under var/mail/ so the demo's e-mails can be opened.
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
if "EMAIL_URL" in env:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Selaras <selaras@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ---------------------------------------------------------------------------
# Redis when REDIS_URL or CELERY_BROKER_URL is set; otherwise kombu's filesystem
# transport, which works across processes on one machine and needs no server.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "celery")))
    for _sub in ("queue", "processed"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
    }
else:
    # Tasks run late-acked: a message comes back only after the visibility timeout,
    # which must exceed the longest task (time limits below).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": 1,
        "socket_timeout": 5,
    }
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 600
CELERY_TASK_TIME_LIMIT = 900
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker outlives any broker outage (the default gives up after 100 attempts and exits).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Two queues: `celery` for the short jobs that keep things moving (webhooks, inbound posts,
# e-mail, e-mail capture) and `heavy` for the long ones (the sweep, scorecards, digests). A
# worker started without -Q takes both, as `make run`'s does; at scale, give `celery` workers
# of its own so that a full sweep or the nightly scorecards never hold up a webhook
# (docs/operations.md, "Sizing").
CELERY_TASK_QUEUES = (Queue("celery", routing_key="celery"), Queue("heavy", routing_key="heavy"))
CELERY_TASK_DEFAULT_QUEUE = "celery"
HEAVY_JOBS = ("slas.evaluate_slas", "slas.send_digests", "kpis.compute_scorecards", "kpis.refresh_scorecards")
CELERY_TASK_ROUTES = {name: {"queue": "heavy"} for name in HEAVY_JOBS}
# Beat keeps its schedule in memory: every job is idempotent and finds its work in
# the database, so nothing is lost on a restart, and there is no shelve file that a
# killed beat could leave corrupt (which would stop it from starting again).
CELERY_BEAT_SCHEDULER = "celery.beat:Scheduler"
# The periodic jobs of SPEC §8. The intervals may be shortened from the environment
# (the fault tests run beat every few seconds); every job is safe to run more often.
_digest_every = env.float("DIGEST_EVERY_SECONDS", default=0.0)
_webhooks_every = env.float("WEBHOOK_DELIVER_EVERY_SECONDS", default=10.0)
CELERY_BEAT_SCHEDULE: dict = {
    "evaluate-slas": {"task": "slas.evaluate_slas", "schedule": env.float("SWEEP_EVERY_SECONDS", default=300.0)},
    "compute-scorecards": {"task": "kpis.compute_scorecards", "schedule": crontab(hour=1, minute=15)},
    # Cards a change marked stale since they were computed (a rejection overturned, SPEC §15).
    "refresh-scorecards": {
        "task": "kpis.refresh_scorecards",
        "schedule": env.float("SCORECARD_REFRESH_EVERY_SECONDS", default=60.0),
    },
    # Hourly, so each team gets its digest at its own Monday 08:00 whatever its time zone.
    "send-digests": {"task": "slas.send_digests", "schedule": _digest_every or crontab(minute=2)},
    "send-notification-email": {
        "task": "notifications.send_email",
        "schedule": env.float("NOTIFICATION_EMAIL_EVERY_SECONDS", default=60.0),
    },
    # Every few seconds, so an event leaves soon after it happened without a web request
    # touching the broker; a run with nothing due is one indexed statement. A run drains
    # for up to WEBHOOK_RUN_SECONDS; runs that pile up behind a long one expire unrun.
    "deliver-webhooks": {
        "task": "webhooks.deliver",
        "schedule": _webhooks_every,
        "options": {"expires": _webhooks_every},
    },
    # Inbound events a request stored but could not process (SPEC §13): retried every minute.
    "process-inbound": {
        "task": "intake.process_inbound",
        "schedule": env.float("INBOUND_PROCESS_EVERY_SECONDS", default=60.0),
    },
}

# --- Outbound webhooks (SPEC §12) ---------------------------------------------------------
# Hosts a webhook may reach although they resolve to a loopback, private or link-local
# address (a receiver inside the company's network): comma-separated host names.
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# Requests in flight at once per worker run, and how long one run keeps delivering.
WEBHOOK_DELIVERY_THREADS = env.int("WEBHOOK_DELIVERY_THREADS", default=8)
WEBHOOK_RUN_SECONDS = env.float("WEBHOOK_RUN_SECONDS", default=50.0)
# A delivery a worker claimed and did not mark this long ago (it died) is sent again: far
# longer than a claimed batch can take (32 deliveries, 8 at a time, 5 s each at the most).
WEBHOOK_STALE_SECONDS = env.float("WEBHOOK_STALE_SECONDS", default=120.0)

# --- Leads that arrive on their own (SPEC §13) -----------------------------------------------
# Posts to one lead form from one address in a minute; more answer 429.
FORM_RATE_PER_MINUTE = env.int("FORM_RATE_PER_MINUTE", default=10)
# The largest body a form or hook accepts; WhatsApp's (batches of messages) may be larger.
INBOUND_MAX_BYTES = env.int("INBOUND_MAX_BYTES", default=64 * 1024)
WHATSAPP_MAX_BYTES = env.int("WHATSAPP_MAX_BYTES", default=1024 * 1024)
# The WhatsApp Business Cloud API webhook: the token Meta's setup page sends to verify the
# address, and the app secret that signs every post (X-Hub-Signature-256).
WHATSAPP_VERIFY_TOKEN = env.str("WHATSAPP_VERIFY_TOKEN", default="")
WHATSAPP_APP_SECRET = env.str("WHATSAPP_APP_SECRET", default="")
# An event stored but still waiting this long was left by a request that died: the periodic
# job processes it.
INBOUND_STALE_SECONDS = env.float("INBOUND_STALE_SECONDS", default=60.0)

# --- E-mail capture (SPEC §14) ---------------------------------------------------------------
# The mailbox reps BCC or forward to: imaps://user:password@host:993/INBOX (imap:// for a
# server on the same machine), and its address as users write it. Unset: no capture.
MAIL_CAPTURE_IMAP_URL = env.str("MAIL_CAPTURE_IMAP_URL", default="")
MAIL_CAPTURE_ADDRESS = env.str("MAIL_CAPTURE_ADDRESS", default="")
# A larger message is skipped (its reason recorded), never downloaded.
MAIL_CAPTURE_MAX_BYTES = env.int("MAIL_CAPTURE_MAX_BYTES", default=25 * 1024 * 1024)
MAIL_CAPTURE_TIMEOUT_SECONDS = env.float("MAIL_CAPTURE_TIMEOUT_SECONDS", default=30.0)
# Messages stored and processed together (one transaction each).
MAIL_CAPTURE_BATCH = env.int("MAIL_CAPTURE_BATCH", default=500)
if MAIL_CAPTURE_IMAP_URL:
    CELERY_BEAT_SCHEDULE["fetch-mail"] = {
        "task": "mailcapture.fetch_mail",
        "schedule": env.float("MAIL_CAPTURE_EVERY_SECONDS", default=60.0),
    }

# --- REST API -----------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: DRF takes the WWW-Authenticate challenge from the first class, so a
    # missing, unknown or revoked key answers 401 (with Session first it would be 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "salesmarketing.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "salesmarketing.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"auth_token": "10/min"},
    "NUM_PROXIES": NUM_PROXIES,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "EXCEPTION_HANDLER": "salesmarketing.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Selaras API",
    "DESCRIPTION": "Leads, follow-ups, SLAs and KPIs shared by Sales and Marketing.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "ENUM_NAME_OVERRIDES": {
        "TeamKindEnum": "teams.models.Team.Kind",
        "SlaKindEnum": "slas.models.Sla.Kind",
        "TouchKindEnum": "leads.models.Touch.Kind",
        "TouchOriginEnum": "leads.models.Touch.Origin",
        "SourceEnum": "leads.models.Source",
        "SlaPeriodEnum": "slas.models.Sla.Period",
        "SlaUnitEnum": "slas.models.Sla.Unit",
        "TargetPeriodEnum": "kpis.models.Target.Period",
        "WebhookEventEnum": "webhooks.models.Event",
        "LeadFormFieldEnum": "intake.models.FormField",
    },
    # Swagger UI from the drf-spectacular-sidecar package: nothing from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    # No badge from validator.swagger.io: the app loads nothing from the internet (and the CSP forbids it).
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Cache: local memory per process unless CACHE_URL says otherwise. Nothing the
# product needs for correctness lives in the cache; rate limits count there, so with
# several web processes name a shared one (e.g. CACHE_URL=redis://host:6379/1, a
# database of its own: clearing a cache empties its whole database).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    # A stalled Redis must not hold a request for long (SPEC §10).
    CACHES["default"].setdefault("OPTIONS", {}).update(socket_timeout=0.5, socket_connect_timeout=0.5)

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}
