#!/usr/bin/env bash
# Installs (if missing) and starts Debian's PostgreSQL on loopback, ensures a
# superuser role for tests, and prints its DSN as the last line of stdout.
#
#   bash internal/testenv/postgres.sh               install/start, print DSN
#   bash internal/testenv/postgres.sh --print-dsn   only print the DSN
#
# Runs as root (CI is a fresh Debian machine); initdb and psql run as the
# postgres user. Idempotent. The role and password are for throwaway test
# servers on 127.0.0.1 only: override with MLPORTAL_TEST_POSTGRES_USER/_PASSWORD.
set -euo pipefail

PGUSER_NAME="${MLPORTAL_TEST_POSTGRES_USER:-mlportal_test}"
PGPASS="${MLPORTAL_TEST_POSTGRES_PASSWORD:-mlportal_test}"
CLUSTER=main

log() { printf '[testenv postgres] %s\n' "$*" >&2; }

pg_version() { ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1; }

# cluster_field VERSION COLUMN: a column of pg_lsclusters for our cluster.
cluster_field() {
	pg_lsclusters --no-header 2>/dev/null | awk -v v="$1" -v c="$CLUSTER" -v col="$2" '$1 == v && $2 == c { print $col }'
}

dsn() {
	local v port
	v="$(pg_version)"
	port="$( [[ -n "$v" ]] && cluster_field "$v" 3 || true)"
	echo "postgres://${PGUSER_NAME}:${PGPASS}@127.0.0.1:${port:-5432}/postgres?sslmode=disable"
}

if [[ "${1:-}" == "--print-dsn" ]]; then
	dsn
	exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
	log "run as root (it installs packages and manages the server as the postgres user)"
	exit 1
fi

if ! command -v pg_ctlcluster >/dev/null || [[ -z "$(pg_version)" ]]; then
	log "installing postgresql with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >&2
	apt-get install -y -q postgresql >&2
fi

V="$(pg_version)"
if [[ -z "$(cluster_field "$V" 2)" ]]; then
	log "creating cluster $V/$CLUSTER"
	pg_createcluster "$V" "$CLUSTER" >&2
fi
if [[ "$(cluster_field "$V" 4)" != online ]]; then
	log "starting cluster $V/$CLUSTER"
	pg_ctlcluster "$V" "$CLUSTER" start >&2
fi

port="$(cluster_field "$V" 3)"
for _ in $(seq 1 60); do
	pg_isready -q -h 127.0.0.1 -p "$port" && break
	sleep 0.5
done
pg_isready -h 127.0.0.1 -p "$port" >&2 || {
	log "server not accepting connections on 127.0.0.1:$port; log:"
	tail -n 30 "/var/log/postgresql/postgresql-$V-$CLUSTER.log" >&2 || true
	exit 1
}

log "ensuring superuser role $PGUSER_NAME"
(cd /tmp && runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -p "$port" \
	-v user="$PGUSER_NAME" -v pass="$PGPASS" >&2) <<'SQL'
SELECT format('CREATE ROLE %I LOGIN SUPERUSER PASSWORD %L', :'user', :'pass')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I LOGIN SUPERUSER PASSWORD %L', :'user', :'pass') \gexec
SQL

log "ready on 127.0.0.1:$port"
dsn
