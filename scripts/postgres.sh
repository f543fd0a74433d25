#!/usr/bin/env bash
# Make PostgreSQL + PostGIS available and run a private cluster for this project.
#
#   scripts/postgres.sh install   install PostgreSQL/PostGIS from apt when missing
#   scripts/postgres.sh start     install (if needed), init and start the private cluster
#   scripts/postgres.sh stop      stop the private cluster
#   scripts/postgres.sh status    say whether it runs, and where
#   scripts/postgres.sh url       print the admin connection URL of the private cluster
#
# The cluster listens on 127.0.0.1 only, on GEOAPP_PG_PORT (default 54329, so it never
# collides with a system server on 5432). Its data lives in var/postgres/ (git-ignored),
# or under /var/lib/postgresql/ when run as root from a folder the postgres user cannot
# enter. initdb and pg_ctl refuse to run as root, so as root they run as `postgres`.
set -euo pipefail

PROJECT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${GEOAPP_PG_PORT:-54329}
DB_NAME=${GEOAPP_PG_DATABASE:-floodmanager}

say() { printf '[postgres] %s\n' "$*" >&2; }

die() {
  say "$*"
  cat >&2 <<'EOF'
[postgres] FloodManager needs PostgreSQL with PostGIS 3. Alternatives:
[postgres]   - point DATABASE_URL at an existing PostGIS database, e.g.
[postgres]       DATABASE_URL=postgresql+psycopg2://user:pass@host:5432/floodmanager make run
[postgres]   - or run everything in containers:  docker compose up
EOF
  exit 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1
  fi
}

