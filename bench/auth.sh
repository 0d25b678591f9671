#!/usr/bin/env bash
# What validating an access token costs: the same endpoint (/api/v1/auth/whoami, answered from the token's claims
# alone) without and with a valid bearer token, GET /api/v1/auth/me (which reads the user) with it, all against one
# production-shape process on PostgreSQL, and the machine's HTTP limit: a bare Kestrel endpoint (bench/BareAspNet,
# published the same way), all with the same load tool (wrk) in alternating rounds (the order reversed every other
# round), medians.
# Goals: the bearer token >= 0.8 of no token, and >= 0.6 of the bare endpoint.
# Usage: bench/auth.sh   (BENCH_SECONDS=10 per measurement, BENCH_ROUNDS=3 by default)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh
install_wrk
work=$(mktemp -d)
BENCH_CLEANUP+=("rm -rf $work")
rounds=${BENCH_ROUNDS:-3}

publish_bare_app "$work/bare"
bare_port=$(free_port)
bare="http://127.0.0.1:$bare_port"
"$work/bare/BareAspNet" --Urls "$bare" >"$work/bare.log" 2>&1 &
BENCH_CLEANUP+=("kill $! 2>/dev/null")
wait_for "$bare/healthz/ready" "$!" "$work/bare.log"

start_production_app "$work"
access=$(sign_in bench@example.com)
bearer=(-H "Authorization: Bearer $access")
curl -sf "${bearer[@]}" "$base/api/v1/auth/whoami" | grep -q '"authenticated":true'

declare -A url=([bare]="$bare/healthz/ready" [anonymous]="$base/api/v1/auth/whoami" [bearer]="$base/api/v1/auth/whoami" [me]="$base/api/v1/auth/me")
declare -A headers=([bare]="" [anonymous]="" [bearer]="Authorization: Bearer $access" [me]="Authorization: Bearer $access")
measure() {
  if [[ -n ${headers[$1]} ]]; then
    requests_per_second "${url[$1]}" -H "${headers[$1]}"
  else
    requests_per_second "${url[$1]}"
  fi
}

kinds=(bare anonymous bearer me)
for kind in "${kinds[@]}"; do
  BENCH_SECONDS=3 measure "$kind" >/dev/null   # warm-up: JIT and connection pools
  : >"$work/rate-$kind"
done
for round in $(seq 1 "$rounds"); do
  order=("${kinds[@]}")
  if ((round % 2 == 0)); then order=(me bearer anonymous bare); fi
  for kind in "${order[@]}"; do measure "$kind" >>"$work/rate-$kind"; done
done
declare -A rate
for kind in "${kinds[@]}"; do rate[$kind]=$(median <"$work/rate-$kind"); done

printf '%-56s %12s   %s\n' "endpoint (wrk -t2 -c32, median of $rounds rounds of ${BENCH_SECONDS:-10} s)" "requests/s" "rounds"
printf '%-56s %12.0f   %s\n' "bare Kestrel endpoint (the machine's HTTP limit)" "${rate[bare]}" "$(paste -sd' ' "$work/rate-bare")"
printf '%-56s %12.0f   %s\n' "GET /auth/whoami, no token (baseline)" "${rate[anonymous]}" "$(paste -sd' ' "$work/rate-anonymous")"
printf '%-56s %12.0f   %s\n' "GET /auth/whoami, valid ES256 bearer token" "${rate[bearer]}" "$(paste -sd' ' "$work/rate-bearer")"
printf '%-56s %12.0f   %s\n' "GET /auth/me, bearer token, user read from PostgreSQL" "${rate[me]}" "$(paste -sd' ' "$work/rate-me")"
awk -v a="${rate[anonymous]}" -v t="${rate[bearer]}" -v m="${rate[me]}" -v b="${rate[bare]}" 'BEGIN {
  printf "ratios: token validation %.2f of no token (goal >= 0.8), %.2f of bare Kestrel (goal >= 0.6); /auth/me %.2f of no token\n", t/a, t/b, m/a }'
echo "RESULT bare_kestrel_per_s=${rate[bare]}"
echo "RESULT whoami_anonymous_per_s=${rate[anonymous]}"
echo "RESULT whoami_bearer_per_s=${rate[bearer]}"
echo "RESULT auth_me_per_s=${rate[me]}"
