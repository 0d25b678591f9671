#!/usr/bin/env bash
# Cost of a Redis-backed rate limit on one cheap endpoint: the published binary (embedded shape, with
# ConnectionStrings__Redis set to a throwaway Redis) is loaded with wrk on GET /api/v1/auth/whoami (anonymous:
# no database, no token) twice per round, back to back: once with the anon scope switched off by setting
# (Throttling__Rates__anon__anonymous=unlimited: no Redis call) and once with it on at a rate nothing reaches
# (every request runs the Lua script in Redis and gets its RateLimit headers). Same binary, same endpoint, same
# tool; only the setting differs. Prints both req/s (median of the rounds: a shared 2-core machine is noisy, and
# wrk, Redis and the app share it) and their ratio.
# Usage: bench/throttling.sh [rounds] [seconds per measurement]   (defaults 5 and 10)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds="${1:-5}"
seconds="${2:-10}"
connections=32
path=/api/v1/auth/whoami

source bench/lib.sh
install_wrk
start_redis

work="$(mktemp -d)"
app_pid=""
stop() {
  local pid="$1"
  [[ -n $pid ]] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
BENCH_CLEANUP+=('stop "$app_pid"' "rm -rf $work")

publish_app "$work/app"

# Starts the app with the anon scope at the given rate, waits for it, warms it up; sets app_pid and app_url.
start_app() {
  local rate="$1" port
  port=$(free_port)
  app_url="http://127.0.0.1:$port"
  # From its own folder, as deployed: appsettings.json applies, ./data is created there.
  (cd "$work/app" && exec env \
    ConnectionStrings__Redis="127.0.0.1:$REDIS_PORT" \
    Redis__KeyPrefix="bench-$RANDOM$RANDOM:" \
    Throttling__Rates__anon__anonymous="$rate" \
    ./Apptork.Root --Urls "$app_url" >"$work/app.log" 2>&1) &
  app_pid=$!
  until curl -sf -o /dev/null "$app_url/healthz/ready"; do
    kill -0 "$app_pid" 2>/dev/null || { cat "$work/app.log" >&2; exit 1; }
    sleep 0.05
  done
  # Long enough for tiered compilation to settle on its optimized code.
  wrk -t2 -c"$connections" -d5s "$app_url$path" >/dev/null
}

# Prints req/s of one measurement; fails when any response was not a 2xx (a refused request would flatter the limiter).
measure() {
  local output
  output=$(wrk -t2 -c"$connections" -d"${seconds}s" "$app_url$path")
  if grep -q 'Non-2xx' <<<"$output"; then
    echo "$output" >&2
    echo "some responses were not 2xx: the rate must let everything through" >&2
    exit 1
  fi
  awk '/Requests\/sec/ {print $2}' <<<"$output"
}

off=()
on=()
for round in $(seq 1 "$rounds"); do
  start_app unlimited
  off+=("$(measure)")
  stop "$app_pid"; app_pid=""

  start_app 999999999/minute
  curl -sf -D - -o /dev/null "$app_url$path" | grep -qi '^RateLimit:' || { echo "the limited run sends no RateLimit header" >&2; exit 1; }
  on+=("$(measure)")
  stop "$app_pid"; app_pid=""
  echo "round $round: off ${off[-1]} req/s, on ${on[-1]} req/s" >&2
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {printf "%.0f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
off_median=$(median "${off[@]}")
on_median=$(median "${on[@]}")
printf '%-64s %10s\n' "GET $path, $connections connections, median of $rounds x ${seconds}s" "req/s"
printf '%-64s %10s\n' "anon limit off (Throttling__Rates__anon__anonymous=unlimited)" "$off_median"
printf '%-64s %10s\n' "anon limit on, counted in Redis" "$on_median"
awk -v on="$on_median" -v off="$off_median" 'BEGIN { printf "ratio on/off: %.2f (goal >= 0.85)\n", on / off }'
ratios=()
for index in "${!on[@]}"; do ratios+=("$(awk -v on="${on[index]}" -v off="${off[index]}" 'BEGIN { printf "%.3f", on / off }')"); done
echo "RESULT unthrottled_per_s=$off_median"
echo "RESULT throttled_per_s=$on_median"
printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR] = $1} END {
  print "RESULT throttle_ratio_min=" a[1]; print "RESULT throttle_ratio_median=" (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'
