#!/usr/bin/env bash
# Every SPEC §10 benchmark, one after the other, on PostgreSQL, then one table of their
# figures, each against its floor measured in the same run (bench/summary.py).
#
#   bench/all.sh                       # the SPEC's sizes: hours, most of it making the data
#   BENCH_SMOKE=1 bench/all.sh         # tiny sizes and durations: a few minutes, checks the plumbing
#
# In order: the sweep (full, with the volume periods, and incremental; bench/sweep.py), the
# scorecards (on the sweep's database), the SLA preview and the pages (one database of
# BENCH_PAGES_LEADS leads, as bench/http.sh fills it), the CSV import, intake, routing under
# 4 clients, e-mail capture, and outbound webhooks (with the receiver down BENCH_OUTAGE s).
# The sweep's and the pages' databases are filled only when they do not already hold that
# many leads (BENCH_REFILL=1 to refill them); the other scripts make their own afresh.
#
# Before starting and before each benchmark, the machine's idle CPU over 5 s from /proc/stat
# (200 % = two idle cores). A benchmark that fails or misses a target does not stop the
# others; the script exits 1 if any exited non-zero.
#
# Settings (environment), with the SPEC's sizes as defaults (BENCH_SMOKE=1's in brackets):
#   BENCH_SWEEP_LEADS 1000000 (20000)   sweep and scorecards
#   BENCH_SWEEP_SMALL 10000 (2000)      the sweep's statement count at a small size
#   BENCH_PAGES_LEADS 100000 (5000)     SLA preview and pages
#   BENCH_DURATION 60s (3s)             each page's run
#   BENCH_IMPORT_ROWS 100000 (2000)     CSV rows
#   BENCH_INTAKE_SECONDS 20 (3)         each intake endpoint's run
#   BENCH_BURST 10000 (300)             intake posts in the burst
#   BENCH_ROUTED_LEADS 10000 (1000)     leads routed under 4 clients
#   BENCH_MESSAGES 10000 (300)          messages in the mailbox
#   BENCH_MAIL_LEADS 50000 (3000)       leads of the e-mail capture's database
#   BENCH_WEBHOOK_EVENTS 10000 (500)    webhook events
#   BENCH_OUTAGE 600 (20)               seconds the webhook receiver is down (0: no outage run)
#   BENCH_RUNS 3 (1)                    runs of the scorecards and previews, the best kept
#   BENCH_STEPS "sweep scorecards preview pages import intake routed mailcapture webhooks"
#   BENCH_POSTGRES postgres://postgres@127.0.0.1:5432
#   BENCH_SUMMARY $TMPDIR/selaras-bench-<time>.jsonl   the summary lines (emptied first)
# The smoke run's sweep and pages databases are selaras_bench_smoke and selaras_http_smoke, so
# that it never replaces the data of a full run (selaras_bench, selaras_http).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=$ROOT/.venv/bin/python
PG=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
unset DATABASE_URL BENCH_DATABASE_URL

if [ "${BENCH_SMOKE:-0}" = 1 ]; then smoke=true suffix=_smoke; else smoke=false suffix=; fi
size() { if $smoke; then echo "$2"; else echo "$1"; fi; }
SWEEP_LEADS=${BENCH_SWEEP_LEADS:-$(size 1000000 20000)}
SWEEP_SMALL=${BENCH_SWEEP_SMALL:-$(size 10000 2000)}
PAGES_LEADS=${BENCH_PAGES_LEADS:-$(size 100000 5000)}
DURATION=${BENCH_DURATION:-$(size 60s 3s)}
IMPORT_ROWS=${BENCH_IMPORT_ROWS:-$(size 100000 2000)}
INTAKE_SECONDS=${BENCH_INTAKE_SECONDS:-$(size 20 3)}
BURST=${BENCH_BURST:-$(size 10000 300)}
ROUTED_LEADS=${BENCH_ROUTED_LEADS:-$(size 10000 1000)}
MESSAGES=${BENCH_MESSAGES:-$(size 10000 300)}
MAIL_LEADS=${BENCH_MAIL_LEADS:-$(size 50000 3000)}
WEBHOOK_EVENTS=${BENCH_WEBHOOK_EVENTS:-$(size 10000 500)}
OUTAGE=${BENCH_OUTAGE:-$(size 600 20)}
RUNS=${BENCH_RUNS:-$(size 3 1)}
STEPS=${BENCH_STEPS:-sweep scorecards preview pages import intake routed mailcapture webhooks}
SUMMARY=$(realpath -m "${BENCH_SUMMARY:-${TMPDIR:-/tmp}/selaras-bench-$(date +%Y%m%d-%H%M%S).jsonl}")
SWEEP_DB=$PG/selaras_bench$suffix
PAGES_DB=$PG/selaras_http$suffix
REFILL=${BENCH_REFILL:-}

step() { printf '\n==> %s\n' "$*" >&2; }

# shellcheck source=bench/idle.sh
. "$ROOT/bench/idle.sh"

# PostgreSQL may be down for a moment (someone's fault test): wait up to 2 minutes.
postgres_ready() {
  local _
  for _ in $(seq 120); do
    psql "$PG/postgres" -tAc "SELECT 1" >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "PostgreSQL at $PG does not answer" >&2
  return 1
}

