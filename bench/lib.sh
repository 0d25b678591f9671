# Shared by the benchmarks: throwaway servers on loopback, stopped when the calling script exits.
# shellcheck shell=bash

# Publishes the application as production does (docs/production.md): linux-x64, framework-dependent, ReadyToRun.
# Under bench/run (BENCH_PUBLISHED: the folder it published once), a hard-linked copy of that: the same binary, and
# each script's ./data its own.
publish_app() {
  if [[ -n ${BENCH_PUBLISHED:-} ]]; then
    mkdir -p "$(dirname "$1")"
    cp -al "$BENCH_PUBLISHED" "$1"
    return
  fi
  dotnet publish src/Apptork.Root -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
    --nologo -v quiet -o "$1" >/dev/null
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts a throwaway PostgreSQL (as the postgres user when run as root, data in memory); sets PG_PORT and PG_DATABASE.
# Under bench/run (BENCH_PG_PORT: the server it started once), a fresh database of the calling script's own there, so
# one script's rows never meet another's checks (the wallet reconciliation counts every wallet).
start_postgres() {
  local bin dir
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  if [[ -n ${BENCH_PG_PORT:-} ]]; then
    PG_PORT=$BENCH_PG_PORT
    PG_DATABASE="bench_$(basename "$0" .sh | tr -c 'a-z0-9\n' _)_$(openssl rand -hex 4)"
    "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -q -c "CREATE DATABASE $PG_DATABASE"
    return
  fi
  PG_DATABASE=postgres
  dir=$(mktemp -d -p /dev/shm apptork-bench-pg.XXXXXX)
  PG_PORT=$(free_port)
  local as=()
  if [[ $EUID -eq 0 ]]; then chown postgres "$dir"; as=(runuser -u postgres --); fi
  "${as[@]}" "$bin/initdb" --auth=trust --no-sync -U postgres -E UTF8 --locale=C.UTF-8 -D "$dir/data" >/dev/null
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-h 127.0.0.1 -p $PG_PORT -k $dir -F -c fsync=off -c synchronous_commit=off -c max_connections=200" start >/dev/null
  BENCH_CLEANUP+=("${as[*]} $bin/pg_ctl -D $dir/data -m immediate stop >/dev/null; rm -rf $dir")
}

# Starts a throwaway Redis (no persistence) on loopback; sets REDIS_PORT.
# Under bench/run (BENCH_REDIS_PORT), the Redis it started once.
start_redis() {
  local dir
  if [[ -n ${BENCH_REDIS_PORT:-} ]]; then
    REDIS_PORT=$BENCH_REDIS_PORT
    return
  fi
  command -v redis-server >/dev/null || install_packages redis-server
  dir=$(mktemp -d)
  REDIS_PORT=$(free_port)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" >"$dir/log" 2>&1 &
  BENCH_CLEANUP+=("kill $! 2>/dev/null; rm -rf $dir")
  until redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; do sleep 0.05; done
}

# Starts the SMTP test peer; sets SMTP_PORT and SMTP_LOG (one SMTP_MESSAGE line per mail).
start_smtp() {
  SMTP_LOG=$(mktemp)
  node tests/peers/smtp.mjs --port 0 >"$SMTP_LOG" 2>&1 </dev/null &
  BENCH_CLEANUP+=("kill $! 2>/dev/null; rm -f $SMTP_LOG")
  until grep -q '^SMTP_READY' "$SMTP_LOG"; do sleep 0.05; done
  SMTP_PORT=$(sed -n 's/^SMTP_READY //p' "$SMTP_LOG")
}

# Waits until an HTTP URL answers 200.
# Waits until a URL answers; with a process id and its log, fails showing the log when the process ends first.
wait_for() {
  until curl -sf -o /dev/null "$1"; do
    if [[ -n ${2:-} ]] && ! kill -0 "$2" 2>/dev/null; then cat "${3:-/dev/null}" >&2; exit 1; fi
    sleep 0.05
  done
}

# wrk's requests per second for one URL, extra arguments passed to wrk (e.g. -H "Authorization: ...").
requests_per_second() {
  local url=$1; shift
  wrk -t2 -c32 -d"${BENCH_SECONDS:-10}"s "$@" "$url" | awk '/Requests\/sec/ {print $2}'
}

BENCH_CLEANUP=()
bench_cleanup() {
  local step
  for step in "${BENCH_CLEANUP[@]}"; do eval "$step" || true; done
}
trap bench_cleanup EXIT

install_packages() {
  local as=()
  if [[ $EUID -ne 0 ]]; then as=(sudo); fi
  "${as[@]}" apt-get update >/dev/null
  "${as[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null
}

install_wrk() { command -v wrk >/dev/null || install_packages wrk; }

# The published app in the production shape on a throwaway PostgreSQL, mail to the SMTP peer, limits high enough never
# to refuse the load (these benchmarks measure other things than throttling), started and ready. Sets APP (the binary),
# base (its URL) and app_pid. Environment the caller exported first (e.g. ConnectionStrings__Redis) applies too.
start_production_app() {
  local work=$1 port
  publish_app "$work/app"
  start_postgres
  start_smtp
  port=$(free_port)
  APP="$work/app/Apptork.Root"
  base="http://127.0.0.1:$port"
  export Database__Provider=Postgres
  export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=$PG_DATABASE;Maximum Pool Size=64"
  export Auth__Secret=$(openssl rand -base64 48)
  export Auth__Jwt__SigningKeys__0="$(openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null)"
  export Email__Provider=Smtp Email__Smtp__Host=127.0.0.1 Email__Smtp__Port="$SMTP_PORT" Email__Smtp__UseTls=false
  # The production shape requires a storage choice; one host.
  export Storage__Provider=Local
  export Throttling__Rates__anon__anonymous=100000000/minute Throttling__Rates__user__free=100000000/minute Throttling__Rates__user__staff=100000000/minute
  export Logging__LogLevel__Default=Warning
  export Http__PublicBaseUrl="$base"
  export Health__Path="/health-$(openssl rand -hex 16)"
  "$APP" migrate >/dev/null
  "$APP" --Urls "$base" >"$work/app.log" 2>&1 &
  app_pid=$!
  BENCH_CLEANUP+=("kill $app_pid 2>/dev/null")
  wait_for "$base/healthz/ready" "$app_pid" "$work/app.log"
}

# Signs in to the app started by start_production_app by email code, reading the code from the SMTP peer; prints the access token.
sign_in() {
  local otp_token code before
  before=$(grep -c "SMTP_MESSAGE.*$1" "$SMTP_LOG" || true)
  otp_token=$(curl -sf -H 'Content-Type: application/json' -d "{\"email\":\"$1\"}" "$base/api/v1/auth/otp/request" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["otp_token"])')
  until (( $(grep -c "SMTP_MESSAGE.*$1" "$SMTP_LOG" || true) > before )); do sleep 0.05; done
  code=$(grep 'SMTP_MESSAGE' "$SMTP_LOG" | grep "$1" | tail -n 1 | grep -oE '\b[0-9]{6}\b' | head -n 1)
  curl -sf -H 'Content-Type: application/json' -d "{\"otp_token\":\"$otp_token\",\"code\":\"$code\"}" "$base/api/v1/auth/otp/verify" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# The median of the numbers on standard input, one a line.
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# Publishes the bare ASP.NET Core app (bench/BareAspNet), the HTTP baseline, the way the application is published;
# under bench/run (BENCH_PUBLISHED_BARE), a hard-linked copy of the one it published.
publish_bare_app() {
  if [[ -n ${BENCH_PUBLISHED_BARE:-} ]]; then
    mkdir -p "$(dirname "$1")"
    cp -al "$BENCH_PUBLISHED_BARE" "$1"
    return
  fi
  dotnet publish bench/BareAspNet -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true --nologo -v quiet -o "$1" >/dev/null
}

# One wrk measurement driven by bench/requests.lua: prints "<requests/s> <p99 ms>". Arguments: seconds, connections, the
# base URL, then the script's own (tokens file or -, method, path, JSON body). Fails on any answer that is not a 2xx:
# a refused request is cheaper than a served one and would flatter whoever refused it.
scripted_requests() {
  local seconds=$1 connections=$2 url=$3 report
  shift 3
  report=$(wrk -t2 -c"$connections" -d"$seconds"s --latency -s "$BENCH_DIR/requests.lua" "$url" -- "$@")
  if grep -q 'Non-2xx' <<<"$report"; then
    echo "$report" >&2
    return 1
  fi
  awk '/Requests\/sec/ { rate = $2 }
       $1 == "99%" { p = $2; unit = p; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", p)
                     p99 = unit == "us" ? p / 1000 : unit == "s" ? p * 1000 : unit == "m" ? p * 60000 : p }
       END { printf "%s %.2f\n", rate, p99 }' <<<"$report"
}

# Builds a benchmark's own program (a project under bench/) in Release; under bench/run, which built them all first
# (BENCH_BUILT), nothing.
build_bench_program() {
  [[ -n ${BENCH_BUILT:-} ]] || dotnet build "$1" -c Release --nologo -v quiet >/dev/null
}

# Runs bench/Generations (its arguments after the connection string) on a throwaway, migrated PostgreSQL and a Redis,
# from its build output, where WebApplicationFactory finds the product's content root.
run_generations_program() {
  build_bench_program bench/Generations
  start_postgres
  start_redis
  export BENCH_REDIS="127.0.0.1:$REDIS_PORT"
  local connection="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=$PG_DATABASE;Maximum Pool Size=64"
  cd bench/Generations/bin/Release/net10.0
  Database__Provider=Postgres ConnectionStrings__Postgres="$connection" ./Apptork.Root migrate >/dev/null
  dotnet Generations.dll "$connection" "$@"
}

# Where the benchmarks live, for the scripts that change directory.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
