#!/usr/bin/env bash
# Runs Apptork Root in its embedded shape on http://127.0.0.1:8000: SQLite under src/Apptork.Root/data,
# created and migrated on first start; no other set-up. Settings may be given as environment variables or
# as arguments, e.g. ./run.sh --Urls http://127.0.0.1:9000
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export DOTNET_NOLOGO="${DOTNET_NOLOGO:-1}"
export DOTNET_CLI_TELEMETRY_OPTOUT="${DOTNET_CLI_TELEMETRY_OPTOUT:-1}"
exec dotnet run --project src/Apptork.Root -c Release -- "$@"
