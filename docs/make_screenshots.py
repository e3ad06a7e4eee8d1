"""Screenshots of Selaras with the demo data, for the README: `make screenshots`.

Builds a throw-away SQLite database with `seed_demo`, serves it on a free local port
and photographs the main pages in Debian's Chromium (never a downloaded browser).
`python docs/make_screenshots.py lead-form.png …` takes only the shots named.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# (file, user, path, phone?)
LONG = {"breaches.png", "sla.png", "leads.png"}
SHOTS = [
    ("dashboard.png", "sales.manager", "/", False),
    ("queue-phone.png", "rep1", "/leads/queue/", True),
    ("leads.png", "sales.manager", "/leads/", False),
    ("leads-phone.png", "sales.manager", "/leads/", True),
    ("lead.png", "rep1", None, False),
    ("sla-form.png", "sales.manager", "/slas/new/response/", False),
    ("sla.png", "sales.manager", "/slas/1/", False),
    ("breaches.png", "sales.manager", "/breaches/", False),
    ("scorecards.png", "marketing.manager", "/scorecards/", False),
    ("insights.png", "marketing.manager", "/insights/", False),
    ("time-off.png", "sales.manager", "/teams/time-off/", False),
    ("routing.png", "sales.manager", "/routing/?source=ads&value=75000000", False),
    ("time-off-phone.png", "rep1", "/teams/time-off/", True),
    ("notifications.png", "sales.manager", "/notifications/", False),
    ("notifications-phone.png", "rep1", "/notifications/", True),
    ("webhooks.png", "admin", "/webhooks/", False),
    ("lead-form.png", "marketing.manager", "/intake/forms/1/", False),
    # The demo form's public page, as a visitor opens it: its link read from the form's page.
    ("lead-form-public-phone.png", "marketing.manager", "public form", True),
    # A rep has just tapped Call on the first card of the queue: undo, and how did it go?
    ("queue-tapped-phone.png", "rep1", "tapped call", True),
    ("profile.png", "rep1", "/accounts/profile/", False),
    # The response SLA tightened to 4 business hours, previewed before saving.
    ("sla-preview.png", "sales.manager", "sla preview", False),
    ("disputes.png", "sales.manager", "/leads/disputes/", False),
    ("dashboard-marketing.png", "marketing.manager", "/", False),
    ("sla-volume.png", "marketing.manager", "/slas/3/", False),
    # A rep's first visit, in Indonesian (a name ending in -id): the dashboard's short tour.
    ("tour-phone-id.png", "rep1", "/", True),
    ("capacity-phone-id.png", "sales.manager", "/#settling", True),
    ("webhook-deliveries.png", "admin", "/webhooks/2/", False),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    chromium = shutil.which("chromium") or sys.exit("Chromium is needed: apt-get install chromium")
    workdir = Path(tempfile.mkdtemp(prefix="selaras-shots-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'demo.sqlite3'}",
        "EMAIL_FILE_PATH": str(workdir / "mail"),
        "CELERY_FILESYSTEM_DIR": str(workdir / "celery"),
        "DEBUG": "true",
        # The profile page shows the capture address once e-mail capture is set up.
        "MAIL_CAPTURE_IMAP_URL": "imaps://log%40selaras.example:secret@imap.selaras.example:993/INBOX",
        "MAIL_CAPTURE_ADDRESS": "log@selaras.example",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True)
    subprocess.run([*manage, "seed_demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(50):
            try:
                urlopen(f"{base}/health/", timeout=1)  # noqa: S310 (our own local server)
                break
            except OSError:
                time.sleep(0.2)
        shoot(chromium, base, env)
    finally:
        server.terminate()
        shutil.rmtree(workdir, ignore_errors=True)


def shoot(chromium: str, base: str, env: dict) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        only = set(sys.argv[1:])
        for name, username, path, phone in SHOTS:
            if only and name not in only:
                continue
            viewport = {"width": 375, "height": 812} if phone else {"width": 1280, "height": 900}
            context = browser.new_context(viewport=viewport, device_scale_factor=1)
            if name.removesuffix(".png").endswith("-id"):
                context.add_cookies([{"name": "django_language", "value": "id", "url": base}])
            page = context.new_page()
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", "selaras-demo")
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            if path is None:  # the first lead in the rep's queue
                page.goto(f"{base}/leads/queue/")
                path = page.locator("article h2 a").first.get_attribute("href")
            if path == "public form":  # opened by a visitor: a browser of their own, no login
                page.goto(f"{base}/intake/forms/1/")
                link = page.locator("#form-url").input_value()
                context.close()
                context = browser.new_context(viewport=viewport, device_scale_factor=1)
                page = context.new_page()
                page.goto(link)
            elif path == "tapped call":  # a headless browser has no dialler: its opening is left out
                page.add_init_script(
                    'window.addEventListener("selaras:open", (e) => e.stopImmediatePropagation(), true);'
                )
                page.goto(f"{base}/leads/queue/")
                page.locator("article button.tap-call").first.click()
                page.locator("article .tap-followup").first.wait_for()
            elif path == "sla preview":
                page.goto(f"{base}/slas/1/edit/")
                page.get_by_label("Target").fill("4")
                page.get_by_label("Unit").select_option("business_hours")
                page.get_by_role("button", name="Preview the last 13 weeks").click()
                page.locator("#preview-chart").wait_for()
            else:
                page.goto(f"{base}{path}")
            page.wait_for_load_state("networkidle")
            # Long lists are shown as a person first sees them: the first screenful.
            page.screenshot(path=str(OUT / name), full_page=not phone and name not in LONG)
            context.close()
            print(f"docs/screenshots/{name}")
        browser.close()


if __name__ == "__main__":
    main()
