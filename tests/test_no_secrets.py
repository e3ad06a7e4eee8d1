"""No secret in the repository: every tracked file is scanned for private keys, cloud and
API credentials, and passwords written into URLs. Settings take secrets from the environment."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "Slack token": re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}"),
    # user:password@ in a service URL, unless the password is a placeholder (pass, secret, …).
    "password in a URL": re.compile(
        r"\b(?:postgres|postgresql|redis|smtp\+?\w*|amqp)://[^\s:/@'\"]+:"
        r"(?!(?:pass|password|secret|…|\.\.\.|\*+|<[^>]+>)@)[^\s@'\"]+@"
    ),
}
# Throw-away values the code documents as such: test fixtures, the demo data, the benchmark users.
ALLOWED = {"tests/", "teams/demo.py", "bench/"}


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in out.splitlines() if name and not name.endswith((".mo", ".png", ".woff2", ".ico"))]


def test_no_tracked_file_holds_a_secret():
    found = []
    for path in tracked_files():
        relative = path.relative_to(ROOT).as_posix()
        if any(relative.startswith(prefix) for prefix in ALLOWED) or not path.is_file():
            continue
        text = path.read_text(errors="ignore")
        found += [f"{relative}: {name}" for name, pattern in PATTERNS.items() if pattern.search(text)]
    assert not found


def test_the_patterns_catch_what_they_are_for():
    samples = {
        "private key": "-----BEGIN RSA PRIVATE KEY-----",
        "AWS access key": "key = AKIAABCDEFGHIJKLMNOP",
        "GitHub token": "ghp_" + "a" * 36,
        "Slack token": "xoxb-1234567890-abcdef",
        "password in a URL": "DATABASE_URL=postgres://selaras:s3cret-pw@db:5432/selaras",
    }
    for name, sample in samples.items():
        assert PATTERNS[name].search(sample), name
    assert not PATTERNS["password in a URL"].search("postgres://selaras:…@db.internal:5432/selaras")
    assert not PATTERNS["password in a URL"].search("postgres://postgres@127.0.0.1:5432/test")
