"""The settings module: embedded defaults with no environment, services and security from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Variables of the test run that must not leak into the probed process.
SERVICE_VARS = {
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "CACHE_URL",
    "NUM_PROXIES",
}
PROBE = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "options": db.get("OPTIONS", {}),
    "broker": settings.CELERY_BROKER_URL, "email": settings.EMAIL_BACKEND,
    "debug": settings.DEBUG, "tz": settings.TIME_ZONE, "use_tz": settings.USE_TZ,
    "languages": [code for code, _ in settings.LANGUAGES],
    "ssl_redirect": settings.SECURE_SSL_REDIRECT, "secure_cookies": settings.SESSION_COOKIE_SECURE,
    "static": settings.STORAGES["staticfiles"]["BACKEND"],
}))
"""


def run(env: dict[str, str], code: str = PROBE, args: list[str] | None = None) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in SERVICE_VARS}
    clean["DJANGO_SETTINGS_MODULE"] = "salesmarketing.settings"
    return subprocess.run(
        args or [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_with_no_environment_it_runs_on_embedded_defaults():
    result = run({})
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["engine"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in found["options"]["init_command"]
    assert found["options"]["timeout"] >= 5
    assert found["broker"] == "filesystem://"
    assert found["email"] == "django.core.mail.backends.filebased.EmailBackend"
    assert (found["tz"], found["use_tz"], found["languages"]) == ("Asia/Jakarta", True, ["en", "id"])


def test_services_come_from_the_environment():
    result = run(
        {
            "DATABASE_URL": "postgres://selaras@db.internal:5432/selaras",
            "REDIS_URL": "redis://cache.internal:6379/0",
            "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
        }
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["broker"] == "redis://cache.internal:6379/0"
    assert found["email"] == "django.core.mail.backends.smtp.EmailBackend"


def test_production_refuses_to_start_without_a_secret_key():
    result = run({"DEBUG": "false", "ALLOWED_HOSTS": "selaras.example.com"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_with_production_variables():
    env = {
        "DEBUG": "false",
        "SECRET_KEY": "x7#kq!v2m@p9z$w4r8t1y6u3i0o5e-a_s+d=f^g&h*j(k)l{;}n",
        "ALLOWED_HOSTS": "selaras.example.com",
    }
    result = run(env, args=[sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    found = json.loads(run(env).stdout)
    assert found["ssl_redirect"] and found["secure_cookies"]
    assert found["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


KEY_PROBE = "import django; from django.conf import settings; django.setup(); print(settings.SECRET_KEY)"


def test_a_secret_key_starting_with_a_dollar_is_taken_as_it_is():
    """Django's random keys may start with "$", which django-environ reads as another variable's name."""
    key = "$j=x3" + "k" * 45
    result = run({"DEBUG": "false", "SECRET_KEY": key, "ALLOWED_HOSTS": "selaras.example.com"}, code=KEY_PROBE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == key


def test_a_debug_install_without_a_secret_key_makes_its_own_once(tmp_path):
    """A fixed development key would let anyone sign links for every default install."""
    first = run({"SECRET_KEY_FILE": str(tmp_path / "a" / "secret_key")}, code=KEY_PROBE)
    again = run({"SECRET_KEY_FILE": str(tmp_path / "a" / "secret_key")}, code=KEY_PROBE)
    other = run({"SECRET_KEY_FILE": str(tmp_path / "b" / "secret_key")}, code=KEY_PROBE)
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50 and "insecure" not in key
    assert again.stdout.strip() == key and other.stdout.strip() != key
    assert (tmp_path / "a" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert [path.name for path in (tmp_path / "a").iterdir()] == ["secret_key"]


COOKIE_AND_CACHE_PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({"language_secure": settings.LANGUAGE_COOKIE_SECURE, "cache": settings.CACHES["default"],
                  "proxies": settings.NUM_PROXIES, "drf_proxies": settings.REST_FRAMEWORK["NUM_PROXIES"]}))
"""


def test_production_cookies_are_secure_and_no_forwarded_header_is_trusted_by_default():
    env = {"DEBUG": "false", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "selaras.example.com"}
    found = json.loads(run(env, code=COOKIE_AND_CACHE_PROBE).stdout)
    assert found["language_secure"] is True
    assert (found["proxies"], found["drf_proxies"]) == (0, 0)
    behind = json.loads(run({**env, "NUM_PROXIES": "1"}, code=COOKIE_AND_CACHE_PROBE).stdout)
    assert (behind["proxies"], behind["drf_proxies"]) == (1, 1)


def test_rate_counters_use_a_shared_redis_cache_with_short_timeouts_when_one_is_named():
    found = json.loads(run({"CACHE_URL": "redis://cache.internal:6379/1"}, code=COOKIE_AND_CACHE_PROBE).stdout)
    assert found["cache"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert found["cache"]["LOCATION"] == "redis://cache.internal:6379/1"
    assert found["cache"]["OPTIONS"] == {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    local = json.loads(run({}, code=COOKIE_AND_CACHE_PROBE).stdout)
    assert local["cache"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
