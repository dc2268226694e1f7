#!/usr/bin/env bash
# Two flashd nodes behind Debian's HAProxy, on loopback, with wrk load through HAProxy, in two scenarios:
#   1. graceful: node 1 is stopped (SIGTERM to its flashd) while the load runs: expect 0 failed requests;
#   2. crash: node 1's whole process tree is killed with SIGKILL while the load runs: at most its in-flight requests
#      fail, and HAProxy takes it out within its check interval (2 checks of 500 ms).
# For each: wrk's requests, non-2xx responses and socket errors, and how long HAProxy took to mark node 1 DOWN
# (polled on its stats page). Bounded in time; everything it started is stopped on exit.
#
# usage: deploy/haproxy/run.sh [-h|--help]
# env:   DURATION=15  EVENT_AT=5  CONNECTIONS=20  BASE_PORT=19080  FLASHD=out/bin/flashd
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION="${DURATION:-15}"
EVENT_AT="${EVENT_AT:-5}"
CONNECTIONS="${CONNECTIONS:-20}"
BASE_PORT="${BASE_PORT:-19080}"
FLASHD="${FLASHD:-$ROOT/out/bin/flashd}"
HEALTH=/.well-known/flashd/health
PROXY_PORT=$BASE_PORT
STATS_PORT=$((BASE_PORT + 1))
declare -A NODE_PID=()

usage() {
    echo "usage: $0 [-h|--help]"
    echo "  env: DURATION=$DURATION EVENT_AT=$EVENT_AT CONNECTIONS=$CONNECTIONS BASE_PORT=$BASE_PORT FLASHD=$FLASHD"
}

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

node_port() { echo $((BASE_PORT + 10 + $1)); }

