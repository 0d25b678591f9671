#!/usr/bin/env bash
# What evaluating the feature flags costs an app's poll: GET /api/v1/feature-flags (20 flags with rules, evaluated for
# the caller) signed in, as a 200 and as a 304 (If-None-Match), against GET /api/v1/auth/whoami with the same token
# (answered from the token alone), all against one production-shape process on PostgreSQL, in the same run.
# Goals: >= 0.8 of whoami for the 200 answer, >= 0.9 for the 304 poll.
# Usage: bench/feature-flags.sh   (BENCH_SECONDS=10 per measurement, BENCH_ROUNDS=3 alternating rounds by default)
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
export Storage__Provider=Local
# Limits high enough never to refuse the load: this measures flag evaluation, not throttling.
export Throttling__Rates__anon__anonymous=100000000/minute Throttling__Rates__user__free=100000000/minute Throttling__Rates__user__staff=100000000/minute
export Logging__LogLevel__Default=Warning

"$work/app/Apptork.Root" migrate >/dev/null
base="http://127.0.0.1:$app_port"
export Http__PublicBaseUrl="$base"
"$work/app/Apptork.Root" --Urls "$base" >"$work/app.log" 2>&1 &
app_pid=$!
BENCH_CLEANUP+=("kill $app_pid 2>/dev/null")
wait_for "$base/healthz/ready" "$app_pid" "$work/app.log"

# Signs in by email code; prints the access token.
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

# An operator: signed up, made staff by the command, signed in again (the role is read at sign-in).
sign_in operator@example.com >/dev/null
"$work/app/Apptork.Root" set-role operator@example.com staff >/dev/null
staff=$(sign_in operator@example.com)
for number in $(seq 1 20); do
  case $((number % 4)) in
    0) rules='"rollout_percentage":30' ;;
    1) rules='"platforms":["ios","android"],"min_app_version":"1.10.0"' ;;
    2) rules='"roles":["free","premium"],"rollout_percentage":80' ;;
    3) rules='"starts_at":"2020-01-01T00:00:00Z","ends_at":"2099-01-01T00:00:00Z"' ;;
  esac
  curl -sf -o /dev/null -H "Authorization: Bearer $staff" -H 'Content-Type: application/json' \
    -d "{\"key\":\"flag_$number\",\"enabled\":true,\"description\":{\"en\":\"Flag $number\"},$rules}" "$base/api/v1/admin/feature-flags"
done

access=$(sign_in bench@example.com)
headers=(-H "Authorization: Bearer $access" -H "X-Platform: ios" -H "X-App-Version: 1.12.0")
curl -sf "${headers[@]}" "$base/api/v1/feature-flags" | python3 -c 'import json,sys; assert len(json.load(sys.stdin)["flags"]) == 22'
etag=$(curl -sf -D - -o /dev/null "${headers[@]}" "$base/api/v1/feature-flags" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
[[ $(curl -s -o /dev/null -w '%{http_code}' "${headers[@]}" -H "If-None-Match: $etag" "$base/api/v1/feature-flags") == 304 ]]

requests_per_second "$base/api/v1/feature-flags" "${headers[@]}" >/dev/null   # warm-up: JIT and connection pools
# Alternating rounds, medians: the machine's drift over a minute moves the three alike.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: >"$work/whoami" ; : >"$work/flags" ; : >"$work/not_modified"
for _ in $(seq 1 "${BENCH_ROUNDS:-3}"); do
  requests_per_second "$base/api/v1/auth/whoami" "${headers[@]}" >>"$work/whoami"
  requests_per_second "$base/api/v1/feature-flags" "${headers[@]}" >>"$work/flags"
  requests_per_second "$base/api/v1/feature-flags" "${headers[@]}" -H "If-None-Match: $etag" >>"$work/not_modified"
done
whoami=$(median <"$work/whoami")
flags=$(median <"$work/flags")
not_modified=$(median <"$work/not_modified")

printf '%-52s %12s\n' "endpoint (wrk -t2 -c32, median of ${BENCH_ROUNDS:-3} rounds of ${BENCH_SECONDS:-10} s)" "requests/s"
printf '%-52s %12s\n' "GET /auth/whoami, bearer token (baseline)" "$whoami"
printf '%-52s %12s\n' "GET /feature-flags, 20 flags, 200" "$flags"
printf '%-52s %12s\n' "GET /feature-flags, If-None-Match, 304" "$not_modified"
awk -v w="$whoami" -v f="$flags" -v n="$not_modified" \
  'BEGIN { printf "ratios vs whoami: 200 %.2f (goal >= 0.8), 304 %.2f (goal >= 0.9)\n", f/w, n/w }'