# Highest PostgreSQL major version whose server binaries are installed.
detect_major() {
  local dir best=""
  for dir in /usr/lib/postgresql/*/bin/initdb; do
    [ -x "$dir" ] || continue
    dir=${dir#/usr/lib/postgresql/}; dir=${dir%%/*}
    if [ -z "$best" ] || [ "$dir" -gt "$best" ]; then best=$dir; fi
  done
  printf '%s' "$best"
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get is not available to install: $*"
  # The package lists may be missing or stale on a fresh machine.
  if [ ! -f /var/lib/apt/lists/lock ] || [ -z "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v -e lock -e partial)" ] \
     || [ -n "${APT_UPDATE:-}" ]; then
    as_root apt-get update -qq || die "apt-get update failed (no root or sudo?)"
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; } \
    || die "could not install $* (need root or passwordless sudo)"
}

cmd_install() {
  local major
  major=$(detect_major)
  if [ -z "$major" ]; then
    say "no PostgreSQL server found; installing Debian's default one"
    apt_install postgresql postgresql-contrib
    major=$(detect_major)
    [ -n "$major" ] || die "PostgreSQL installed but no server binaries found under /usr/lib/postgresql"
  fi
  if [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
    say "installing PostGIS for PostgreSQL $major"
    apt_install "postgresql-$major-postgis-3"
    [ -f "/usr/share/postgresql/$major/extension/postgis.control" ] \
      || die "postgresql-$major-postgis-3 installed but the postgis extension is missing"
  fi
  printf '%s' "$major"
}

# Where the cluster's files live: in the project unless `postgres` cannot reach it.
data_dir() {
  if [ -n "${GEOAPP_PGDATA:-}" ]; then printf '%s' "$GEOAPP_PGDATA"; return; fi
  local in_tree="$PROJECT_DIR/var/postgres"
  if [ "$(id -u)" -ne 0 ] || runuser -u postgres -- test -x "$PROJECT_DIR" 2>/dev/null; then
    printf '%s' "$in_tree"
  else
    local key
    key=$(printf '%s' "$PROJECT_DIR" | sha1sum | cut -c1-10)
    printf '%s' "/var/lib/postgresql/floodmanager-$key"
  fi
}

# Run a server binary as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() { printf '/usr/lib/postgresql/%s/bin/%s' "$1" "$2"; }

cmd_start() {
  local major pgdata
  major=$(cmd_install)
  pgdata=$(data_dir)
  if [ -f "$pgdata/PG_VERSION" ] && [ "$(cat "$pgdata/PG_VERSION")" != "$major" ]; then
    die "$pgdata was made by PostgreSQL $(cat "$pgdata/PG_VERSION"), but $major is installed; remove it (make clean-db) to start afresh"
  fi
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    say "creating a private cluster (PostgreSQL $major) in $pgdata"
    mkdir -p "$pgdata"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$pgdata"
    chmod 700 "$pgdata"
    as_owner "$(pg_bin "$major" initdb)" -D "$pgdata" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null \
      || as_owner "$(pg_bin "$major" initdb)" -D "$pgdata" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
    {
      echo "listen_addresses = '127.0.0.1'"
      echo "port = $PORT"
      echo "unix_socket_directories = ''"
      echo "fsync = off                  # a disposable development cluster"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
      echo "shared_buffers = 256MB"
      echo "max_wal_size = 8GB            # a large import writes GBs of WAL: fewer checkpoints"
      echo "checkpoint_timeout = 30min"
    } | as_owner tee -a "$pgdata/postgresql.conf" >/dev/null
  fi
  # A running cluster started on another port (GEOAPP_PG_PORT changed) is restarted on this one.
  if as_owner "$(pg_bin "$major" pg_ctl)" -D "$pgdata" status >/dev/null 2>&1 \
      && [ "$(sed -n 4p "$pgdata/postmaster.pid" 2>/dev/null)" != "$PORT" ]; then
    say "restarting the private cluster on port $PORT"
    as_owner "$(pg_bin "$major" pg_ctl)" -D "$pgdata" -m fast -w stop >/dev/null
  fi
  if as_owner "$(pg_bin "$major" pg_ctl)" -D "$pgdata" status >/dev/null 2>&1; then
    say "private cluster already running on 127.0.0.1:$PORT"
  else
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
      die "port $PORT is taken by another server; set GEOAPP_PG_PORT to a free port"
    fi
    # The port is given at every start, so it follows GEOAPP_PG_PORT, not the port of initdb.
    as_owner "$(pg_bin "$major" pg_ctl)" -D "$pgdata" -l "$pgdata/server.log" -o "-p $PORT" -w -t 60 start >/dev/null \
      || { tail -20 "$pgdata/server.log" >&2 || true; die "the private cluster did not start"; }
    say "private cluster started on 127.0.0.1:$PORT"
  fi
  local psql
  psql=$(pg_bin "$major" psql)
  if [ "$("$psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != "1" ]; then
    "$psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qc "CREATE DATABASE \"$DB_NAME\"" >/dev/null
    say "created database $DB_NAME"
  fi
}

cmd_stop() {
  local major pgdata
  major=$(detect_major); pgdata=$(data_dir)
  [ -n "$major" ] && [ -f "$pgdata/PG_VERSION" ] || { say "no private cluster"; return 0; }
  as_owner "$(pg_bin "$major" pg_ctl)" -D "$pgdata" -m fast stop >/dev/null 2>&1 && say "stopped" || say "not running"
}

cmd_status() {
  local major pgdata
  major=$(detect_major); pgdata=$(data_dir)
  if [ -n "$major" ] && as_owner "$(pg_bin "$major" pg_ctl)" -D "$pgdata" status >/dev/null 2>&1; then
    say "running: PostgreSQL $major, data in $pgdata, 127.0.0.1:$PORT"
  else
    say "not running (data dir $pgdata)"; return 3
  fi
}

case "${1:-}" in
  install) cmd_install >/dev/null ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  url) printf 'postgresql+psycopg2://postgres@127.0.0.1:%s/%s\n' "$PORT" "${2:-$DB_NAME}" ;;
  datadir) data_dir; echo ;;
  *) echo "usage: $0 install|start|stop|status|url [dbname]|datadir" >&2; exit 2 ;;
esac
