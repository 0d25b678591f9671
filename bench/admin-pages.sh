#!/usr/bin/env bash
# Operator admin pages on a large database: the published app in the production shape on a throwaway PostgreSQL,
# signed in as a superuser enrolled through the product's own create-admin link (curl, its session and antiforgery
# cookies kept by hand: they are Secure, which curl's jar does not send over http; TOTP codes computed with python3).
# Each page is requested BENCH_REQUESTS times (50) one after another on one keep-alive connection, after a few warm-up
# requests; the time of a request is curl's time_total - time_pretransfer (request sent to response read, on loopback:
# the server's time). First on a near-empty database (10 users, 100 ledger entries, 100 audit rows: the baseline), then
# after seeding 100,000 users and 1,000,000 ledger entries (and 100,000 audit rows) with INSERT ... SELECT
# generate_series. Prints p50/p95 per page, the ratio of the p50s, and whether p95 meets the goal (< 200 ms).
# Ends with the plans (EXPLAIN ANALYZE) of the ledger's filtered page queries on the seeded database.
# Usage: bench/admin-pages.sh   (BENCH_REQUESTS=50, BENCH_USERS=100000, BENCH_ENTRIES=1000000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh
# BENCH_APP: an already built Apptork.Root output folder to run instead of publishing again (a rerun on a slow machine).
if [[ -n ${BENCH_APP:-} ]]; then publish_app() { cp -r "$BENCH_APP" "$1"; }; fi

requests="${BENCH_REQUESTS:-50}"
users="${BENCH_USERS:-100000}"
entries="${BENCH_ENTRIES:-1000000}"
goal_ms=200
work=$(mktemp -d)
BENCH_CLEANUP+=("rm -rf $work")

