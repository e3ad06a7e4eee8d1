"""A benchmark database: created if needed, migrated, and filled by bench/generate.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def migrate(url: str) -> None:
    """Create the PostgreSQL database named by `url` if it does not exist, and migrate it."""
    if url.startswith("postgres"):
        import psycopg2

        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
        admin.close()
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)


def recreate(url: str) -> None:
    """Drop the PostgreSQL database named by `url` (closing its connections), create it
    afresh and migrate it."""
    name, admin = url.rsplit("/", 1)[1], url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True)
    subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "salesmarketing.settings"}
    subprocess.run([PYTHON, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"], env=env, check=True)


def fill(url: str, leads: int, *, quiet: bool = False, options: tuple[str, ...] = ()) -> None:
    """Migrate the database and replace its data with `leads` generated leads (0: the
    teams, people, campaigns and SLAs only); `options` go to bench/generate.py as well."""
    migrate(url)
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(
        [PYTHON, "bench/generate.py", "--leads", str(leads), "--reset", *options],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL if quiet else None,
    )
