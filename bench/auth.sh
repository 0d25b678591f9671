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

start_production_app "$work"
access=$(sign_in bench@example.com)
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
