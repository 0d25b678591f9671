#!/usr/bin/env bash
# The shipped disposable-domain list: load time and retained memory, IsDisposable lookups/s against a plain
# HashSet<string> baseline, and TryNormalize against MailAddress.TryCreate, measured in the same run.
# Usage: bench/disposable-domains.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dotnet run -c Release --project bench/DisposableDomains
