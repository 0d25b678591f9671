#!/usr/bin/env bash
# Us against the stack we replace, path by path: the seed's Django REST Framework backend (bench/peers/django: simplejwt,
# DRF's scoped throttling on Redis, gunicorn; no Celery worker on either side, so only the request path counts) and
# one `api` process of ours in the production shape, both on the same throwaway PostgreSQL and Redis, loaded by the same
# wrk script (bench/requests.lua: a token picked at random from each side's own seeded users, a fresh Idempotency-Key
# per POST), 32 connections, in alternating rounds (which side goes first swaps every round), medians:
#   whoami          GET /api/v1/auth/whoami with a bearer token
#   me              GET /api/v1/auth/me (reads the user)
#   throttled       anonymous whoami counted by a Redis-backed limit at a rate nothing reaches (theirs:
#                   GET /api/v1/throttled/whoami; ours: whoami with the anon scope on)
#   debit           POST /api/v1/bench/debits, one credit off a wallet (ours: the wallet benchmark's route)
#   generation      POST /api/v1/generations, a text generation for one user with a large balance (charge, row, job)
# Then our hot-wallet debit's p99 latency at 64 connections (goal < 100 ms). Without the peer (bench/peers/django
# missing, or failing to start), measures ours alone and says so.
# Ours is the product hosted with the debit route (bench/Fleet serve), JIT-compiled from the build; an `api` process
# never calls the AI provider, so the configured one is never reached.
# Usage: bench/versus-django.sh   (BENCH_SECONDS=10 per measurement, BENCH_ROUNDS=3, BENCH_USERS=1000,
#   BENCH_OURS_WARMUP_SECONDS=8 per path by default)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh
seconds=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-3}
users=${BENCH_USERS:-1000}
install_wrk
work=$(mktemp -d)
BENCH_CLEANUP+=("rm -rf $work")

build_bench_program bench/Fleet
build=$PWD/bench/Fleet/bin/Release/net10.0
start_postgres
start_redis
database="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=$PG_DATABASE;Maximum Pool Size=64"
settings=(
  "Auth:Secret=$(openssl rand -base64 48)"
  "Auth:Jwt:SigningKeys:0=$(openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null)"
  "Health:Path=/health-$(openssl rand -hex 16)"
  "Ai:Provider=OpenAI"
  "Ai:Endpoint=http://127.0.0.1:9/v1"
  "Ai:ApiKey=sk-bench"
  "Throttling:Rates:ai_generation:free=100000000/minute"
)
(cd "$build" && Database__Provider=Postgres ConnectionStrings__Postgres="$database" ./Apptork.Root migrate >/dev/null)
(cd "$build" && dotnet Fleet.dll seed "$users" "$work/ours.tokens" "$database" "127.0.0.1:$REDIS_PORT" "${settings[@]}") >"$work/seed.log" 2>&1 \
  || { cat "$work/seed.log" >&2; exit 1; }
port=$(free_port)
(cd "$build" && exec dotnet Fleet.dll serve "$port" "$database" "127.0.0.1:$REDIS_PORT" "${settings[@]}") >"$work/ours.log" 2>&1 &
BENCH_CLEANUP+=("kill $! 2>/dev/null")
declare -A url=([ours]="http://127.0.0.1:$port")
wait_for "${url[ours]}/healthz/ready" "$!" "$work/ours.log"
head -n 1 "$work/ours.tokens" >"$work/ours.one"

sides=(ours)
peer=bench/peers/django/peer.sh
if [[ -x $peer ]]; then
  # Its own folder, removed only after the stop has read its pid files there.
  export PEER_PG_PORT=$PG_PORT PEER_PG_DATABASE="${PG_DATABASE}_peer" PEER_REDIS_PORT=$REDIS_PORT PEER_PORT=$(free_port) \
    PEER_STATE_DIR=$(mktemp -d)
  BENCH_CLEANUP+=("$peer stop >/dev/null 2>&1; rm -rf $PEER_STATE_DIR")
  if "$peer" install >"$work/peer.log" 2>&1 && "$peer" start >>"$work/peer.log" 2>&1 \
    && "$peer" seed "$users" 1000000000 2>>"$work/peer.log" | cut -f2 >"$work/peer.tokens" && [[ -s $work/peer.tokens ]]; then
    url[peer]="http://127.0.0.1:$PEER_PORT"
    head -n 1 "$work/peer.tokens" >"$work/peer.one"
    sides+=(peer)
  else
    tail -n 30 "$work/peer.log" >&2
    echo "the Django peer did not start: measuring ours alone" >&2
  fi