start_production_app "$work"
psql_bench() { "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

# Users [from, to]: user<g>@example.com (also the normalized email: the canonical address), created one minute apart;
# each with a wallet.
seed_users() {
  psql_bench <<SQL
INSERT INTO users (id, email, normalized_email, user_name, normalized_user_name, role, created_at, email_confirmed,
                   lockout_enabled, phone_number_confirmed, two_factor_enabled, access_failed_count, security_stamp)
SELECT md5('user' || g)::uuid, 'user' || g || '@example.com', 'user' || g || '@example.com', 'user' || g || '@example.com',
       'USER' || g || '@EXAMPLE.COM', 'free', now() - ($users - g) * interval '1 minute', true, true, false, false, 0, md5(g::text)
FROM generate_series($1, $2) AS g;
INSERT INTO wallets (user_id, balance, updated_at) SELECT md5('user' || g)::uuid, 0, now() FROM generate_series($1, $2) AS g;
SQL
}

# Ledger entries [from, to]: spread over the users round-robin and over the last ~350 days in id order, every kind.
seed_entries() {
  psql_bench <<SQL
INSERT INTO ledger_entries (user_id, amount, balance_after, kind, idempotency_key, reference, memo, created_at)
SELECT md5('user' || (g % $3 + 1))::uuid, 1, g / $3 + 1,
       (ARRAY['signup_bonus', 'purchase', 'generation', 'refund', 'adjustment', 'reversal'])[g % 6 + 1],
       'bench:' || g, 'bench:' || g, 'bench entry ' || g, now() - ($entries - g) * interval '30 seconds'
FROM generate_series($1, $2) AS g;
SQL
}

seed_audit() {
  psql_bench <<SQL
INSERT INTO admin_audit (staff_email, action, target, at)
SELECT 'someone@example.com', (ARRAY['sign_in.succeeded', 'wallet.adjusted', 'user.banned'])[g % 3 + 1], 'user:' || g,
       now() - ($1 + $2 - g) * interval '1 minute'
FROM generate_series($1, $2) AS g;
SQL
}

# --- a superuser, through the product's own enrolment link ---
totp() {
  python3 - "$1" "$2" <<'PY'
import base64, hashlib, hmac, struct, sys, time
secret = sys.argv[1].replace(" ", "").upper()
key = base64.b32decode(secret + "=" * (-len(secret) % 8))
step = int(time.time() // 30) + int(sys.argv[2])
digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
offset = digest[-1] & 15
print("%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000))
PY
}

cookies="$work/cookies"
: >"$cookies"
cookie_header() { paste -sd ';' "$cookies" | sed 's/;/; /g'; }
# One admin request keeping cookies as a browser would; prints the body.
admin_request() {
  local headers="$work/headers" body="$work/body" name
  curl -s -D "$headers" -o "$body" -H "Cookie: $(cookie_header)" "$@"
  while IFS= read -r name; do
    grep -v "^${name%%=*}=" "$cookies" >"$cookies.new" || true
    mv "$cookies.new" "$cookies"
    echo "$name" >>"$cookies"
  done < <(tr -d '\r' <"$headers" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
  cat "$body"
}
form_token() { sed -n 's/.*name="__RequestVerificationToken" type="hidden" value="\([^"]*\)".*/\1/p' | head -n 1; }

password="bench operator passphrase"
link=$("$APP" create-admin bench-admin@example.com superuser | sed -n 's/.*\(http[^ ]*enrol?token=[^ ]*\).*/\1/p')
enrol_token=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.parse_qs(urllib.parse.urlparse(sys.argv[1]).query)["token"][0])' "$link")
token=$(admin_request "$base/admin/enrol?token=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$enrol_token")" | form_token)
page=$(admin_request "$base/admin/enrol?handler=Password" --data-urlencode "Token=$enrol_token" --data-urlencode "Password=$password" \
  --data-urlencode "PasswordConfirmation=$password" --data-urlencode "__RequestVerificationToken=$token")
secret=$(sed -n 's/.*id="totp-secret" class="secret">\([^<]*\)<.*/\1/p' <<<"$page")
token=$(form_token <<<"$page")
admin_request "$base/admin/enrol?handler=Code" --data-urlencode "Token=$enrol_token" --data-urlencode "Code=$(totp "$secret" 0)" \
  --data-urlencode "__RequestVerificationToken=$token" >/dev/null
token=$(admin_request "$base/admin/sign-in" | form_token)
# Enrolment spent the current step's code; the server accepts the next one.
admin_request "$base/admin/sign-in" --data-urlencode "Email=bench-admin@example.com" --data-urlencode "Password=$password" \
  --data-urlencode "Code=$(totp "$secret" 1)" --data-urlencode "__RequestVerificationToken=$token" >/dev/null
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $(cookie_header)" "$base/admin") == 200 ]] || { echo "sign-in failed" >&2; exit 1; }

# --- the pages ---
cursor() { python3 -c 'import base64, sys; print(base64.urlsafe_b64encode(sys.argv[1].encode()).decode().rstrip("="))' "$1"; }
day() { date -u -d "$1" +%Y-%m-%d; }
declare -A path=(
  [dashboard]="/admin"
  [user search by email]="/admin/users?Query=user5%40example.com"
  [user page]="/admin/users/$(python3 -c 'import hashlib, uuid; print(uuid.UUID(hashlib.md5(b"user5").hexdigest()))')"
  [ledger, first page]="/admin/ledger"
  [ledger, by user]="/admin/ledger?user=user5%40example.com"
  [ledger, kind + 30 days]="/admin/ledger?Kind=refund&From=$(day '-200 days')&To=$(day '-170 days')"
  [ledger, deep page]="/admin/ledger?cursor=$(cursor "l1:$(($(date -u -d '-175 days' +%s) * 10000000 + 621355968000000000)):$((entries / 2))")"
  [audit, first page]="/admin/audit"
  [audit, by action, deep]="/admin/audit?AuditAction=user.banned&cursor=$(cursor "k1:50000")"
)
pages=("dashboard" "user search by email" "user page" "ledger, first page" "ledger, by user" "ledger, kind + 30 days" "ledger, deep page"
  "audit, first page" "audit, by action, deep")

# Prints "p50 p95" in milliseconds of one page.
measure() {
  local url="$base$1" urls=() i
  for ((i = 0; i < requests; i++)); do urls+=(-o /dev/null "$url"); done
  curl -s -H "Cookie: $(cookie_header)" "${urls[@]:0:6}"
  curl -s -H "Cookie: $(cookie_header)" -w '%{http_code} %{time_pretransfer} %{time_total}\n' "${urls[@]}" \
    | awk -v page="$1" '$1 != 200 { print "HTTP " $1 " for " page > "/dev/stderr"; exit 1 } { print ($3 - $2) * 1000 }' \
    | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f %.1f\n", v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.5)] }'
}

declare -A baseline
seed_users 1 10
seed_entries 1 100 10
seed_audit 1 100
echo "Baseline (10 users, 100 ledger entries, 100 audit rows); $requests requests per page; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for name in "${pages[@]}"; do baseline[$name]=$(measure "${path[$name]}"); done

seeded=$(date +%s)
seed_users 11 "$users"
seed_entries 101 "$entries" "$users"
seed_audit 101 100000
psql_bench -c 'VACUUM ANALYZE'
echo "Seeded $users users, $entries ledger entries and 100,000 audit rows in $(($(date +%s) - seeded)) s; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

printf '\n%-24s %21s %21s %7s %s\n' "page" "seeded p50 / p95 ms" "empty p50 / p95 ms" "p50 ×" "goal p95 < ${goal_ms} ms"
for name in "${pages[@]}"; do
  read -r p50 p95 <<<"$(measure "${path[$name]}")"
  read -r b50 b95 <<<"${baseline[$name]}"
  verdict=$(awk -v p="$p95" -v goal="$goal_ms" 'BEGIN { print (p < goal ? "met" : "MISSED") }')
  printf '%-24s %21s %21s %7s %s\n' "$name" "$p50 / $p95" "$b50 / $b95" "$(awk -v a="$p50" -v b="$b50" 'BEGIN { printf "%.1f", a / b }')" "$verdict"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# The ledger page's statements as EF Core sends them (newest first, one row more than the page).
from=$(day '-200 days')
before=$(day '-169 days')
for where in "kind = 'refund' AND created_at >= '$from' AND created_at < '$before'" "created_at >= '$from' AND created_at < '$before'" \
  "kind = 'refund'" "user_id = md5('user5')::uuid" \
  "created_at <= now() - interval '175 days' AND (created_at < now() - interval '175 days' OR id < $((entries / 2)))"; do
  echo
  echo "EXPLAIN ANALYZE ... WHERE $where ORDER BY created_at DESC, id DESC LIMIT 51"
  psql_bench -c "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM ledger_entries WHERE $where ORDER BY created_at DESC, id DESC LIMIT 51" | grep -E 'Scan|Sort|Rows Removed|Execution'
done
