#!/usr/bin/env bash
# Token streaming: how much later than the provider a client sees a text generation's first token (its first `delta`
# event minus the provider's first chunk, p50/p95), with an api process and a worker process apart and Redis between
# them; and the memory an api process spends per open event stream, holding many at once.
# Usage: bench/streaming.sh [first-token samples] [open streams]   (defaults 200 and 1000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh

run_generations_program --streaming "${1:-200}" "${2:-1000}"