# Create and migrate the database at URL and fill it with LEADS leads, unless it holds that
# many already (with BENCH_REFILL=1: unless this run filled it); with "sweep", run the full
# sweep after filling, as bench/http.sh does.
filled=" "
fill() {
  local url=$1 leads=$2 name=${1##*/} have
  if [ -z "$(psql "$PG/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]; then
    psql "$PG/postgres" -qc "CREATE DATABASE \"$name\"" || return
  fi
  DATABASE_URL=$url "$PY" manage.py migrate --noinput -v0 || return
  have=$(psql "$url" -tAc "SELECT count(*) FROM leads_lead") || return
  if [ "$have" = "$leads" ] && { [ -z "$REFILL" ] || [[ "$filled" == *" $name "* ]]; }; then
    echo "$name: $have leads already there (BENCH_REFILL=1 to regenerate)" >&2
    return 0
  fi
  step "filling $name with $leads leads"
  DATABASE_URL=$url "$PY" bench/generate.py --leads "$leads" --reset || return
  if [ "${3:-}" = sweep ]; then DATABASE_URL=$url "$PY" manage.py evaluate_slas --full >/dev/null || return; fi
  filled+="$name "
}

failed=()
# measure NAME COMMAND…: the idle CPU, then the benchmark; one line of the run to the summary.
measure() {
  local name=$1 free started rc
  shift
  free=$(idle)
  step "$name (idle before: $free %)"
  started=$(date +%s)
  "$@"
  rc=$?
  record "$name" "$free" "$rc" $(($(date +%s) - started))
}
record() {
  printf '{"bench": "%s", "idle": %s, "exit": %s, "seconds": %s}\n' "$1" "$2" "$3" "$4" >>"$SUMMARY"
  if [ "$3" != 0 ]; then failed+=("$1"); fi
}

bench_sweep() {
  fill "$SWEEP_DB" "$SWEEP_LEADS" || return
  measure sweep env DATABASE_URL="$SWEEP_DB" "$PY" bench/sweep.py --small "$SWEEP_SMALL" --summary "$SUMMARY"
}
bench_scorecards() {
  fill "$SWEEP_DB" "$SWEEP_LEADS" || return
  measure scorecards env DATABASE_URL="$SWEEP_DB" "$PY" bench/scorecards.py --runs "$RUNS" --summary "$SUMMARY"
}
bench_preview() {
  fill "$PAGES_DB" "$PAGES_LEADS" sweep || return
  measure preview env DATABASE_URL="$PAGES_DB" "$PY" bench/preview.py --runs "$RUNS" --summary "$SUMMARY"
}
bench_pages() {
  fill "$PAGES_DB" "$PAGES_LEADS" sweep || return
  measure pages env BENCH_DATABASE_URL="$PAGES_DB" BENCH_LEADS="$PAGES_LEADS" BENCH_DURATION="$DURATION" \
    BENCH_REFILL= BENCH_SUMMARY="$SUMMARY" bash bench/http.sh
}
bench_import() {
  measure import "$PY" bench/import.py --rows "$IMPORT_ROWS" --backends postgresql \
    --database-url "$PG/selaras_import" --summary "$SUMMARY"
}
bench_intake() {
  measure intake env BENCH_DATABASE_URL="$PG/selaras_intake" "$PY" bench/intake.py --seconds "$INTAKE_SECONDS" \
    --burst "$BURST" --summary "$SUMMARY"
}
bench_routed() {
  measure routed env BENCH_DATABASE_URL="$PG/selaras_routing" "$PY" bench/routed.py --leads "$ROUTED_LEADS" \
    --clients 4 --summary "$SUMMARY"
}
bench_mailcapture() {
  measure mailcapture env BENCH_DATABASE_URL="$PG/selaras_mailcapture" "$PY" bench/mailcapture.py \
    --messages "$MESSAGES" --leads "$MAIL_LEADS" --summary "$SUMMARY"
}
bench_webhooks() {
  measure webhooks env BENCH_DATABASE_URL="$PG/selaras_webhooks" "$PY" bench/webhooks.py --events "$WEBHOOK_EVENTS" \
    --outage "$OUTAGE" --summary "$SUMMARY"
}

began=$(date +%s)
: >"$SUMMARY"
step "sizes: sweep $SWEEP_LEADS leads (small $SWEEP_SMALL), pages $PAGES_LEADS leads for $DURATION, import" \
  "$IMPORT_ROWS rows, intake ${INTAKE_SECONDS}s and a burst of $BURST, routing $ROUTED_LEADS leads, $MESSAGES" \
  "messages, $WEBHOOK_EVENTS webhook events with an outage of ${OUTAGE}s; summary lines in $SUMMARY"
start_idle=$(idle)
step "idle CPU at the start: $start_idle % ($(nproc) cores)"
printf '{"run": "start", "date": "%s", "cores": %s, "smoke": %s, "idle": %s}\n' \
  "$(date -Iseconds)" "$(nproc)" "$smoke" "$start_idle" >>"$SUMMARY"

for name in $STEPS; do
  if ! declare -F "bench_$name" >/dev/null; then
    echo "unknown step: $name" >&2
    record "$name" null 2 0
    continue
  fi
  before=${#failed[@]}
  if postgres_ready; then "bench_$name"; else false; fi
  rc=$?
  # A database that could not be made or filled: the benchmark did not run.
  if [ "$rc" != 0 ] && [ "${#failed[@]}" = "$before" ]; then record "$name" null "$rc" 0; fi
done

printf '{"run": "end", "seconds": %s}\n' $(($(date +%s) - began)) >>"$SUMMARY"
step "summary ($SUMMARY)"
"$PY" bench/summary.py "$SUMMARY"
if [ ${#failed[@]} -gt 0 ]; then
  echo "exited non-zero: ${failed[*]}" >&2
  exit 1
fi
