#!/usr/bin/env bash
# Shared listen socket (EPOLLEXCLUSIVE; taking up to 64 connections per wakeup, "shared", or one, "shared1") against
# one SO_REUSEPORT socket per process ("reuseport"): the choice behind flashd's
# Workers, measured on its own with bench/accept-balance.c (WORKERS processes answering a fixed 1 KB response,
# their sockets kept by a parent that restarts a killed one after RESTART_MS, as flashd's supervisor does).
# For each mode, ROUNDS rounds, interleaved:
#   - keep-alive: wrk -c CONNECTIONS, how the connections' requests spread over the workers;
#   - a connection per request (Connection: close): how accepts spread, req/s and p99;
#   - a crash: the same load, worker 0 killed with SIGKILL after CRASH_AFTER seconds, restarted RESTART_MS later:
#     wrk's errors, timeouts, p99 and the slowest request, the price of the connections queued for the dead one.
# Server processes on cores 0..WORKERS-1 (shared with each other when the machine has fewer), wrk on the last core.
#
# usage: bench/accept.sh [-h|--help]
# env:   WORKERS=2  DURATION=6  ROUNDS=3  CONNECTIONS=100  RESTART_MS=300  CRASH_AFTER=2  BASE_PORT=18080
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORKERS="${WORKERS:-2}"
DURATION="${DURATION:-6}"
ROUNDS="${ROUNDS:-3}"
CONNECTIONS="${CONNECTIONS:-100}"
RESTART_MS="${RESTART_MS:-300}"
CRASH_AFTER="${CRASH_AFTER:-2}"
CORES=$(nproc)

usage() {
    echo "usage: $0 [-h|--help]"
    echo "  env: WORKERS=$WORKERS DURATION=$DURATION ROUNDS=$ROUNDS CONNECTIONS=$CONNECTIONS RESTART_MS=$RESTART_MS CRASH_AFTER=$CRASH_AFTER"
}

# start_balancer MODE: the experiment's server in the background; its pid in BALANCER, its output in $BENCH_TMP/balancer.out.
start_balancer() {
    local port=$((BASE_PORT + 7)) last=$((WORKERS < CORES ? WORKERS - 1 : CORES - 2))
    ((last >= 0)) || last=0
    port_listening "$port" && die "port $port is in use; set BASE_PORT"
    taskset -c "0-$last" "$BENCH_TMP/accept-balance" "$1" "$WORKERS" "$port" "$RESTART_MS" >"$BENCH_TMP/balancer.out" 2>&1 &
    BALANCER=$!
    EXTRA_PIDS+=("$BALANCER")
    URL="http://127.0.0.1:$port/"
    local deadline=$((SECONDS + 10))
    until curl -s -o /dev/null --max-time 1 "$URL"; do
        ((SECONDS < deadline)) || die "accept-balance did not answer"
        sleep 0.05
    done
}

stop_balancer() {
    kill -TERM "$BALANCER" 2>/dev/null || true
    wait "$BALANCER" 2>/dev/null || true
}

# The per-worker counts since the last call, as percentages "a/b/..".
shares() {
    local before="$1" after
    kill -USR1 "$BALANCER"
    sleep 0.1
    after=$(grep '^served' "$BENCH_TMP/balancer.out" | tail -n1 | cut -d' ' -f2-)
    paste -d' ' <(tr ' ' '\n' <<<"$before") <(tr ' ' '\n' <<<"$after") |
        awk '{ d[NR] = $2 - $1; t += d[NR] } END { for (i = 1; i <= NR; i++) printf "%s%.0f%%", (i > 1 ? "/" : ""), (t > 0 ? 100 * d[i] / t : 0) }'
    echo
    COUNTS="$after"
}

counts_now() {
    kill -USR1 "$BALANCER"
    sleep 0.1
    COUNTS=$(grep '^served' "$BENCH_TMP/balancer.out" | tail -n1 | cut -d' ' -f2-)
}

