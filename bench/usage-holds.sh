#!/usr/bin/env bash
# Usage pricing's cost at creation: text generations created per second by an api under fixed pricing (a debit, the
# baseline) and under usage pricing (the prompt counted with gpt-4o-mini's tokenizer, then a hold), the same build in
# one process, alternating rounds of 32 clients, on a throwaway PostgreSQL and Redis. Goal: ratio >= 0.9.
# Usage: bench/usage-holds.sh [creations per round]   (default 2000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh

run_generations_program --holds "${1:-2000}"
