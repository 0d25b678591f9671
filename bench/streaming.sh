#!/usr/bin/env bash
# Token streaming: how much later than the provider a client sees a text generation's first token (its first `delta`
# event minus the provider's first chunk, p50/p95), with an api process and a worker process apart and Redis between
# them; and the memory an api process spends per open event stream, holding many at once.
# Usage: bench/streaming.sh [first-token samples] [open streams]   (defaults 200 and 1000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh

build_bench_program bench/Generations
start_postgres
start_redis
export BENCH_REDIS="127.0.0.1:$REDIS_PORT"
connection="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=$PG_DATABASE;Maximum Pool Size=64"
# From the build output, where WebApplicationFactory finds the product's content root.
cd bench/Generations/bin/Release/net10.0
Database__Provider=Postgres ConnectionStrings__Postgres="$connection" ./Apptork.Root migrate >/dev/null
dotnet Generations.dll "$connection" --streaming "${1:-200}" "${2:-1000}"
