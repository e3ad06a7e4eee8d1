"""The SPEC §10 lines of bench/http.sh's run (bench/summary.py), from its result lines.

    http_summary.py PATH LEADS DURATION CONNECTIONS < results

Each line of standard input is one endpoint's, as http.sh keeps them: `RESULT <label>
<requests/s> <p50 ms> <p95 ms> <p99 ms> <requests> <socket errors> <non-2xx> <idle %>`.
The lead list, the queue and the leads API are set against the plain list (`floor`) of the
same run; without it no line is written. Each line also gives the references of the same run
that bound it, when they were run: for the pages the plain list read with the product's
deferred join (`deferred`) and the same in Jinja2 (`jinja`), for the API the bare JSON list of
the same rows (`json`).
"""

from __future__ import annotations

import sys

from summary import append, row

FIELDS = ("rps", "p50", "p95", "p99", "requests", "errors", "non2xx", "idle")
TARGETS = {
    # label: (target, the least ratio of req/s, the most ratio of p95 or None)
    "list": ("pages: lead list", 2.0, 0.5),
    "queue": ("pages: rep's queue", 2.0, 0.5),
    "api": ("pages: leads API", 5.0, None),
}

PAGE_REFERENCES = [
    ("deferred", "the plain list read with the product's deferred join"),
    ("jinja", "the same in Jinja2"),
]
REFERENCES = {
    # label: [(a reference endpoint of the same run, what it is)]
    "list": PAGE_REFERENCES,
    "queue": PAGE_REFERENCES,
    "api": [("json", "the bare JSON list of the same rows")],
}


def parse(lines: list[str]) -> dict[str, dict]:
    results = {}
    for text in lines:
        parts = text.split()
        if len(parts) != 2 + len(FIELDS) or parts[0] != "RESULT":
            continue
        results[parts[1]] = {field: float(value) for field, value in zip(FIELDS, parts[2:], strict=True)}
    return results


def summary_rows(results: dict[str, dict], *, leads: int, duration: str, connections: int) -> list[dict]:
    floor = results.get("floor")
    if floor is None:
        return []
    bare = results.get("hello")
    lines = []
    for label, (target, least, most_p95) in TARGETS.items():
        result = results.get(label)
        if result is None:
            continue
        ratio, p95_ratio = result["rps"] / floor["rps"], result["p95"] / floor["p95"]
        clean = result["errors"] == 0 and result["non2xx"] == 0
        met = ratio >= least and (most_p95 is None or p95_ratio <= most_p95) and clean
        limit = f"≥ {least:g}× the plain list's req/s" + (
            f", p95 ≤ {most_p95:g}× its p95" if most_p95 is not None else ""
        )
        notes = (
            f"p95 {p95_ratio:.2f}× the plain list's; {result['requests']:,.0f} requests, "
            f"{result['errors']:.0f} errors, {result['non2xx']:.0f} non-2xx; idle before {result['idle']:.0f} %; "
            f"{leads:,} leads, {duration} at {connections} connections"
        )
        if bare is not None:
            notes += f"; bare response {bare['rps']:.1f} req/s"
        for reference, words in REFERENCES[label]:
            if reference in results:
                rps = results[reference]["rps"]
                notes += f"; {words} {rps:.1f} req/s ({rps / floor['rps']:.2f}× the plain list), "
                notes += f"this {result['rps'] / rps:.2f}× it"
        lines.append(
            row(
                target=target,
                figure=f"{result['rps']:.1f} req/s, p95 {result['p95']:.0f} ms",
                floor=f"{floor['rps']:.1f} req/s, p95 {floor['p95']:.0f} ms",
                ratio=ratio,
                limit=limit + ", no error",
                met=met,
                notes=notes,
            )
        )
    return lines


def main() -> None:
    path, leads, duration, connections = sys.argv[1:5]
    results = parse(sys.stdin.read().splitlines())
    lines = summary_rows(results, leads=int(leads), duration=duration, connections=int(connections))
    if not lines:
        print("summary: no plain list (floor) in this run, so no ratio to write", file=sys.stderr)
    append(path, lines)


if __name__ == "__main__":
    main()
