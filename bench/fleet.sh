#!/usr/bin/env bash
# What running the API as several processes behind a proxy costs. Sign-ins (email code: POST /auth/otp/request, the
# code read from the mail, which the load program receives itself, POST /auth/otp/verify) and wallet debits (the wallet benchmark's route:
# bearer token, throttling and Idempotency-Key in Redis, Ledger.PostAsync) per second in three configurations on one
# throwaway PostgreSQL and Redis: one `api` process loaded directly, the same process behind nginx, and three `api`
# processes behind nginx (round-robin, keepalive connections to the upstreams). Rounds alternate the order of the
# configurations; prints medians, the ratios (3 behind nginx / 1 direct; 1 behind nginx / 1 direct, nginx's own cost;
# 3 / 1 behind nginx, the processes' cost) and each configuration's PostgreSQL connections at peak, by application_name
# (pg_stat_activity sampled every half second, counting only the connections of the configuration's processes).
#
# On two shared cores this measures the overhead of running several processes (three of everything: connection pools,
# caches, JIT, GC heaps; the proxy's hop), not capacity: three processes get no more CPU than one, and the load client,
# nginx, PostgreSQL and Redis share the same cores. Capacity grows with processes only on machines with cores to spare.
#
# The processes are the product in its production shape, configured by settings only (role `api`, PostgreSQL, Redis,
# SMTP), hosted with the debit route of bench/wallet-debits.sh, since the product has no debit endpoint of its own;
# they run JIT-compiled from the build (ReadyToRun changes start-up, not the steady state measured here). So that the
# load is never refused, settings raise sign-in's limits for the benchmark: the code resend window (0 s), the `otp`
# scope's rates per client and per address (unlimited) and the accounts one IP may open (1,000,000), on top of the
# `anon` and `user` rates every benchmark raises. Each of the 32 sign-in clients signs in again and again as a returning
# user of its own; debits are spread over BENCH_WALLETS wallets. The run ends with the product's `reconcile` command
# (exit 1 on any drift) and fails on any refused request.
# Usage: bench/fleet.sh   (BENCH_SECONDS=8 per measurement, BENCH_ROUNDS=3, BENCH_WALLETS=2000 by default)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh
seconds=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-3}
wallets=${BENCH_WALLETS:-2000}
clients=32
install_wrk
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || install_packages nginx
work=$(mktemp -d)
BENCH_CLEANUP+=("rm -rf $work")

build_bench_program bench/Fleet
# From the build output, where WebApplicationFactory finds its manifest (the product's content root, src/Apptork.Root).
build=$PWD/bench/Fleet/bin/Release/net10.0
start_postgres
start_redis
# The mail server the processes send codes to: the sign-in load program listens there while it runs (bench/Fleet/MailSink.cs).
smtp_port=$(free_port)
database="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=$PG_DATABASE;Maximum Pool Size=64"
redis="127.0.0.1:$REDIS_PORT"
# One deployment's settings, the same in every process: its secrets and keys, its mail server, the raised limits.
settings=(
  "Auth:Secret=$(openssl rand -base64 48)"
  "Auth:Jwt:SigningKeys:0=$(openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null)"
  "Health:Path=/health-$(openssl rand -hex 16)"
  "Email:Smtp:Port=$smtp_port"
  "Auth:Otp:ResendAfterSeconds=0"
  "Throttling:Rates:otp:anonymous=unlimited"
  "Throttling:Rates:otp:email_client=unlimited"
  "Throttling:Rates:otp:email=unlimited"
  "Throttling:Rates:otp:email_verify=unlimited"
  "Fraud:Registration:MaxPerIp=1000000"
)
(cd "$build" && Database__Provider=Postgres ConnectionStrings__Postgres="$database" ./Apptork.Root migrate >/dev/null)
(cd "$build" && dotnet Fleet.dll seed "$wallets" "$work/tokens" "$database" "$redis" "${settings[@]}") >"$work/seed.log" 2>&1 \
  || { cat "$work/seed.log" >&2; exit 1; }

