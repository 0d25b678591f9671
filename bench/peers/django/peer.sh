#!/usr/bin/env bash
# The seed's stack (Django, DRF, simplejwt, gunicorn, Celery, from Debian 12's packages) serving our hot paths, as a
# benchmark peer on a PostgreSQL and a Redis the caller runs. See README.md beside it.
# Usage: peer.sh install | start | start-celery | seed <users> <balance> | stop   (seed after start: start migrates)
# Environment: PEER_PG_PORT, PEER_PG_DATABASE (django_peer), PEER_REDIS_PORT, PEER_PORT (start),
#   PEER_WORKERS ((2 x cores) + 1), PEER_WORKER_CLASS (sync), PEER_STATE_DIR (/tmp/apptork-django-peer).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
packages=(python3-django python3-djangorestframework python3-djangorestframework-simplejwt gunicorn python3-celery
  python3-psycopg2 python3-redis python3-django-redis python3-hiredis)
# Debian's interpreter, the one its packages are installed for (a pyenv or venv python3 first on PATH would not see them).
python=/usr/bin/python3
state=${PEER_STATE_DIR:-/tmp/apptork-django-peer}

install() {
  local missing=() package as=()
  for package in "${packages[@]}"; do
    [[ $(dpkg-query -W -f='${Status}' "$package" 2>/dev/null) == 'install ok installed' ]] || missing+=("$package")
  done
  (( ${#missing[@]} )) || return 0
  if [[ $EUID -ne 0 ]]; then as=(sudo); fi
  "${as[@]}" apt-get update >/dev/null
  "${as[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
}

# What every command but install needs: the settings' environment, the state directory, the database.
prepare() {
  : "${PEER_PG_PORT:?PostgreSQL port}" "${PEER_REDIS_PORT:?Redis port}"
  export PEER_PG_PORT PEER_REDIS_PORT PEER_PG_DATABASE=${PEER_PG_DATABASE:-django_peer}
  mkdir -p "$state"
  # One secret per state directory: the tokens seed prints must verify in the server started with the same state.
  [[ -s $state/secret_key ]] || "$python" -c 'import secrets; print(secrets.token_urlsafe(50))' >"$state/secret_key"
  DJANGO_SECRET_KEY=$(<"$state/secret_key")
  export DJANGO_SECRET_KEY DJANGO_SETTINGS_MODULE=peer.settings PYTHONPATH=$here PYTHONPYCACHEPREFIX=$state/pycache
  local psql=(psql -h 127.0.0.1 -p "$PEER_PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
  if [[ -z $("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$PEER_PG_DATABASE'") ]]; then
    "${psql[@]}" -c "CREATE DATABASE \"$PEER_PG_DATABASE\"" >/dev/null
  fi
}

# Starts a process in the background, its pid in $state/<name>.pid and its output in $state/<name>.log.
launch() {
  local name=$1; shift
  if [[ -s $state/$name.pid ]] && kill -0 "$(<"$state/$name.pid")" 2>/dev/null; then
    echo "$name already runs with the state in $state (peer.sh stop first)" >&2
    exit 1
  fi
  "$@" >"$state/$name.log" 2>&1 </dev/null &
  echo $! >"$state/$name.pid"
}

start() {
  : "${PEER_PORT:?HTTP port}"
  prepare
  "$python" -m django migrate --noinput >/dev/null
  # gunicorn's recommendation for the worker count: (2 x cores) + 1.
  local workers=${PEER_WORKERS:-$(( 2 * $(nproc) + 1 ))} url="http://127.0.0.1:$PEER_PORT/api/v1/health" waited=0
  launch gunicorn "$python" -m gunicorn peer.wsgi:application --bind "127.0.0.1:$PEER_PORT" --workers "$workers" \
    --worker-class "${PEER_WORKER_CLASS:-sync}"
  until curl -sf -o /dev/null "$url"; do
    if ! kill -0 "$(<"$state/gunicorn.pid")" 2>/dev/null || (( waited >= 600 )); then
      echo "the Django peer did not answer $url; the end of $state/gunicorn.log:" >&2
      tail -n 40 "$state/gunicorn.log" >&2
      exit 1
    fi
    sleep 0.1
    waited=$(( waited + 1 ))
  done
}

start_celery() {
  prepare
  # Celery's defaults: the prefork pool with one process per core, tasks acknowledged when received; INFO logging,
  # as its docs run workers (and the line that says the worker is ready).
  launch celery "$python" -m celery -A peer worker --loglevel=INFO
  local waited=0
  until grep -q 'ready\.' "$state/celery.log" 2>/dev/null; do
    if ! kill -0 "$(<"$state/celery.pid")" 2>/dev/null || (( waited >= 600 )); then
      echo "the Celery worker did not start; the end of $state/celery.log:" >&2
      tail -n 40 "$state/celery.log" >&2
      exit 1
    fi
    sleep 0.1
    waited=$(( waited + 1 ))
  done
}

seed() {
  (( $# == 2 )) || { echo "usage: peer.sh seed <users> <balance>" >&2; exit 2; }
  prepare
  "$python" -m django seed "$1" "$2"
}

# TERM: gunicorn's and Celery's graceful stop (requests and tasks in hand are finished); KILL after 30 s.
stop() {
  local name pid waited
  for name in gunicorn celery; do
    [[ -s $state/$name.pid ]] || continue
    pid=$(<"$state/$name.pid")
    kill -TERM "$pid" 2>/dev/null || true
    waited=0
    while kill -0 "$pid" 2>/dev/null; do
      if (( waited == 300 )); then kill -KILL "$pid" 2>/dev/null || true; fi
      sleep 0.1
      waited=$(( waited + 1 ))
    done
    rm -f "$state/$name.pid"
  done
}

case ${1:-} in
  install) install ;;
  start) start ;;
  start-celery) start_celery ;;
  seed) shift; seed "$@" ;;
  stop) stop ;;
  *) echo "usage: peer.sh install | start | start-celery | seed <users> <balance> | stop" >&2; exit 2 ;;
esac
