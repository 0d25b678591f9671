#!/usr/bin/env bash
# What instrumentation costs a request: OpenTelemetry (every span sampled, traces and metrics exported over OTLP/HTTP)
# and Sentry on, against both off, in two production-shape processes of the same build on one PostgreSQL, loaded in
# alternating rounds (one process under load at a time). Requests: GET /api/v1/auth/whoami with a bearer token (no
# database) and GET /api/v1/auth/me (reads the user). Both exporters send to a local sink that answers 200 at once, so
# the figure is the process's own cost, not a collector's.
# Goal: >= 0.9 of the uninstrumented rate for each request.
# Usage: bench/instrumentation.sh   (BENCH_SECONDS=10 per measurement, BENCH_ROUNDS=3 alternating rounds by default;
#   BENCH_INSTRUMENTATION=otel or sentry turns on one of the two, to see which costs what; OTEL_TRACES_SAMPLER_ARG=0.1
#   keeps a tenth of the traces, as a busy deployment would)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh
install_wrk
work=$(mktemp -d)
BENCH_CLEANUP+=("rm -rf $work")

# The sink: nginx answering 200 to anything (OTLP's /v1/traces and /v1/metrics, Sentry's /api/1/envelope/), so that
# receiving costs the machine as little as a real collector elsewhere would.
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || install_packages nginx
sink_port=$(free_port)
mkdir -p "$work/sink"
cat >"$work/sink/nginx.conf" <<CONF
daemon off;
master_process off;
pid $work/sink/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $work/sink/body;
  proxy_temp_path $work/sink/proxy;
  fastcgi_temp_path $work/sink/fastcgi;
  uwsgi_temp_path $work/sink/uwsgi;
  scgi_temp_path $work/sink/scgi;
  server {
    listen 127.0.0.1:$sink_port;
    client_max_body_size 64m;
    location / { return 200; }
  }
}
CONF
"$(command -v nginx || echo /usr/sbin/nginx)" -p "$work/sink" -c "$work/sink/nginx.conf" -e stderr >"$work/sink.log" 2>&1 &
BENCH_CLEANUP+=("kill $! 2>/dev/null")
until curl -s -o /dev/null -X POST "http://127.0.0.1:$sink_port/v1/traces"; do sleep 0.05; done

# Uninstrumented: the shared setup, with no OTEL_* endpoint and no Sentry DSN.
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT OTEL_EXPORTER_OTLP_METRICS_ENDPOINT Sentry__Dsn
start_production_app "$work"
off=$base

# Instrumented: the same binary and database, with the exporters pointed at the sink.
instrumentation=${BENCH_INSTRUMENTATION:-both}
instrumented=()
case $instrumentation in
  both | otel) instrumented+=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port" OTEL_SERVICE_NAME=apptork-bench) ;;&
  both | sentry) instrumented+=(Sentry__Dsn="http://public@127.0.0.1:$sink_port/1") ;;
  otel) ;;
  *) echo "BENCH_INSTRUMENTATION is both, otel or sentry" >&2; exit 64 ;;
esac
on="http://127.0.0.1:$(free_port)"
env "${instrumented[@]}" "$APP" --Urls "$on" >"$work/app-on.log" 2>&1 &
on_pid=$!
BENCH_CLEANUP+=("kill $on_pid 2>/dev/null")
wait_for "$on/healthz/ready" "$on_pid" "$work/app-on.log"

access=$(sign_in bench@example.com)
auth=(-H "Authorization: Bearer $access")
for url in "$off" "$on"; do
  for path in whoami me; do
    requests_per_second "$url/api/v1/auth/$path" "${auth[@]}" >/dev/null   # warm-up: JIT and connection pools
  done
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
echo "goal: ratio >= 0.9 for each (instrumented: $instrumentation; OpenTelemetry exports traces and metrics over OTLP, sampling ${OTEL_TRACES_SAMPLER_ARG:-1})"
