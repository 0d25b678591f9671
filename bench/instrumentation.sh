#!/usr/bin/env bash
# What instrumentation costs a request: OpenTelemetry (every span sampled, traces and metrics exported over OTLP/HTTP)
# and Sentry on, against both off, in two production-shape processes of the same build on one PostgreSQL, loaded in
# alternating rounds (one process under load at a time). Requests: GET /api/v1/auth/whoami with a bearer token (no
# database) and GET /api/v1/auth/me (reads the user). Both exporters send to a local sink that answers 200 at once, so
# the figure is the process's own cost, not a collector's.
# Goal: >= 0.9 of the uninstrumented rate for each request.
# Usage: bench/instrumentation.sh   (BENCH_SECONDS=10 per measurement, BENCH_ROUNDS=3 alternating rounds by default)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh
install_wrk
work=$(mktemp -d)
BENCH_CLEANUP+=("rm -rf $work")

# The sink: OTLP's /v1/traces and /v1/metrics, Sentry's /api/1/envelope/, or anything else, answered 200 with no body.
sink_port=$(free_port)
python3 - "$sink_port" >"$work/sink.log" 2>&1 <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
PY
BENCH_CLEANUP+=("kill $! 2>/dev/null")

# Uninstrumented: the shared setup, with no OTEL_* endpoint and no Sentry DSN.
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT OTEL_EXPORTER_OTLP_METRICS_ENDPOINT Sentry__Dsn
start_production_app "$work"
off=$base

# Instrumented: the same binary and database, with both exporters pointed at the sink.
on="http://127.0.0.1:$(free_port)"
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port" OTEL_SERVICE_NAME=apptork-bench \
  Sentry__Dsn="http://public@127.0.0.1:$sink_port/1" \
  "$APP" --Urls "$on" >"$work/app-on.log" 2>&1 &
on_pid=$!
BENCH_CLEANUP+=("kill $on_pid 2>/dev/null")
wait_for "$on/healthz/ready" "$on_pid" "$work/app-on.log"

access=$(sign_in bench@example.com)
auth=(-H "Authorization: Bearer $access")
for url in "$off" "$on"; do
  curl -sf -o /dev/null "${auth[@]}" "$url/api/v1/auth/me"
  requests_per_second "$url/api/v1/auth/me" "${auth[@]}" >/dev/null   # warm-up: JIT and connection pools
done

# Alternating rounds, medians: the machine's drift moves both alike.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for path in whoami me; do : >"$work/$path-off"; : >"$work/$path-on"; done
for _ in $(seq 1 "${BENCH_ROUNDS:-3}"); do
  for path in whoami me; do
    requests_per_second "$off/api/v1/auth/$path" "${auth[@]}" >>"$work/$path-off"
    requests_per_second "$on/api/v1/auth/$path" "${auth[@]}" >>"$work/$path-on"
  done
done

printf '%-58s %12s %12s %7s\n' "request (wrk -t2 -c32, median of ${BENCH_ROUNDS:-3} rounds of ${BENCH_SECONDS:-10} s)" "off req/s" "on req/s" "ratio"
for path in whoami me; do
  off_rate=$(median <"$work/$path-off")
  on_rate=$(median <"$work/$path-on")
  awk -v p="GET /api/v1/auth/$path" -v f="$off_rate" -v n="$on_rate" 'BEGIN { printf "%-58s %12s %12s %7.2f\n", p, f, n, n/f }'
done
echo "goal: ratio >= 0.9 for each (instrumented: OpenTelemetry traces and metrics to OTLP, Sentry, every span sampled)"
