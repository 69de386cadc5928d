#!/bin/sh
# docker-entrypoint-initdb.d hook of the compose primary (runs once, on an empty data volume): lets the streaming
# replica (service postgres-replica) take its base backup and stream WAL as the imgpipe role over the network.
set -e
echo "host replication imgpipe all scram-sha-256" >> "$PGDATA/pg_hba.conf"
