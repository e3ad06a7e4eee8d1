"""E-mail capture at scale (SPEC §10, §14), on PostgreSQL and a real Dovecot.

    .venv/bin/python bench/mailcapture.py                    # 10,000 messages
    .venv/bin/python bench/mailcapture.py --messages 1000    # a smoke run

1. Creates (or empties) the database `selaras_mailcapture` (BENCH_DATABASE_URL to change it)
   and fills it with bench/generate.py (`--leads`, 20 sales teams, 200 reps, their SLAs and
   clocks).
2. Starts a throwaway Dovecot (tests/dovecot.py) and APPENDs `--messages` messages as reps
   send them: most BCC'd from a rep to one or two of their own leads, one in ten a forward
   (an attached message/rfc822), one in twenty from a stranger (skipped), one in fifty a
   lead writing to their rep (an inquiry), one in fifty a calendar invitation.
3. The floor: the same messages downloaded over the same IMAP connection kind, in the same
   batches (EXAMINE, the UID listing, UID FETCH BODY.PEEK[]), with nothing done with them.
4. The capture: `mail_fetch` reads, stores and processes them all (follow-ups, SLA clocks,
   history, webhook outbox). Then a second run with nothing new: its IMAP commands after
   logging in are counted (SPEC: one round trip), and its time set against a bare NOOP.

Checks: every message has its row, every follow-up it should log is logged exactly once,
and the second run read nothing. Exits 1 if one fails.
"""

from __future__ import annotations