else
  echo "no Django peer at $peer: measuring ours alone" >&2
fi

paths=(whoami me throttled debit generation)
body='{"type":"text","prompt":"Write one line about benchmarks."}'
# The wrk script's arguments for a path on a side: tokens, method, path, body.
request_of() {
  local side=$1 path=$2
  case $path in
    whoami) echo "$work/$side.tokens GET /api/v1/auth/whoami" ;;
    me) echo "$work/$side.tokens GET /api/v1/auth/me" ;;
    throttled) if [[ $side == ours ]]; then echo "- GET /api/v1/auth/whoami"; else echo "- GET /api/v1/throttled/whoami"; fi ;;
    debit) echo "$work/$side.tokens POST /api/v1/bench/debits" ;;
    generation) if [[ $side == ours ]]; then echo "$work/$side.one POST /api/v1/generations"; else echo "$work/$side.one POST /api/v1/generations/"; fi ;;
  esac
}
# Requests per second of one measurement; a side that refuses a request drops out of the comparison, ours fails the run.
measure() {
  local side=$1 path=$2 seconds=$3 result extra=()
  if [[ $path == generation ]]; then extra=("$body"); fi
  # shellcheck disable=SC2046
  if result=$(scripted_requests "$seconds" 32 "${url[$side]}" $(request_of "$side" "$path") "${extra[@]}"); then
    cut -d' ' -f1 <<<"$result"
  else
    echo "$side refused $path requests" >&2
    return 1
  fi
}

# Warm-up: JIT, pools, caches of validated tokens (each of our users' token once), gunicorn's workers. Ours longer: after
# 3 s under load its tiered JIT was still compiling 350 methods a second (dotnet-counters), so a round measured a
# process still warming up, where a deployment serves from a settled one.
declare -A warmup=([ours]=${BENCH_OURS_WARMUP_SECONDS:-8} [peer]=3)
for side in "${sides[@]}"; do
  for path in "${paths[@]}"; do
    measure "$side" "$path" "${warmup[$side]}" >/dev/null
    : >"$work/$side-$path"
  done
done
for round in $(seq 1 "$rounds"); do
  order=("${sides[@]}")
  if ((round % 2 == 0)); then order=($(printf '%s\n' "${sides[@]}" | tac)); fi
  for path in "${paths[@]}"; do
    for side in "${order[@]}"; do measure "$side" "$path" "$seconds" >>"$work/$side-$path"; done
  done
done
: >"$work/hot-p99"
for _ in $(seq 1 "$rounds"); do
  scripted_requests "$seconds" 64 "${url[ours]}" "$work/ours.one" POST /api/v1/bench/debits | cut -d' ' -f2 >>"$work/hot-p99"
done

printf '%-58s %10s %10s %8s\n' "wrk -t2 -c32, median of $rounds rounds of $seconds s, requests/s" "ours" "Django" "us/them"
declare -A rate
for path in "${paths[@]}"; do
  for side in "${sides[@]}"; do rate[$side-$path]=$(median <"$work/$side-$path"); done
  printf '%-58s %10.0f %10s %8s\n' "$path" "${rate[ours-$path]}" "${rate[peer-$path]:-—}" \
    "$([[ -n ${rate[peer-$path]:-} ]] && awk -v o="${rate[ours-$path]}" -v p="${rate[peer-$path]}" 'BEGIN { printf "%.2f×", o / p }' || echo —)"
done
printf 'ours, one hot wallet, 64 connections: debit p99 %s ms (median of %s rounds; goal < 100 ms)\n' "$(median <"$work/hot-p99")" "$rounds"
for path in "${paths[@]}"; do
  for side in "${sides[@]}"; do echo "RESULT ${side}_${path}_per_s=${rate[$side-$path]}"; done
done
echo "RESULT debit_hot_p99_ms=$(median <"$work/hot-p99")"
