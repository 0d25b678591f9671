#!/usr/bin/env bash
# A text generation's latency from POST /api/v1/generations to `succeeded` (p50/p95, one at a time) and the job workers'
# throughput with many queued, against a local OpenAI-compatible provider that answers at once, on a throwaway
# PostgreSQL and Redis (the production shape: an api process announces owed jobs, a worker enqueues and runs them); the
# baseline is the same chat call made directly through the same OpenAI client, in the same run.
# Usage: bench/generations.sh [latency samples] [throughput jobs]   (defaults 200 and 1000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh

run_generations_program "${1:-200}" "${2:-1000}"
