#!/usr/bin/env bash
# Cost of a Redis-backed rate limit on one cheap endpoint: the published binary (embedded shape, with
# ConnectionStrings__Redis set to a throwaway Redis) serves GET /api/v1/auth/whoami (anonymous: no database, no token)
# in two processes side by side: one with the anon scope switched off by setting (Throttling__Rates__anon__anonymous=
# unlimited: no Redis call, no RateLimit headers) and one with it on at a rate nothing reaches (every request counted
# against the shared total in Redis and answered with its RateLimit headers). Same binary, same endpoint, same tool;
# only the setting differs. Both run for the whole benchmark, so each round loads one and then the other under the same
# load on a shared machine, the order alternating from round to round. Prints each round's req/s and ratio, the medians,
# the worst round, and RESULT lines for bench/run.
# Usage: bench/throttling.sh [rounds] [seconds per measurement]   (or BENCH_ROUNDS, BENCH_SECONDS; defaults 5 and 10)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds="${1:-${BENCH_ROUNDS:-5}}"
seconds="${2:-${BENCH_SECONDS:-10}}"
connections=32
path=/api/v1/auth/whoami

source bench/lib.sh
install_wrk
start_redis

work="$(mktemp -d)"
pids=()
BENCH_CLEANUP+=('kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null; rm -rf "$work"')

publish_app "$work/app"

declare -A url
# Starts one variant from its own copy of the published folder (appsettings.json applies; its own ./data), with the anon
# scope at the given rate; sets url[variant].
start_variant() {
  local variant=$1 rate=$2 port
  cp -r "$work/app" "$work/$variant"
  port=$(free_port)
  url[$variant]="http://127.0.0.1:$port"
  (cd "$work/$variant" && exec env \
    ConnectionStrings__Redis="127.0.0.1:$REDIS_PORT" \
    Redis__KeyPrefix="bench-$variant-$RANDOM$RANDOM:" \
    Throttling__Rates__anon__anonymous="$rate" \
    ./Apptork.Root --Urls "${url[$variant]}" >"$work/$variant.log" 2>&1) &
  pids+=($!)
  wait_for "${url[$variant]}/healthz/ready" "${pids[-1]}" "$work/$variant.log"
}

# Prints req/s of one measurement; fails when any response was not a 2xx (a refused request would flatter the limiter).
measure() {
  local output
  output=$(wrk -t2 -c"$connections" -d"${seconds}s" "${url[$1]}$path")
  if grep -q 'Non-2xx' <<<"$output"; then
    echo "$output" >&2
    echo "some responses were not 2xx: the rate must let everything through" >&2
    exit 1
  fi
  awk '/Requests\/sec/ {print $2}' <<<"$output"
}

start_variant off unlimited
start_variant on 999999999/minute
curl -sf -D - -o /dev/null "${url[on]}$path" | grep -qi '^RateLimit:' || { echo "the limited process sends no RateLimit header" >&2; exit 1; }
if curl -sf -D - -o /dev/null "${url[off]}$path" | grep -qi '^RateLimit:'; then echo "the unlimited process sends RateLimit headers" >&2; exit 1; fi
# As long as a measurement, so tiered compilation has settled on its optimized code in both before anything counts.
for variant in off on; do measure "$variant" >/dev/null; done

declare -A rate
off=()
on=()
ratios=()
for round in $(seq 1 "$rounds"); do
  order="off on"
  if (( round % 2 == 0 )); then order="on off"; fi
  for variant in $order; do rate[$variant]=$(measure "$variant"); done
  off+=("${rate[off]}")
  on+=("${rate[on]}")
  ratios+=("$(awk -v on="${rate[on]}" -v off="${rate[off]}" 'BEGIN { printf "%.3f", on / off }')")
  echo "round $round ($order): off ${rate[off]} req/s, on ${rate[on]} req/s, ratio ${ratios[-1]}" >&2
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {v = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; print v}'; }
off_median=$(median "${off[@]}")
on_median=$(median "${on[@]}")
ratio_median=$(median "${ratios[@]}")
ratio_min=$(printf '%s\n' "${ratios[@]}" | sort -g | head -n 1)
printf '%-64s %10s\n' "GET $path, $connections connections, median of $rounds x ${seconds}s" "req/s"
printf '%-64s %10.0f\n' "anon limit off (Throttling__Rates__anon__anonymous=unlimited)" "$off_median"
printf '%-64s %10.0f\n' "anon limit on, counted in Redis" "$on_median"
printf 'ratio on/off: median of the rounds %.2f, worst round %.2f (goal >= 0.85 in every round)\n' "$ratio_median" "$ratio_min"
printf 'RESULT throttled_per_s=%.0f\n' "$on_median"
printf 'RESULT unthrottled_per_s=%.0f\n' "$off_median"
printf 'RESULT throttle_ratio_median=%.3f\n' "$ratio_median"
printf 'RESULT throttle_ratio_min=%.3f\n' "$ratio_min"
