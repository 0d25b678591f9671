#!/usr/bin/env bash
# What validating an access token costs: the same endpoint (/api/v1/auth/whoami, answered from the token's claims
# alone) without and with a valid bearer token, and GET /api/v1/auth/me (which reads the user) with it, all against
# one production-shape process on PostgreSQL, with the same load tool (wrk) in the same run.
# Usage: bench/auth.sh   (BENCH_SECONDS=10 per measurement by default)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh
install_wrk
work=$(mktemp -d)
BENCH_CLEANUP+=("rm -rf $work")

publish_app "$work/app"
start_postgres
start_smtp
app_port=$(free_port)
export Database__Provider=Postgres
export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres;Maximum Pool Size=64"
export Auth__Secret=$(openssl rand -base64 48)
export Auth__Jwt__SigningKeys__0="$(openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null)"
export Email__Provider=Smtp Email__Smtp__Host=127.0.0.1 Email__Smtp__Port="$SMTP_PORT" Email__Smtp__UseTls=false
# The production shape requires a storage choice; one host, and sign-in stores no files.
export Storage__Provider=Local
# Limits high enough never to refuse the load: this measures authentication, not throttling.
export Throttling__Rates__anon__anonymous=100000000/minute Throttling__Rates__user__free=100000000/minute
export Logging__LogLevel__Default=Warning

"$work/app/Apptork.Root" migrate >/dev/null
base="http://127.0.0.1:$app_port"
export Http__PublicBaseUrl="$base"
"$work/app/Apptork.Root" --Urls "$base" >"$work/app.log" 2>&1 &
app_pid=$!
BENCH_CLEANUP+=("kill $app_pid 2>/dev/null")
wait_for "$base/healthz/ready" "$app_pid" "$work/app.log"

otp_token=$(curl -sf -H 'Content-Type: application/json' -d '{"email":"bench@example.com"}' "$base/api/v1/auth/otp/request" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["otp_token"])')
until grep -q 'SMTP_MESSAGE' "$SMTP_LOG"; do sleep 0.05; done
code=$(grep 'SMTP_MESSAGE' "$SMTP_LOG" | tail -n 1 | grep -oE '\b[0-9]{6}\b' | head -n 1)
access=$(curl -sf -H 'Content-Type: application/json' -d "{\"otp_token\":\"$otp_token\",\"code\":\"$code\"}" "$base/api/v1/auth/otp/verify" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
bearer=(-H "Authorization: Bearer $access")
curl -sf "${bearer[@]}" "$base/api/v1/auth/whoami" | grep -q '"authenticated":true'

requests_per_second "$base/api/v1/auth/whoami" >/dev/null   # warm-up: JIT and connection pools
anonymous=$(requests_per_second "$base/api/v1/auth/whoami")
authenticated=$(requests_per_second "$base/api/v1/auth/whoami" "${bearer[@]}")
me=$(requests_per_second "$base/api/v1/auth/me" "${bearer[@]}")

printf '%-52s %12s\n' "endpoint (wrk -t2 -c32, ${BENCH_SECONDS:-10} s each)" "requests/s"
printf '%-52s %12s\n' "GET /auth/whoami, no token (baseline)" "$anonymous"
printf '%-52s %12s\n' "GET /auth/whoami, valid ES256 bearer token" "$authenticated"
printf '%-52s %12s\n' "GET /auth/me, bearer token, user read from PostgreSQL" "$me"
awk -v a="$anonymous" -v t="$authenticated" -v m="$me" \
  'BEGIN { printf "ratios vs baseline: token validation %.2f (goal >= 0.7), /auth/me %.2f\n", t/a, m/a }'
