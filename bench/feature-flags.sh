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

start_production_app "$work"

# An operator: signed up, made staff by the command, signed in again (the role is read at sign-in).
sign_in operator@example.com >/dev/null
"$APP" set-role operator@example.com staff >/dev/null
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

measure() {
  case $1 in
    whoami) requests_per_second "$base/api/v1/auth/whoami" "${headers[@]}" ;;
    flags) requests_per_second "$base/api/v1/feature-flags" "${headers[@]}" ;;
    not_modified) requests_per_second "$base/api/v1/feature-flags" "${headers[@]}" -H "If-None-Match: $etag" ;;
  esac
}
kinds=(whoami flags not_modified)
for kind in "${kinds[@]}"; do
  BENCH_SECONDS=3 measure "$kind" >/dev/null   # warm-up: JIT and connection pools
  : >"$work/$kind"
done
# Alternating rounds (the order reversed every other round), medians: the machine's drift moves the three alike.
for round in $(seq 1 "${BENCH_ROUNDS:-3}"); do
  order=("${kinds[@]}")
  if ((round % 2 == 0)); then order=(not_modified flags whoami); fi
  for kind in "${order[@]}"; do measure "$kind" >>"$work/$kind"; done
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
echo "RESULT feature_flags_whoami_per_s=$whoami"
echo "RESULT feature_flags_per_s=$flags"
echo "RESULT feature_flags_304_per_s=$not_modified"