ports=()
pids=()
for process in 1 2 3; do
  port=$(free_port)
  (cd "$build" && exec dotnet Fleet.dll serve "$port" "$database" "$redis" "${settings[@]}") >"$work/api-$process.log" 2>&1 &
  pids+=($!)
  ports+=("$port")
  BENCH_CLEANUP+=("kill $! 2>/dev/null")
done
for process in 0 1 2; do
  wait_for "http://127.0.0.1:${ports[process]}/healthz/ready" "${pids[process]}" "$work/api-$((process + 1)).log"
done

# nginx as a deployment's proxy: round-robin (its default), HTTP/1.1 connections to the upstreams kept alive.
one_port=$(free_port)
three_port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
pid $work/nginx/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  upstream one { server 127.0.0.1:${ports[0]}; keepalive 64; }
  upstream three { server 127.0.0.1:${ports[0]}; server 127.0.0.1:${ports[1]}; server 127.0.0.1:${ports[2]}; keepalive 64; }
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host \$http_host;
  proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
  server { listen 127.0.0.1:$one_port; location / { proxy_pass http://one; } }
  server { listen 127.0.0.1:$three_port; location / { proxy_pass http://three; } }
}
CONF
"$(command -v nginx || echo /usr/sbin/nginx)" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e stderr >"$work/nginx.log" 2>&1 &
BENCH_CLEANUP+=("kill $! 2>/dev/null")
wait_for "http://127.0.0.1:$three_port/healthz/live"

configurations=(direct nginx-1 nginx-3)
declare -A url=([direct]="http://127.0.0.1:${ports[0]}" [nginx-1]="http://127.0.0.1:$one_port" [nginx-3]="http://127.0.0.1:$three_port")
declare -A serving=([direct]="${pids[0]}" [nginx-1]="${pids[0]}" [nginx-3]="${pids[*]}")
declare -A label=([direct]="1 api, direct" [nginx-1]="1 api behind nginx" [nginx-3]="3 api behind nginx")

# The connection sampler: while a configuration is measured ($work/current names it), each half second, the backends
# whose client port belongs to one of its processes, counted by application_name: open, and busy (not idle).
psql_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql
sample_connections() {
  local current
  while :; do
    current=$(cat "$work/current" 2>/dev/null || true)
    if [[ -n $current ]]; then
      ss -tnpH state established "( dport = :$PG_PORT )" \
        | awk -v pids=" ${serving[$current]} " '{ split($3, local, ":"); if (match($0, /pid=[0-9]+/) && index(pids, " " substr($0, RSTART + 4, RLENGTH - 4) " ")) print local[2] }' \
        >"$work/ports"
      "$psql_bin" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -AtF '|' \
        -c "SELECT client_port, coalesce(nullif(application_name, ''), '(unnamed)'), state FROM pg_stat_activity WHERE backend_type = 'client backend'" \
        | awk -F '|' -v configuration="$current" -v ports=" $(tr '\n' ' ' <"$work/ports") " \
            'index(ports, " " $1 " ") { open[$2]++; if ($3 != "idle") busy[$2]++ }
             END { for (name in open) print configuration, name, open[name], busy[name] + 0 }' >>"$work/connections"
    fi
    sleep 0.5
  done
}
sample_connections &
BENCH_CLEANUP+=("kill $! 2>/dev/null")

# A refused sign-in fails the run, with what the processes logged.
sign_ins_per_second() {
  (cd "$build" && dotnet Fleet.dll sign-ins "$2" "$smtp_port" "$1" "$clients") || { tail -n 40 "$work"/api-*.log >&2; return 1; }
}
# wrk's requests per second; a refused debit fails the run (it would be cheaper than a posted one).
debits_per_second() {
  local report
  report=$(wrk -t2 -c"$clients" -d"$1"s -s bench/requests.lua "$2" -- "$work/tokens" POST /api/v1/bench/debits)
  if grep -q 'Non-2xx' <<<"$report"; then
    echo "$report" >&2
    return 1
  fi
  grep 'Socket errors' <<<"$report" >&2 || true
  awk '/Requests\/sec/ {print $2}' <<<"$report"
}

# Warm-up: JIT, pools, and each process's cache of validated tokens; the first sign-in of each client opens its account.
for configuration in nginx-3 direct nginx-1; do
  sign_ins_per_second 3 "${url[$configuration]}" >/dev/null
  debits_per_second 3 "${url[$configuration]}" >/dev/null
done

for configuration in "${configurations[@]}"; do : >"$work/sign-ins-$configuration"; : >"$work/debits-$configuration"; done
: >"$work/connections"
for round in $(seq 1 "$rounds"); do
  order=("${configurations[@]}")
  if ((round % 2 == 0)); then order=(nginx-3 nginx-1 direct); fi
  for configuration in "${order[@]}"; do
    echo "$configuration" >"$work/current"
    sign_ins_per_second "$seconds" "${url[$configuration]}" >>"$work/sign-ins-$configuration"
    debits_per_second "$seconds" "${url[$configuration]}" >>"$work/debits-$configuration"
    : >"$work/current"
  done
done

declare -A sign_ins debits
printf 'fleet: %s sign-in clients, wrk -t2 -c%s for debits over %s wallets; median of %s rounds of %s s\n' \
  "$clients" "$clients" "$wallets" "$rounds" "$seconds"
printf '%-20s %11s %11s   %s\n' "configuration" "sign-ins/s" "debits/s" "PostgreSQL connections at peak, open/busy by application_name"
for configuration in "${configurations[@]}"; do
  sign_ins[$configuration]=$(median <"$work/sign-ins-$configuration")
  debits[$configuration]=$(median <"$work/debits-$configuration")
  peaks=$(awk -v c="$configuration" '$1 == c { if ($3 > open[$2]) open[$2] = $3; if ($4 > busy[$2]) busy[$2] = $4 }
    END { for (name in open) printf "%s %d/%d  ", name, open[name], busy[name] }' "$work/connections")
  printf '%-20s %11.1f %11.0f   %s\n' "${label[$configuration]}" "${sign_ins[$configuration]}" "${debits[$configuration]}" "$peaks"
done
for configuration in "${configurations[@]}"; do
  printf '  rounds, %-18s sign-ins %s · debits %s\n' "${label[$configuration]}:" \
    "$(paste -sd' ' "$work/sign-ins-$configuration")" "$(paste -sd' ' "$work/debits-$configuration")"
done
awk -v s1="${sign_ins[direct]}" -v sn="${sign_ins[nginx-1]}" -v s3="${sign_ins[nginx-3]}" \
  -v d1="${debits[direct]}" -v dn="${debits[nginx-1]}" -v d3="${debits[nginx-3]}" 'BEGIN {
    printf "ratio 3 behind nginx / 1 direct:        sign-ins %.2f, debits %.2f\n", s3 / s1, d3 / d1
    printf "ratio 1 behind nginx / 1 direct (nginx): sign-ins %.2f, debits %.2f\n", sn / s1, dn / d1
    printf "ratio 3 / 1 behind nginx (processes):   sign-ins %.2f, debits %.2f\n", s3 / sn, d3 / dn
  }'
echo "(on two shared cores: the overhead of several processes and a proxy, not capacity)"

if (cd "$build" && Database__Provider=Postgres ConnectionStrings__Postgres="$database" ./Apptork.Root reconcile >"$work/reconcile.log" 2>&1); then
  echo "reconcile: every wallet equals its ledger"
else
  cat "$work/reconcile.log" >&2
  echo "reconcile: FAILED" >&2
  exit 1
fi
