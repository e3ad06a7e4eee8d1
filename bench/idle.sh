# Sourced by bench/all.sh and bench/http.sh.
# idle [SECONDS]: the machine's idle CPU over SECONDS (default 5), in % of one core (200 = two
# idle cores), from /proc/stat. Taken before a run, it tells whether something else was using
# the machine: lower means the figures that follow are pessimistic.
idle() {
  local a b
  a=$(head -1 /proc/stat)
  sleep "${1:-5}"
  b=$(head -1 /proc/stat)
  awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN {
    split(a, x); split(b, y); total = 0
    for (i = 2; i <= 9; i++) total += y[i] - x[i]
    printf "%d", 100 * n * ((y[5] - x[5]) + (y[6] - x[6])) / total }'
}
