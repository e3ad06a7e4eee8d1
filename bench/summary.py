"""The SPEC §10 figures of one run of the benchmarks, as one table.

    .venv/bin/python bench/summary.py PATH

PATH holds JSON lines. Each benchmark given `--summary PATH` (bench/http.sh: BENCH_SUMMARY)
appends one line per SPEC §10 target it measures:

    {"target": "full sweep", "figure": "38.00 s", "floor": "15.40 s", "ratio": 2.47,
     "limit": "≤ 2× the floor", "met": false, "notes": "…"}

`floor` and `ratio` are null where the script measures no floor. bench/all.sh adds the
run's own lines: {"run": "start", "date": …, "cores": …, "smoke": …, "idle": …} first,
{"bench": name, "idle": …, "exit": …, "seconds": …} after each benchmark (the idle CPU
measured before it), and {"run": "end", "seconds": …} last. Prints the markdown table that
goes into bench/README.md: the date, the machine's cores and idle CPU, then one row per
target, the notes under it.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import date
from pathlib import Path

SMOKE = "sizes far below the SPEC's; it checks the plumbing, not the targets."
KEYS = ("target", "figure", "floor", "ratio", "limit", "met", "notes")


def row(
    *,
    target: str,
    figure: str,
    limit: str,
    met: bool,
    floor: str | None = None,
    ratio: float | None = None,
    notes: str = "",
) -> dict:
    """One target's line; `ratio` is the figure against `floor`, both or neither given."""
    return {
        "target": target,
        "figure": figure,
        "floor": floor,
        "ratio": None if ratio is None else round(ratio, 4),
        "limit": limit,
        "met": bool(met),
        "notes": notes,
    }


def append(path: str | None, rows: list[dict]) -> None:
    """Append `rows` to the file at `path`, one JSON line each; nothing when `path` is None."""
    if not path:
        return
    for line in rows:
        check(line)
    with Path(path).open("a", encoding="utf-8") as handle:
        for line in rows:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")


def check(line: dict) -> None:
    """Raise ValueError unless `line` is a well-formed target line."""
    if set(line) != set(KEYS):
        raise ValueError(f"keys {sorted(line)}, expected {sorted(KEYS)}")
    for key in ("target", "figure", "limit"):
        if not isinstance(line[key], str) or not line[key]:
            raise ValueError(f"{key} must be a non-empty string: {line!r}")
    if not isinstance(line["notes"], str) or not isinstance(line["met"], bool):
        raise ValueError(f"notes must be a string and met a boolean: {line!r}")
    if (line["floor"] is None) != (line["ratio"] is None):
        raise ValueError(f"floor and ratio go together: {line!r}")
    if line["floor"] is not None and not isinstance(line["floor"], str):
        raise ValueError(f"floor must be a string: {line!r}")
    if line["ratio"] is not None and (isinstance(line["ratio"], bool) or not isinstance(line["ratio"], int | float)):
        raise ValueError(f"ratio must be a number: {line!r}")


def read(path: str | Path) -> tuple[list[dict], list[dict], dict]:
    """The target lines, the benchmarks' lines and the run's (start and end merged)."""
    targets, benches, run = [], [], {}
    for number, text in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        line = json.loads(text)
        if "target" in line:
            try:
                check(line)
            except ValueError as error:
                raise ValueError(f"{path}:{number}: {error}") from None
            targets.append(line)
        elif "bench" in line:
            benches.append(line)
        elif line.get("run") == "start":
            run.update({key: value for key, value in line.items() if key != "run"})
        elif line.get("run") == "end":
            run["seconds"] = line.get("seconds")
    return targets, benches, run


def render(targets: list[dict], benches: list[dict], run: dict) -> str:
    day = str(run.get("date") or date.today().isoformat())[:10]
    cores = run.get("cores") or os.cpu_count()
    lines = [f"## SPEC §10 benchmarks, {day}", "", _machine(cores, benches, run)]
    if run.get("smoke"):
        lines += ["", f"**Smoke run** (`BENCH_SMOKE=1`): {SMOKE}"]
    lines += ["", "| target | figure | floor | ratio | limit | met |", "|---|---|---|---|---|---|"]
    for line in targets:
        ratio = "—" if line["ratio"] is None else f"{line['ratio']:.3g}×"
        cells = [line["target"], line["figure"], line["floor"] or "—", ratio, line["limit"]]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + f" | {'yes' if line['met'] else '**no**'} |")
    notes = [f"- {line['target']}: {line['notes']}" for line in targets if line["notes"]]
    if notes:
        lines += ["", *notes]
    failed = [f"{b['bench']} (exit {b['exit']})" for b in benches if b.get("exit")]
    if failed:
        lines += ["", "Exited with an error or a failed check: " + ", ".join(failed) + "."]
    return "\n".join(lines)


def _machine(cores: int, benches: list[dict], run: dict) -> str:
    """The cores, the idle CPU (% of one core: 200 % is two idle cores) and the time taken."""
    text = f"{cores} cores"
    measured = [b for b in benches if b.get("idle") is not None]
    before = [b["idle"] for b in measured]
    if run.get("idle") is not None:
        text += f"; idle CPU {run['idle']} % at the start"
        if before:
            text += f", {_span(before)} % before each benchmark"
    elif before:
        text += f"; idle CPU {_span(before)} % before each benchmark"
    if run.get("idle") is not None or before:
        text += f" ({100 * cores} % = every core idle)"
    if run.get("seconds") is not None:
        text += f"; {_duration(run['seconds'])} in all"
    text += "."
    if before:
        text += " Idle before: " + ", ".join(f"{b['bench']} {b['idle']} %" for b in measured) + "."
    return text


def _span(values: list) -> str:
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}–{high}"


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{seconds:.0f} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main() -> None:
    parser = argparse.ArgumentParser(description="Print the SPEC §10 table of a run's summary lines.")
    parser.add_argument("path", help="the JSON lines the benchmarks appended (--summary PATH)")
    args = parser.parse_args()
    print(render(*read(args.path)))


if __name__ == "__main__":
    main()
