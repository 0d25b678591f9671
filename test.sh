#!/usr/bin/env bash
# Runs the whole test suite on a Debian machine that has the .NET SDK: installs what the tests start
# (PostgreSQL, Redis, nginx, Node and the npm test peers) when missing, runs `dotnet test`, and ends with one
# totals line such as "42 passed, 0 failed, 3 skipped". Extra arguments go to `dotnet test`, e.g.
#   ./test.sh --filter "FullyQualifiedName~ServerFixtureTests"
#
#   ./test.sh --fast [--filter ...]
# runs only the tests marked [Fast] (trait Category=Fast: no server, no child process, in well under a minute once
# built), installs nothing and starts no server; a --filter given with it narrows it further. Tests marked [Long]
# (trait Category=Long) are the ones that take tens of seconds or more: --filter "Category!=Long" leaves them out.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

fast=false
arguments=()
for argument in "$@"; do
  if [[ $argument == --fast ]]; then fast=true; else arguments+=("$argument"); fi
done
if $fast; then
  # The server fixtures see this and start nothing; a fast test that reaches for a server fails with a message.
  export APPTORK_TESTS_NO_SERVERS=1
  filter=Category=Fast
  for index in "${!arguments[@]}"; do
    if [[ ${arguments[index]} == --filter && $((index + 1)) -lt ${#arguments[@]} ]]; then
      filter="Category=Fast&(${arguments[index + 1]})"
      unset 'arguments[index]' 'arguments[index + 1]'
      break
    fi
  done
  arguments=("${arguments[@]}" --filter "$filter")
fi

export DOTNET_NOLOGO="${DOTNET_NOLOGO:-1}"
export DOTNET_CLI_TELEMETRY_OPTOUT="${DOTNET_CLI_TELEMETRY_OPTOUT:-1}"

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# The servers and tools the tests start: PostgreSQL, Redis, nginx, Node and the npm test peers, openssl, Chromium.
install_servers() {
  missing_packages=()
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing_packages+=(postgresql)
  command -v redis-server >/dev/null || missing_packages+=(redis-server)
  # The trusted-proxy tests put a real nginx in front of the application.
  [[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null || missing_packages+=(nginx)
  command -v node >/dev/null || missing_packages+=(nodejs npm)
  # The documented production block, which a test runs, makes its secrets with openssl.
  command -v openssl >/dev/null || missing_packages+=(openssl)
  # The /docs check renders the API reference in Debian's Chromium (through Playwright); no browser is downloaded.
  [[ -x /usr/bin/chromium ]] || missing_packages+=(chromium)
  # The fleet tests run a second time with PgBouncer (transaction pooling) between the processes and PostgreSQL.
  [[ -x /usr/sbin/pgbouncer ]] || command -v pgbouncer >/dev/null || missing_packages+=(pgbouncer)
  if ((${#missing_packages[@]} > 0)); then
    echo "Installing ${missing_packages[*]} from Debian's packages"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing_packages[@]}"
  fi

  # npm ci wipes node_modules, so a stamp of the lock file inside it tells whether it is current.
  peers=tests/peers
  stamp="$peers/node_modules/.installed-from-lock"
  lock_state="$(sha256sum "$peers/package-lock.json" | cut -d' ' -f1) node $(node --version)"
  if [[ ! -f $stamp || "$(cat "$stamp")" != "$lock_state" ]]; then
    (cd "$peers" && npm ci --no-audit --no-fund)
    echo "$lock_state" >"$stamp"
  fi
}

# A fast run needs none of the servers, so it installs none of them.
$fast || install_servers

# The fleet tests (Infrastructure/Fleet) run the application as production does, published: linux-x64,
# framework-dependent, ReadyToRun. Minutes the first time on two cores, seconds when nothing changed.
if ! $fast; then
  dotnet publish src/Apptork.Root -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
    --nologo -v quiet -o artifacts/published
fi

dotnet tool restore

results="$PWD/TestResults/test-sh"
rm -rf "$results"
test_status=0
dotnet test Apptork.Root.slnx -c Release --logger trx --results-directory "$results" ${arguments[@]+"${arguments[@]}"} || test_status=$?

# One line for the whole suite, from every TRX file the run wrote; exits non-zero when nothing ran.
totals_status=0
python3 - "$results" <<'PYTHON' || totals_status=$?
import glob, sys
import xml.etree.ElementTree as ElementTree

namespace = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
passed = failed = skipped = 0
for path in glob.glob(f"{sys.argv[1]}/**/*.trx", recursive=True):
    counters = ElementTree.parse(path).getroot().find(f"{namespace}ResultSummary/{namespace}Counters")
    if counters is None:
        continue
    count = lambda name: int(counters.get(name, "0"))
    passed += count("passed")
    failed += count("failed") + count("error") + count("timeout") + count("aborted")
    skipped += count("notExecuted") + count("inconclusive") + count("notRunnable")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed > 0 or passed + failed == 0 else 0)
PYTHON

if ((test_status != 0)); then
  exit "$test_status"
fi
exit "$totals_status"
