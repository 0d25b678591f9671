#!/usr/bin/env bash
# Wallet debit throughput: POST /api/v1/bench/debits, a bench-only route mapped into the real application's pipeline
# (production shape on a throwaway PostgreSQL and Redis: bearer token validation, throttling, the Idempotency-Key
# record, Ledger.PostAsync), against the same debit done as raw SQL through Npgsql (the Ledger's conditional update, balance
# read and entry insert, one transaction per debit) on the same database in the same run. Each runs twice with the same
# load loop (N concurrent async workers, one shared stopwatch): spread uniformly over 10,000 wallets, and all on one
# hot wallet. The four run in rounds (order reversed every other round); prints each one's median debits/s and its
# rounds, and the ratios API/raw SQL of the medians (goal: >= 0.6 on spread wallets), then
# reconciles every wallet (the product's reconciliation, no negative balance, one credit per answered debit).
# Usage: bench/wallet-debits.sh [seconds per measurement] [rounds]   (defaults 10 and 3; 32 concurrent debits)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-10}"
rounds="${2:-3}"
source bench/lib.sh

build_bench_program bench/WalletDebits
start_postgres
start_redis
connection="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=$PG_DATABASE;Maximum Pool Size=64"
# From the build output, where WebApplicationFactory finds its manifest (the product's content root, src/Apptork.Root).
cd bench/WalletDebits/bin/Release/net10.0
# The product's own migrate command (built beside the benchmark): the production shape refuses an unmigrated database.
Database__Provider=Postgres ConnectionStrings__Postgres="$connection" ./Apptork.Root migrate >/dev/null
dotnet WalletDebits.dll "$connection" "127.0.0.1:$REDIS_PORT" "$seconds" "$rounds"
