#!/usr/bin/env bash
# Reload (and stop) under keep-alive load, side by side: while wrk keeps CONNECTIONS keep-alive
# connections busy on a cached file, each server reloads its configuration RELOADS times (flashd:
# flashctl reload; nginx: SIGHUP; lighttpd: SIGUSR1, its graceful restart). A client should see no
# error at all: a draining process must not close a connection under a request in flight. Then the
# same load against a stop (flashctl stop; nginx: SIGQUIT, its graceful stop; lighttpd: SIGINT, its
# graceful shutdown), where refused reconnects after the listener closes are expected (wrk counts
# them as connect or write errors) and read errors are connections closed under a request.
#
# usage: bench/reload.sh [--no-build] [-h|--help]
# env:   DURATION=10  ROUNDS=3  RELOADS=2  CONNECTIONS=50  SERVERS="flashd nginx lighttpd"
#        SERVER_CPU=0  CLIENT_CPU=1  BASE_PORT=18080  FLASHD=out/bin/flashd
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"
RELOADS="${RELOADS:-2}"
CONNECTIONS="${CONNECTIONS:-50}"
SERVERS="${SERVERS:-flashd nginx lighttpd}"

usage() {
    echo "usage: $0 [--no-build] [-h|--help]"
    echo "  env: DURATION=$DURATION ROUNDS=$ROUNDS RELOADS=$RELOADS CONNECTIONS=$CONNECTIONS SERVERS=\"$SERVERS\""
}

# signal_server NAME ACTION: reload or stop one server the way its users do.
signal_server() {
    local name="$1" action="$2" pid="${SERVER_PID[$1]}"
    case "$(server_kind "$name"):$action" in
        flashd:reload) "$(dirname "$FLASHD")/flashctl" reload --run-dir "$BENCH_TMP/$name/run" >/dev/null ;;
        flashd:stop) "$(dirname "$FLASHD")/flashctl" stop --run-dir "$BENCH_TMP/$name/run" >/dev/null ;;
        nginx:reload) kill -HUP "$pid" ;;
        nginx:stop) kill -QUIT "$pid" ;;
        lighttpd:reload) kill -USR1 "$pid" ;;
        lighttpd:stop) kill -INT "$pid" ;;
    esac
}

# run_one ROUND SERVER ACTION: a fresh server, wrk for DURATION seconds, and ACTION (reload: RELOADS
# times, evenly spread; stop: once, at two thirds of the run). Appends one result line.
run_one() {
    local round="$1" name="$2" action="$3" out i gap
    rm -rf -- "${BENCH_TMP:?}/$name" # a fresh server each run: no state from the last one
    start_server "$name" "$DOCROOT"
    check_response "$name" /1k.bin 200 "$DOCROOT/1k.bin"
    out="$BENCH_TMP/wrk-$name-$action-$round.txt"
    start_wrk "http://127.0.0.1:${SERVER_PORT[$name]}/1k.bin" "$DURATION" "$CONNECTIONS" "$out"
    local wrk_pid="$WRK_STARTED"
    # The sleeps are the benchmark's schedule (reloads evenly spread over the run), not a wait for readiness.
    if [[ $action == reload ]]; then
        gap=$(awk -v d="$DURATION" -v n="$RELOADS" 'BEGIN { print d / (n + 1) }')
        for ((i = 1; i <= RELOADS; i++)); do
            sleep "$gap"
            signal_server "$name" reload
        done
    else
        sleep "$(awk -v d="$DURATION" 'BEGIN { print d * 2 / 3 }')"
        signal_server "$name" stop
    fi
    reap_wrk "$wrk_pid" || true
    local parsed
    parsed=$(parse_wrk "$out") || { cat "$out" >&2; die "$name: no wrk result"; }
    printf '%s\t%s\t%s\t%s\n' "$action" "$name" "$round" "$parsed" >>"$RESULTS"
    log "$name $action round $round: $(echo "$parsed" | awk -F'\t' '{ printf "%d requests, non-2xx %d, errors: connect %d read %d write %d timeout %d", $1, $5, $6, $7, $8, $9 }')"
    stop_servers
}

report() {
    echo
    echo "| action | server | requests (median) | non-2xx (sum) | connect errors (sum) | read errors (sum) | write errors (sum) | timeouts (sum) |"
    echo "|---|---|--:|--:|--:|--:|--:|--:|"
    local action server
    for action in reload stop; do
        for server in $SERVERS; do
            local median sums
            median=$(awk -F'\t' -v a="$action" -v s="$server" '$1 == a && $2 == s { print $4 }' "$RESULTS" | sort -n \
                | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
            [[ -n "$median" ]] || continue
            sums=$(awk -F'\t' -v a="$action" -v s="$server" '
                $1 == a && $2 == s { non += $8; ce += $9; re += $10; we += $11; te += $12 }
                END { printf "%d | %d | %d | %d | %d", non, ce, re, we, te }' "$RESULTS")
            echo "| $action | $server | $median | $sums |"
        done
    done
    echo
    echo "reload: $ROUNDS rounds of $DURATION s, $RELOADS reloads each, wrk -c$CONNECTIONS on a cached 1 KiB file;"
    echo "stop: one stop at two thirds of each run. After it nothing listens, so wrk's reconnects are refused: wrk"
    echo "counts those as connect or write errors. Read errors are connections closed under a request."
}

main() {
    local build=1
    parse_bench_args "$@"
    build="$BUILD" # set by parse_bench_args
    prepare "$build" "$SERVERS"
    require_tools wrk curl taskset
    make_bench_tmp
    install_traps
    RESULTS="$BENCH_TMP/results.tsv"
    : >"$RESULTS"
    DOCROOT="$BENCH_TMP/www"
    mkdir -m 0755 "$DOCROOT"
    random_file "$DOCROOT/1k.bin" 1024
    local round server action
    for action in reload stop; do
        for ((round = 1; round <= ROUNDS; round++)); do
            for server in $SERVERS; do
                run_one "$round" "$server" "$action"
            done
        done
    done
    report
}

main "$@"