# run_case ROUND MODE CASE [wrk args...]: one wrk run, one results line: round mode case req/s p99 max errors shares.
run_case() {
    local round="$1" mode="$2" case="$3" out="$BENCH_TMP/wrk-$1-$2-$3.txt" parsed max share
    shift 3
    counts_now
    local before="$COUNTS"
    start_wrk "$URL" "$DURATION" "$CONNECTIONS" "$out" "$@"
    local wrk=$WRK_STARTED
    if [[ $case == crash ]]; then
        sleep "$CRASH_AFTER"
        kill -USR2 "$BALANCER"
    fi
    wait_wrk "$wrk" "$URL" "$out"
    parsed=$(parse_wrk "$out") || { cat "$out" >&2; die "cannot parse wrk output"; }
    local requests rps mibps p99 non2xx ce re we te
    IFS=$'\t' read -r requests rps mibps p99 non2xx ce re we te <<<"$parsed"
    max=$(awk '$1 == "Latency" { print $4; exit }' "$out")
    share=$(shares "$before")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$mode" "$case" "$rps" "$p99" "$max" "$((non2xx + ce + re + we + te))" "$share" >>"$RESULTS"
    log "$(printf 'round %s %-9s %-10s %10s req/s  p99 %8s ms  max %8s  errors %s  per worker %s' "$round" "$mode" "$case" "$rps" "$p99" "$max" \
        "$((non2xx + ce + re + we + te))" "$share")"
}

median() {
    awk -F'\t' -v c="$1" -v m="$2" -v k="$3" '$2 == m && $3 == k { print $c }' "$RESULTS" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit } printf "%s\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

main() {
    [[ "${1:-}" == -h || "${1:-}" == --help ]] && { usage; exit 0; }
    require_tools wrk curl taskset cc
    ((CORES > 1)) || die "needs two cores (one for wrk)"
    make_bench_tmp
    install_traps
    cc -O2 -Wall -o "$BENCH_TMP/accept-balance" "$BENCH_ROOT/bench/accept-balance.c"
    RESULTS="$BENCH_TMP/results.tsv"
    : >"$RESULTS"
    CLIENT_CPU=$((CORES - 1))
    local round mode
    for ((round = 1; round <= ROUNDS; round++)); do
        for mode in shared shared1 reuseport; do
            start_balancer "$mode"
            run_case "$round" "$mode" keep-alive
            run_case "$round" "$mode" per-request -H "Connection: close"
            run_case "$round" "$mode" crash -H "Connection: close"
            stop_balancer
        done
    done

    local md="$BENCH_ROOT/bench/results/accept-$(date +%Y%m%d-%H%M%S).md" case
    mkdir -p "$(dirname "$md")"
    {
        echo "# Shared listen socket (EPOLLEXCLUSIVE) or SO_REUSEPORT, $(date '+%Y-%m-%d %H:%M:%S %Z')"
        echo
        echo "- $WORKERS worker processes on cores 0-$((WORKERS < CORES ? WORKERS - 1 : CORES - 2)), wrk -t1 -c$CONNECTIONS on core $CLIENT_CPU, ${DURATION}s runs, $ROUNDS rounds; $CORES cores, kernel $(uname -r)"
        echo "- crash: worker 0 killed (SIGKILL) ${CRASH_AFTER}s into the run, restarted ${RESTART_MS} ms later on the same socket"
        echo
        echo "| case | mode | req/s | p99 ms | slowest | errors | per worker (last round) |"
        echo "|---|---|--:|--:|--:|--:|---|"
        for case in keep-alive per-request crash; do
            for mode in shared shared1 reuseport; do
                echo "| $case | $mode | $(median 4 "$mode" "$case") | $(median 5 "$mode" "$case") | $(awk -F'\t' -v m="$mode" -v k="$case" '$2 == m && $3 == k { x = $6 } END { print x }' "$RESULTS") | $(awk -F'\t' -v m="$mode" -v k="$case" '$2 == m && $3 == k { t += $7 } END { print t + 0 }' "$RESULTS") | $(awk -F'\t' -v m="$mode" -v k="$case" '$2 == m && $3 == k { x = $8 } END { print x }' "$RESULTS") |"
            done
        done
        echo
        echo "## Raw runs"
        echo
        echo "| round | mode | case | req/s | p99 ms | slowest | errors | per worker |"
        echo "|--:|---|---|--:|--:|--:|--:|---|"
        awk -F'\t' -v OFS=' | ' '{ $1 = $1; print "| " $0 " |" }' "$RESULTS"
    } >"$md"
    cat "$md"
    log "saved $md"
}

main "$@"
