"""Time the business calendar: due times for many assignments spread over a year.

    .venv/bin/python bench/business_calendar.py [--count 100000]

Prints the time per 100,000 due times for a plain calendar, one with a lunch
break and one in Asia/Jayapura, for 1 business day and 8 business hours, and
the time for the same number of plain `datetime + timedelta` additions as the
floor. No database needed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from teams.calendar import BusinessCalendar, add_target


def run(count: int) -> list[tuple[str, float]]:
    rng = random.Random(42)
    base = datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Jakarta"))
    starts = [base + timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(count)]
    results = []
    floor_start = time.perf_counter()
    for start in starts:
        _ = start + timedelta(hours=8)
    results.append(("datetime + timedelta (floor)", time.perf_counter() - floor_start))
    cases = [
        ("Jakarta 09-17, 8 business_hours", BusinessCalendar(), 8, "business_hours"),
        (
            "Jakarta 09-17 lunch, 1 business_days",
            BusinessCalendar(break_start=clock(12), break_end=clock(13)),
            1,
            "business_days",
        ),
        (
            "Jayapura 08-16, 5 business_days",
            BusinessCalendar(timezone="Asia/Jayapura", work_start=clock(8), work_end=clock(16)),
            5,
            "business_days",
        ),
    ]
    for label, calendar, value, unit in cases:
        started = time.perf_counter()
        for start in starts:
            add_target(calendar, start, value, unit)
        results.append((label, time.perf_counter() - started))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    results = run(args.count)
    floor = results[0][1]
    print(f"{args.count:,} due times")
    for label, seconds in results:
        print(f"  {label:<40} {seconds:7.3f} s   {seconds / floor:6.1f}x the floor")


if __name__ == "__main__":
    main()