import argparse
import imaplib
import os
import random
import subprocess
import sys
import time
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from benchdb import recreate  # noqa: E402
from summary import append, row  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/selaras_mailcapture")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--summary", metavar="PATH", help="append the SPEC §10 lines to PATH (bench/summary.py)")
    args = parser.parse_args()

    recreate(DATABASE_URL)
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "DJANGO_SETTINGS_MODULE": "salesmarketing.settings"}
    generate = [sys.executable, str(ROOT / "bench/generate.py"), "--leads", str(args.leads), "--reset"]
    subprocess.run(generate, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    os.environ.update(DATABASE_URL=DATABASE_URL, DJANGO_SETTINGS_MODULE="salesmarketing.settings")
    import django

    django.setup()
    from tests.dovecot import Dovecot

    server = Dovecot.start()
    try:
        failures = run(server, args)
    finally:
        server.remove()
    sys.exit(1 if failures else 0)


def run(server, args) -> list[str]:
    from django.conf import settings
    from django.utils import timezone

    from leads.models import Touch
    from mailcapture.models import CapturedMail
    from mailcapture.services import mail_fetch

    box = server.mailbox()
    now = timezone.now()
    expected, messages = compose(args.messages, now)
    started = time.perf_counter()
    for start in range(0, len(messages), 500):
        box.append(*messages[start : start + 500], arrived_at=now - timedelta(minutes=5))
    print(f"appended {len(messages):,} messages in {time.perf_counter() - started:.1f} s")
    touches_before = Touch.objects.count()

    floor = download_floor(box, settings.MAIL_CAPTURE_BATCH)
    started = time.perf_counter()
    result = mail_fetch(now=timezone.now(), url=box.url)
    capture = time.perf_counter() - started
    started = time.perf_counter()
    idle = mail_fetch(now=timezone.now(), url=box.url)
    idle_time = time.perf_counter() - started
    noop = noop_floor(box)

    print(f"\nfloor (download only, batches of {settings.MAIL_CAPTURE_BATCH}): {floor:.2f} s")
    print(f"capture of {len(messages):,} messages: {capture:.2f} s = {capture / floor:.2f}× the floor (target < 60 s)")
    print(f"  {result.touches:,} follow-ups, {result.inquiries} inquiries, {result.skipped} skipped")
    print(f"a run with nothing new: {idle.commands} IMAP command(s) after login, {idle_time * 1000:.1f} ms")
    print(f"  (a bare login, NOOP and logout: {noop * 1000:.1f} ms; ratio {idle_time / noop:.2f}×)")

    failures = []
    if CapturedMail.objects.count() != len(messages):
        failures.append(f"rows: {CapturedMail.objects.count()} != {len(messages)}")
    logged = Touch.objects.count() - touches_before
    if logged != expected or result.touches != expected:
        failures.append(f"follow-ups: {logged} logged, {result.touches} reported, {expected} expected")
    if Touch.objects.filter(origin="email").values("lead", "external_id").distinct().count() != expected:
        failures.append("a follow-up was logged twice")
    idle_failures = []
    if idle.read or idle.commands != 1:
        idle_failures.append(f"the idle run read {idle.read} and sent {idle.commands} commands")
    slow = [f"capture took {capture:.1f} s (target < 60 s)"] if capture >= 60 else []
    capture_failures = failures + slow
    failures = failures + idle_failures + slow
    print("\n" + ("FAILED: " + "; ".join(failures) if failures else "all checks held"))
    measured = {"messages": len(messages), "floor": floor, "capture": capture, "idle_time": idle_time, "noop": noop}
    checks = {"capture_failures": capture_failures, "idle_failures": idle_failures}
    append(args.summary, summary_rows(**measured, result=result, idle=idle, **checks))
    return failures


def summary_rows(
    *,
    messages: int,
    floor: float,
    capture: float,
    idle_time: float,
    noop: float,
    result,
    idle,
    capture_failures: list[str],
    idle_failures: list[str],
) -> list[dict]:
    """The capture against the bare download; the poll with nothing new against a bare NOOP."""
    return [
        row(
            target="e-mail capture",
            figure=f"{capture:.2f} s for {messages:,} messages",
            floor=f"{floor:.2f} s (the bare download)",
            ratio=capture / floor,
            limit="< 60 s for 10,000 messages",
            met=not capture_failures,
            notes=(
                f"{result.touches:,} follow-ups, {result.inquiries} inquiries, {result.skipped} skipped; "
                + ("; ".join(capture_failures) if capture_failures else "every check held")
            ),
        ),
        row(
            target="e-mail poll with nothing new",
            figure=f"{idle.commands} IMAP command(s) after login, {idle_time * 1000:.1f} ms",
            floor=f"{noop * 1000:.1f} ms (login, NOOP, logout)",
            ratio=idle_time / noop,
            limit="one IMAP round trip per mailbox",
            met=not idle_failures,
            notes="; ".join(idle_failures) if idle_failures else f"read {idle.read}",
        ),
    ]


def compose(count: int, now) -> tuple[int, list[bytes]]:
    """`count` messages and the number of follow-ups they should log."""
    from leads.models import Lead

    rng = random.Random(1)
    owned = list(
        Lead.objects.filter(owner__isnull=False, email__gt="", created_at__lt=now - timedelta(hours=2))
        .values_list("pk", "email", "owner__email")
        .order_by("pk")[: count * 2]
    )
    by_owner: dict[str, list[str]] = {}
    for _pk, email, owner in owned:
        by_owner.setdefault(owner, []).append(email)
    reps = sorted(by_owner)
    expected, messages = 0, []
    for n in range(count):
        rep = rng.choice(reps)
        leads = rng.sample(by_owner[rep], k=min(len(by_owner[rep]), rng.choice([1, 1, 1, 2])))
        roll = rng.random()
        sent = now - timedelta(minutes=rng.randint(10, 600))
        if roll < 0.05:
            messages.append(mail(n, "someone@elsewhere.example", leads, sent))
        elif roll < 0.07:
            messages.append(mail(n, leads[0], [rep], sent))  # a lead writes: an inquiry
        elif roll < 0.17:
            messages.append(forward(n, rep, mail(n, rep, leads, sent), now))
            expected += len(leads)
        else:
            messages.append(mail(n, rep, leads, sent, invitation=roll < 0.19))
            expected += len(leads)
    return expected, messages


def mail(n: int, sender: str, to: list[str], sent, *, invitation: bool = False) -> bytes:
    message = EmailMessage()
    message["From"], message["To"] = sender, ", ".join(to)
    message["Subject"], message["Message-ID"] = f"Penawaran {n}", f"<bench-{n}@mail.example>"
    message["Date"] = sent.strftime("%a, %d %b %Y %H:%M:%S +0000")
    message.set_content("Halo,\n\nterlampir penawaran kami.\n" + "Salam.\n" * 20)
    if invitation:
        message.add_attachment(
            "BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nSUMMARY:Demo\nEND:VEVENT\nEND:VCALENDAR\n",
            subtype="calendar",
            params={"method": "REQUEST"},
        )
    return bytes(message)


def forward(n: int, rep: str, original: bytes, now) -> bytes:
    from email import message_from_bytes, policy

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = rep, "capture@selaras.example", f"Fwd: Penawaran {n}"
    message["Message-ID"] = f"<fwd-{n}@mail.example>"
    message["Date"] = now.strftime("%a, %d %b %Y %H:%M:%S +0000")
    message.set_content("FYI")
    message.add_attachment(message_from_bytes(original, policy=policy.default))
    return bytes(message)


def download_floor(box, batch: int) -> float:
    """Login, EXAMINE, the UID listing and every body in batches, doing nothing with them."""
    started = time.perf_counter()
    connection = imaplib.IMAP4("127.0.0.1", box.server.port)
    connection.login(box.user, box.url.split(":")[2].split("@")[0])
    connection.select("INBOX", readonly=True)
    _, data = connection.uid("FETCH", "1:*", "(UID RFC822.SIZE INTERNALDATE)")
    uids = [int(line.split(b"UID ")[1].split()[0]) for line in data if isinstance(line, bytes)]
    for start in range(0, len(uids), batch):
        connection.uid("FETCH", ",".join(map(str, uids[start : start + batch])), "(UID BODY.PEEK[])")
    connection.logout()
    return time.perf_counter() - started


def noop_floor(box) -> float:
    started = time.perf_counter()
    connection = imaplib.IMAP4("127.0.0.1", box.server.port)
    connection.login(box.user, box.url.split(":")[2].split("@")[0])
    connection.noop()
    connection.logout()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
