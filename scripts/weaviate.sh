#!/usr/bin/env bash
# A local Weaviate server built from its Go module, for the tests and for development.
#
#   bash scripts/weaviate.sh build            # build the pinned version once (cached)
#   bash scripts/weaviate.sh start [DATA_DIR] # start it on 127.0.0.1, wait until ready,
#                                             # print WEAVIATE_URL=...
#   bash scripts/weaviate.sh stop             # stop the server `start` started
#
# The server binary is built with the machine's Go from the Go module proxy (no image,
# no prebuilt binary) into ~/.cache/supportbot/weaviate/<version>/ and rebuilt only
# when WEAVIATE_VERSION changes. compose.yaml pins the same version for production.
# Anonymous access, no vectorizer modules (supportbot embeds documents itself),
# persistence in DATA_DIR (default: a new temporary folder).
set -euo pipefail

VERSION="${WEAVIATE_VERSION:-1.35.2}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/supportbot/weaviate/$VERSION"
BIN="$CACHE/weaviate-server"
HTTP_PORT="${WEAVIATE_HTTP_PORT:-8080}"
GRPC_PORT="${WEAVIATE_GRPC_PORT:-50051}"
# The cluster's own ports (Weaviate's defaults); a second server on the same machine
# needs its own: WEAVIATE_PORTS_FROM=N takes N..N+4 for them.
if [ -n "${WEAVIATE_PORTS_FROM:-}" ]; then
    GOSSIP_PORT=$WEAVIATE_PORTS_FROM DATA_PORT=$((WEAVIATE_PORTS_FROM + 1))
    RAFT_PORT=$((WEAVIATE_PORTS_FROM + 2)) RAFT_RPC_PORT=$((WEAVIATE_PORTS_FROM + 3))
    PROFILING_PORT=$((WEAVIATE_PORTS_FROM + 4))
else
    GOSSIP_PORT=7946 DATA_PORT=7947 RAFT_PORT=8300 RAFT_RPC_PORT=8301 PROFILING_PORT=6060
fi
RUN_DIR="${WEAVIATE_RUN_DIR:-${TMPDIR:-/tmp}/supportbot-weaviate-$HTTP_PORT}"
URL="http://127.0.0.1:$HTTP_PORT"

build() {
    if [ -x "$BIN" ]; then
        return
    fi
    if ! command -v go >/dev/null 2>&1; then
        echo "weaviate.sh: Go is needed to build the Weaviate server (https://go.dev/dl/)" >&2
        exit 1
    fi
    echo "==> building Weaviate $VERSION from its Go module (once; cached in $CACHE)" >&2
    mkdir -p "$CACHE"
    GOBIN="$CACHE" GOFLAGS=-mod=mod go install \
        "github.com/weaviate/weaviate/cmd/weaviate-server@v$VERSION" >&2
}

ready() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/.well-known/ready" || true)" = 200 ]
}

start() {
    build
    if ready; then
        echo "weaviate.sh: something already answers on $URL; stop it first" >&2
        exit 1
    fi
    local data="${1:-}"
    mkdir -p "$RUN_DIR"
    if [ -z "$data" ]; then
        data="$(mktemp -d "${TMPDIR:-/tmp}/weaviate-data.XXXXXX")"
        echo "$data" >"$RUN_DIR/temporary-data"
    fi
    AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true \
    PERSISTENCE_DATA_PATH="$data" \
    DEFAULT_VECTORIZER_MODULE=none \
    ENABLE_MODULES="" \
    API_BASED_MODULES_DISABLED=true \
    CLUSTER_HOSTNAME=node1 \
    CLUSTER_ADVERTISE_ADDR=127.0.0.1 \
    RAFT_BOOTSTRAP_EXPECT=1 \
    GRPC_PORT="$GRPC_PORT" \
    CLUSTER_GOSSIP_BIND_PORT="$GOSSIP_PORT" \
    CLUSTER_DATA_BIND_PORT="$DATA_PORT" \
    RAFT_PORT="$RAFT_PORT" \
    RAFT_INTERNAL_RPC_PORT="$RAFT_RPC_PORT" \
    RAFT_JOIN="node1:$RAFT_PORT" \
    GO_PROFILING_PORT="$PROFILING_PORT" \
    DISABLE_TELEMETRY=true \
    LOG_LEVEL=warning \
        nohup "$BIN" --host 127.0.0.1 --port "$HTTP_PORT" --scheme http \
        >"$RUN_DIR/weaviate.log" 2>&1 &
    echo $! >"$RUN_DIR/weaviate.pid"
    for _ in $(seq 1 120); do
        if ready; then
            echo "WEAVIATE_URL=$URL"
            return
        fi
        if ! kill -0 "$(cat "$RUN_DIR/weaviate.pid")" 2>/dev/null; then
            echo "weaviate.sh: the server exited; its log:" >&2
            tail -n 20 "$RUN_DIR/weaviate.log" >&2
            exit 1
        fi
        sleep 1
    done
    echo "weaviate.sh: not ready after 120 s; see $RUN_DIR/weaviate.log" >&2
    stop
    exit 1
}

stop() {
    local pid_file="$RUN_DIR/weaviate.pid"
    if [ -f "$pid_file" ]; then
        local pid
        pid="$(cat "$pid_file")"
        if kill "$pid" 2>/dev/null; then
            for _ in $(seq 1 30); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 1
            done
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$pid_file"
    fi
    if [ -f "$RUN_DIR/temporary-data" ]; then
        rm -rf "$(cat "$RUN_DIR/temporary-data")" "$RUN_DIR/temporary-data"
    fi
}

case "${1:-}" in
    build) build ;;
    start) start "${2:-}" ;;
    stop) stop ;;
    *)
        echo "usage: bash scripts/weaviate.sh build | start [DATA_DIR] | stop" >&2
        exit 2
        ;;
esac
