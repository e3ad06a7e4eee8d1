"""Where one request's time goes: a page or API call profiled in-process with pyinstrument.

    .venv/bin/pip install pyinstrument   # a tool of this script only, not a requirement
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/selaras_http \\
        .venv/bin/python bench/profile_page.py /leads/?page=40 --as manager.s5 [--repeat 5]
        .venv/bin/python bench/profile_page.py /api/v1/leads/?page=40 --as manager.s5 --token

Runs with the production settings of bench/http.sh (DEBUG off, the cached template
loader), through Django's test client signed in as `--as`, on the database the HTTP
benchmark filled. One unmeasured request first (connection, templates compiled), then
`--repeat` timed ones: prints the mean wall time, SQL statement count and SQL time of a
request; then `--repeat` more under pyinstrument, and the top of its call tree.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.update(
    {
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "AXES_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
    }
)
os.environ.setdefault("SECRET_KEY", "bench-profile-only-key-0123456789abcdefghijklmnopqrstuvwxyz")
if "STATIC_ROOT" not in os.environ:  # the manifest storage needs collected files: collect them for this run
    os.environ["STATIC_ROOT"] = tempfile.mkdtemp(prefix="selaras-static-")
    atexit.register(shutil.rmtree, os.environ["STATIC_ROOT"], ignore_errors=True)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesmarketing.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from pyinstrument import Profiler  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from teams.models import User  # noqa: E402


class QueryTimer:
    """Counts the SQL statements of the requests and the time spent waiting for them."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.statements: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - started
            self.seconds += spent
            self.count += 1
            self.statements.append((spent, " ".join(sql.split())))


def main() -> None:
    parser = argparse.ArgumentParser(description="Profile one page or API request.")
    parser.add_argument("path")
    parser.add_argument("--as", dest="username", required=True)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--token", action="store_true", help="send the user's API token instead of a session")
    parser.add_argument("--depth", type=int, default=40, help="lines of the call tree to print")
    parser.add_argument("--flat", type=int, default=15, help="functions to list by self time")
    args = parser.parse_args()
    if not any(Path(os.environ["STATIC_ROOT"]).iterdir()):
        call_command("collectstatic", interactive=False, verbosity=0)
    user = User.objects.get(username=args.username)
    if args.token:  # as an API client: no session, the token in every request
        token, _ = Token.objects.get_or_create(user=user)
        client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token.key}")
    else:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user, backend="teams.backends.ModelBackendWithTeam")
    warm = client.get(args.path)
    if warm.status_code != 200:
        sys.exit(f"{args.path} answered {warm.status_code}")
    timer = QueryTimer()
    with connection.execute_wrapper(timer):
        started = time.perf_counter()
        for _ in range(args.repeat):
            response = client.get(args.path)
        elapsed = (time.perf_counter() - started) / args.repeat
    print(
        f"{args.path} as {args.username}: {response.status_code}, {len(response.content) / 1024:.0f} KiB, "
        f"{elapsed * 1000:.0f} ms a request, {timer.count // args.repeat} SQL statements "
        f"taking {timer.seconds / args.repeat * 1000:.0f} ms of it"
    )
    print("Slowest statements (mean per request; columns elided):")
    by_sql: dict[str, float] = {}
    for spent, sql in timer.statements:
        by_sql[sql] = by_sql.get(sql, 0.0) + spent / args.repeat
    for sql, spent in sorted(by_sql.items(), key=lambda item: -item[1])[:5]:
        select, _, rest = sql.partition(" FROM ")
        print(
            f"  {spent * 1000:6.1f} ms  {select[:40]} … FROM {rest[:220]}"
            if rest
            else f"  {spent * 1000:6.1f} ms  {sql[:260]}"
        )
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(args.repeat):
        client.get(args.path)
    profiler.stop()
    totals: dict[str, float] = {}
    _attribute(profiler.last_session.root_frame(), OTHER, totals)
    whole = sum(totals.values())
    print("\nWhere the time goes (share of the profile; ms: that share of the unprofiled time):")
    for name, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"  {seconds / whole:6.1%}  {seconds / whole * elapsed * 1000:6.1f} ms  {name}")
    print()
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    print("\n".join(text.splitlines()[: args.depth]))
    flat = [line for line in profiler.output_text(color=False, flat=True).splitlines() if line.strip()]
    print("Functions with the most self time:")
    print("\n".join(flat[5 : 5 + args.flat]))


OTHER = "other: request handling, middleware, auth, sessions"
APP = "view: the app's own code (views, selectors, permissions)"
CATEGORIES = [
    # (part of the file path, function names or None for any, category); the first match wins.
    ("/psycopg2/", None, "SQL: waiting for PostgreSQL and reading rows"),
    ("django/db/backends/", None, "SQL: waiting for PostgreSQL and reading rows"),
    ("django/db/models/sql/compiler.py", {"cursor_iter"}, "SQL: waiting for PostgreSQL and reading rows"),
    ("django/db/", None, "ORM: building queries and model instances"),
    ("django/utils/translation", None, "translation (gettext)"),
    ("/gettext.py", None, "translation (gettext)"),
    ("rest_framework/renderers.py", None, "API: JSON rendering"),
    ("rest_framework/serializers.py", None, "API: serializers"),
    ("rest_framework/fields.py", None, "API: serializers"),
    ("rest_framework/relations.py", None, "API: serializers"),
    ("/templatetags/", None, "templates (and form widgets)"),
    ("/jinja2/", None, "templates (and form widgets)"),  # Jinja2 itself and the apps' jinja2/ templates
    ("/markupsafe/", None, "templates (and form widgets)"),
    ("salesmarketing/jinja.py", None, "templates (and form widgets)"),
    ("django/template/", None, "templates (and form widgets)"),
    ("django/forms/", None, "templates (and form widgets)"),
    ("crispy_forms/", None, "templates (and form widgets)"),
    ("django_filters/", None, "view: filters (django-filter)"),
    ("/.venv/", None, None),
    ("/bench/", None, OTHER),
    ("/work/", None, APP),
]


def _category(frame) -> str | None:
    path = frame.file_path or ""
    for part, functions, name in CATEGORIES:
        if part in path and (functions is None or frame.function in functions):
            return name
    return None


def _attribute(frame, current: str, totals: dict[str, float]) -> None:
    """Add each frame's self time to the innermost kind of code on its stack."""
    category = _category(frame) or (OTHER if current == APP else current)
    totals[category] = totals.get(category, 0.0) + frame.total_self_time
    for child in frame.children:
        _attribute(child, category, totals)


if __name__ == "__main__":
    main()
