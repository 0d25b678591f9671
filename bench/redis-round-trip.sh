#!/usr/bin/env bash
# The machine's limit for one Redis round trip: redis-benchmark's PING (the multi-bulk form, as a client library
# sends commands) with as many clients as the HTTP benchmarks' connections, against a throwaway Redis. bench/run
# sets it beside what counting a throttled request in Redis costs us.
# Usage: bench/redis-round-trip.sh [requests]   (default 500000; 32 clients)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh
start_redis
rate=$(redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -c 32 -n "${1:-500000}" -t ping_mbulk --csv \
  | awk -F '","' '/PING_MBULK/ { print $2 }')
printf 'redis-benchmark PING, 32 clients: %.0f round trips/s, %.1f µs of the machine each\n' "$rate" "$(awk -v r="$rate" 'BEGIN { print 1e6 / r }')"
echo "RESULT redis_ping_per_s=$rate"
