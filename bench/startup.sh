#!/usr/bin/env bash
# Start-up cost of the published binary in its embedded shape, against a bare ASP.NET Core app measured in the
# same run: milliseconds from exec to the first 200 on /healthz/ready (cold: a fresh ./data, so the SQLite file
# is created and migrated; warm: the same ./data again), and resident memory after 200 requests.
# Usage: bench/startup.sh [runs]   (default BENCH_RUNS, else 5)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs="${1:-${BENCH_RUNS:-5}}"
source bench/lib.sh
work="$(mktemp -d)"
BENCH_CLEANUP+=("pkill -P $$ 2>/dev/null; rm -rf $work")

# Both published the way production is (docs/production.md): for linux-x64, framework-dependent, ReadyToRun.
publish_app "$work/root"
publish_bare_app "$work/bare"

port=18765
now_ms() { date +%s%3N; }

# Prints "<ms to first 200> <rss KiB after 200 requests>" for one start of a binary in a given working directory.
measure() {
  local binary="$1" directory="$2"
  mkdir -p "$directory"
  local started pid elapsed rss
  started=$(now_ms)
  (cd "$directory" && exec "$binary" --Urls "http://127.0.0.1:$port" >"$directory/log" 2>&1) &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/healthz/ready"; do
    kill -0 "$pid" 2>/dev/null || { cat "$directory/log" >&2; exit 1; }
    sleep 0.01
  done
  elapsed=$(( $(now_ms) - started ))
  for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz/ready"; done
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$elapsed $rss"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

declare -A first rss
for kind in bare cold warm; do
  : >"$work/$kind.txt"
done
for run in $(seq 1 "$runs"); do
  measure "$work/bare/BareAspNet" "$work/run-bare-$run" >>"$work/bare.txt"
  measure "$work/root/Apptork.Root" "$work/run-root-$run" >>"$work/cold.txt"
  measure "$work/root/Apptork.Root" "$work/run-root-$run" >>"$work/warm.txt"
done
for kind in bare cold warm; do
  first[$kind]=$(cut -d' ' -f1 "$work/$kind.txt" | median)
  rss[$kind]=$(cut -d' ' -f2 "$work/$kind.txt" | median)
done

printf '%-34s %12s %12s\n' "median of $runs starts" "first 200" "RSS"
printf '%-34s %10s ms %9s MiB\n' "bare ASP.NET Core (baseline)" "${first[bare]}" "$(( rss[bare] / 1024 ))"
printf '%-34s %10s ms %9s MiB\n' "Apptork Root, cold (new ./data)" "${first[cold]}" "$(( rss[cold] / 1024 ))"
printf '%-34s %10s ms %9s MiB\n' "Apptork Root, warm" "${first[warm]}" "$(( rss[warm] / 1024 ))"
awk -v b="${first[bare]}" -v c="${first[cold]}" -v w="${first[warm]}" -v rb="${rss[bare]}" -v rw="${rss[warm]}" \
  'BEGIN { printf "ratios vs baseline: first 200 cold %.2fx, warm %.2fx; RSS warm %.2fx\n", c/b, w/b, rw/rb }'
echo "RESULT startup_first_200_ms=${first[warm]}"
echo "RESULT startup_cold_first_200_ms=${first[cold]}"
awk -v kib="${rss[warm]}" 'BEGIN { printf "RESULT idle_rss_mib=%.1f\n", kib / 1024 }'
echo "RESULT bare_startup_first_200_ms=${first[bare]}"
awk -v kib="${rss[bare]}" 'BEGIN { printf "RESULT bare_idle_rss_mib=%.1f\n", kib / 1024 }'