# All pids of a process tree, the root first.
tree() {
    local queue=("$1") pid
    while ((${#queue[@]})); do
        pid=${queue[0]}
        queue=("${queue[@]:1}")
        [[ -d /proc/$pid ]] || continue
        echo "$pid"
        mapfile -t -O "${#queue[@]}" queue < <(pgrep -P "$pid" || true)
    done
}

start_node() {
    local n="$1" port
    port=$(node_port "$n")
    rm -rf "$TMP/node$n"
    mkdir -p "$TMP/node$n"
    "$FLASHD" start "$TMP/www" --listen "127.0.0.1:$port" --run-dir "$TMP/node$n/run" --workers 1 --access-log off \
        --Health "$HEALTH" --Helpers.Min 1 --Cgi.Runners 0 >"$TMP/node$n/console.log" 2>&1 &
    NODE_PID[$n]=$!
    local deadline=$((SECONDS + 20))
    until grep -q "ready: serving" "$TMP/node$n/console.log"; do
        kill -0 "${NODE_PID[$n]}" 2>/dev/null || { cat "$TMP/node$n/console.log" >&2; die "node $n exited"; }
        ((SECONDS < deadline)) || die "node $n did not get ready"
        sleep 0.1
    done
}

# The status (UP, DOWN, ...) HAProxy's stats page gives a server.
proxy_status() {
    curl -s "http://127.0.0.1:$STATS_PORT/stats;csv" | awk -F, -v s="$1" '$1 == "flashd" && $2 == s { print $18 }'
}

wait_status() {
    local server="$1" want="$2" deadline=$((SECONDS + 20))
    until [[ "$(proxy_status "$server")" == "$want"* ]]; do
        ((SECONDS < deadline)) || die "HAProxy never showed $server $want"
        sleep 0.05
    done
}

# scenario NAME ACTION: wrk through HAProxy; at EVENT_AT seconds ACTION runs against node 1; then the figures.
scenario() {
    local name="$1" action="$2" out wrk_pid start down_ms pids
    out="$TMP/wrk-$name.out"
    timeout $((DURATION + 30)) wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:$PROXY_PORT/1k.bin" >"$out" 2>&1 &
    wrk_pid=$!
    sleep "$EVENT_AT"
    start=$(date +%s%N)
    case "$action" in
        stop) kill -TERM "${NODE_PID[1]}" ;;
        kill) mapfile -t pids < <(tree "${NODE_PID[1]}"); kill -KILL "${pids[@]}" ;;
    esac
    wait_status n1 DOWN
    down_ms=$((($(date +%s%N) - start) / 1000000))
    wait "$wrk_pid" || die "wrk failed: $(cat "$out")"
    wait "${NODE_PID[1]}" 2>/dev/null || true
    awk -v name="$name" -v down="$down_ms" '
        / requests in / { requests = $1 }
        /Non-2xx or 3xx responses:/ { non2xx = $NF }
        /Socket errors:/ { line = $0; gsub(/[^0-9 ]/, " ", line); split(line, f, " "); errors = f[1] + f[2] + f[3] + f[4] }
        $1 == "99%" { p99 = $2 }
        END { printf "| %s | %d | %d | %d | %s | %d |\n", name, requests, non2xx + 0, errors + 0, p99, down }' "$out" >>"$TMP/summary"
}

cleanup() {
    trap - EXIT INT TERM
    local n pids=()
    [[ -z "${PROXY_PID:-}" ]] || kill -TERM "$PROXY_PID" 2>/dev/null || true
    for n in "${!NODE_PID[@]}"; do
        mapfile -t -O "${#pids[@]}" pids < <(tree "${NODE_PID[$n]}")
        kill -TERM "${NODE_PID[$n]}" 2>/dev/null || true
    done
    sleep 1
    ((${#pids[@]} == 0)) || kill -KILL "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    if [[ -n "${TMP:-}" && "$TMP" == */flashd-haproxy.* ]]; then
        rm -rf "$TMP"
    fi
}

main() {
    case "${1:-}" in
        -h | --help) usage; return 0 ;;
        "") ;;
        *) usage >&2; return 2 ;;
    esac
    local tool
    for tool in haproxy wrk curl; do
        command -v "$tool" >/dev/null || die "$tool not found (scripts/install-deps.sh --bench installs it)"
    done
    [[ -x "$FLASHD" ]] || die "no flashd at $FLASHD (scripts/publish.sh)"
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/flashd-haproxy.XXXXXX")
    chmod 0755 "$TMP"
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    mkdir -p "$TMP/www"
    head -c 1024 /dev/urandom >"$TMP/www/1k.bin"
    chmod -R a+rX "$TMP/www"

    start_node 1
    start_node 2
    local servers
    servers=$(printf '    server n1 127.0.0.1:%s\n    server n2 127.0.0.1:%s' "$(node_port 1)" "$(node_port 2)")
    sed -e "s|@PORT@|$PROXY_PORT|" -e "/@SERVERS@/{r /dev/stdin" -e "d}" "$ROOT/deploy/haproxy/haproxy.cfg.in" <<<"$servers" >"$TMP/haproxy.cfg"
    printf '\nfrontend stats\n    bind 127.0.0.1:%s\n    stats enable\n    stats uri /stats\n' "$STATS_PORT" >>"$TMP/haproxy.cfg"
    haproxy -f "$TMP/haproxy.cfg" -db >"$TMP/haproxy.log" 2>&1 &
    PROXY_PID=$!
    wait_status n1 UP
    wait_status n2 UP
    log "two nodes UP behind HAProxy on 127.0.0.1:$PROXY_PORT"

    echo "| scenario | requests | non-2xx | socket errors | p99 | node 1 DOWN after (ms) |" >"$TMP/summary"
    echo "|---|--:|--:|--:|--:|--:|" >>"$TMP/summary"
    log "graceful: node 1 stops at ${EVENT_AT}s of ${DURATION}s"
    scenario graceful-stop stop
    start_node 1
    wait_status n1 UP
    log "crash: node 1's processes get SIGKILL at ${EVENT_AT}s of ${DURATION}s"
    scenario kill-9 kill
    echo
    echo "deploy/haproxy/run.sh: 2 flashd nodes behind HAProxy $(haproxy -v | head -n1 | awk '{print $3}'), wrk -c$CONNECTIONS for ${DURATION}s, node 1 stopped or killed at ${EVENT_AT}s"
    echo
    cat "$TMP/summary"
}

main "$@"
