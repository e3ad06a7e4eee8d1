#!/usr/bin/env bash
# Pages and API under load (SPEC §10): 100,000 leads, 50 rows a page, signed-in users,
# 8 concurrent connections for 60 s per endpoint, the app, PostgreSQL and the load
# generator (wrk) on the same machine.
#
#   bench/http.sh                      # the full run: about 8 minutes once the data exists
#   BENCH_DURATION=5s bench/http.sh    # a smoke run
#
# 1. Creates the PostgreSQL database selaras_http if needed and, unless it already holds
#    BENCH_LEADS leads, fills it with bench/generate.py (about a minute) and runs the
#    full sweep once so that breaches exist (the dashboard shows them).
# 2. Collects static files into a temporary directory and starts gunicorn with the
#    production settings (DEBUG off, whitenoise) through bench/settings.py, which adds
#    the floor pages of bench/urls.py to the product's URLs.
# 3. Signs in 50 reps and their managers (bench/http_sessions.py) and runs wrk
#    (bench/http.lua: a random user and a random page per request) on each endpoint:
#    the lead list as managers, the rep's queue as reps, the dashboard as both, the
#    leads API with the managers' tokens, then the floor pages: a plain 50-row template
#    list, the same list with the product's deferred join, the same again in Jinja2, the same
#    rows as bare JSON (no serializer) and a bare HttpResponse, as managers.
# 4. Prints a table: requests/s, latency p50/p95/p99, socket errors and non-2xx answers, and
#    the machine's idle CPU in the 3 s before each run (200 % = both cores idle): lower
#    means something else was running and the figures are pessimistic.
#
# Settings (environment): BENCH_DURATION (60s), BENCH_CONNECTIONS (8), BENCH_LEADS (100000),
# BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/selaras_http), BENCH_REFILL=1 to
# regenerate the data, GUNICORN_WORKERS (2) and GUNICORN_THREADS (4), BENCH_ONLY to run some
# endpoints only (e.g. "list api"), BENCH_SUMMARY=PATH to append the SPEC §10 lines (the lead
# list, the queue and the leads API against the plain list) to PATH (bench/summary.py).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=$ROOT/.venv/bin/python
DURATION=${BENCH_DURATION:-60s}
CONNECTIONS=${BENCH_CONNECTIONS:-8}
LEADS=${BENCH_LEADS:-100000}
DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/selaras_http}
WORKERS=${GUNICORN_WORKERS:-2}
THREADS=${GUNICORN_THREADS:-4}
ONLY=${BENCH_ONLY:-list queue dashboard api floor deferred jinja json hello}
unset REDIS_URL CELERY_BROKER_URL
export DATABASE_URL

step() { printf '\n==> %s\n' "$*" >&2; }

# shellcheck source=bench/idle.sh
. "$ROOT/bench/idle.sh"

step "wrk (Debian package)"
if ! command -v wrk >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

step "database ${DATABASE_URL##*/}"
name=${DATABASE_URL##*/}
admin=${DATABASE_URL%/*}/postgres
if [ -z "$(psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]; then
  psql "$admin" -qc "CREATE DATABASE \"$name\""
fi
"$PY" manage.py migrate --noinput -v0
have=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM leads_lead")
if [ "$have" != "$LEADS" ] || [ -n "${BENCH_REFILL:-}" ]; then
  "$PY" bench/generate.py --leads "$LEADS" --reset
  "$PY" manage.py evaluate_slas --full
else
  echo "$have leads already there (BENCH_REFILL=1 to regenerate)" >&2
fi

work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Production settings: only what an HTTPS proxy would otherwise provide is relaxed (plain
# HTTP on 127.0.0.1), and login throttling, which plays no part in signed-in requests.
export DJANGO_SETTINGS_MODULE=bench.settings DEBUG=false ALLOWED_HOSTS=127.0.0.1 \
  SECRET_KEY="bench-$(head -c 48 /dev/urandom | base64 | tr -d '/+=')" \
  SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false AXES_ENABLED=false \
  STATIC_ROOT="$work/static" LOG_LEVEL=WARNING

step "collectstatic, sessions"
"$PY" manage.py collectstatic --noinput -v0
"$PY" bench/http_sessions.py "$work/sessions"

step "gunicorn: $WORKERS workers × $THREADS threads"
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$ROOT/.venv/bin/gunicorn" salesmarketing.wsgi --bind "127.0.0.1:$port" --workers "$WORKERS" --threads "$THREADS" \
  --log-level warning &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health/" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$port/health/" >/dev/null || { echo "gunicorn did not start" >&2; exit 1; }

# name, sessions file, path ("%d": a random page of that user's list)
cases=(
  "list managers /leads/?page=%d"
  "queue reps /leads/queue/?page=%d"
  "dashboard mixed /"
  "api tokens /api/v1/leads/?page=%d"
  "floor managers /bench/floor/?page=%d"
  "deferred managers /bench/deferred/?page=%d"
  "jinja managers /bench/jinja/?page=%d"
  "json managers /bench/json/?page=%d"
  "hello managers /bench/hello/"
)
wrk_threads=$((CONNECTIONS < 2 ? CONNECTIONS : 2))
results=()
for case in "${cases[@]}"; do
  read -r label sessions path <<<"$case"
  [[ " $ONLY " == *" $label "* ]] || continue
  # Warm-up, not counted: every worker thread opens its connection and compiles its templates.
  wrk -t"$wrk_threads" -c"$CONNECTIONS" -d3s -s bench/http.lua "http://127.0.0.1:$port" \
    -- "$work/sessions/$sessions.txt" "$path" "$label" >/dev/null
  free=$(idle 3)
  step "$label: $path as $sessions, $CONNECTIONS connections, $DURATION (idle before: $free%)"
  out=$(wrk -t"$wrk_threads" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency -s bench/http.lua \
    "http://127.0.0.1:$port" -- "$work/sessions/$sessions.txt" "$path" "$label")
  echo "$out" >&2
  results+=("$(grep '^RESULT ' <<<"$out") $free")
done

printf '\n%-10s %10s %9s %9s %9s %9s %7s %8s %7s\n' endpoint "req/s" "p50 ms" "p95 ms" "p99 ms" requests errors non-2xx "idle %"
for line in "${results[@]}"; do
  # shellcheck disable=SC2086
  printf '%-10s %10s %9s %9s %9s %9s %7s %8s %7s\n' ${line#RESULT }
done
leads=$(psql "$DATABASE_URL" -tAc 'SELECT count(*) FROM leads_lead')
echo "(${DURATION} per endpoint, ${CONNECTIONS} connections, gunicorn ${WORKERS}×${THREADS}, $(nproc) cores," \
  "$leads leads)"
if [ -n "${BENCH_SUMMARY:-}" ]; then
  printf '%s\n' "${results[@]}" | "$PY" bench/http_summary.py "$BENCH_SUMMARY" "$leads" "$DURATION" "$CONNECTIONS"
fi
