#!/usr/bin/env bash
# Many-connections test: 10,000 concurrent keep-alive connections against one server (flashd by
# default), server pinned to core 0 and wrk to core 1. Reports wrk's errors and the peak number of
# established server-side connections; exits 1 when any socket error or non-2xx response occurred,
# or when fewer connections than asked were ever open at once.
#
# The hard limit on open files on these machines is 20,000: the server and wrk each need one fd
# per connection (plus a few), so 10,000 fits and the script raises the soft limit to 20,000.
#
# usage: bench/connections.sh [--no-build] [-h|--help]
# env:   CONNECTIONS=10000  DURATION=10  SERVER=flashd (or nginx, lighttpd)  URL_PATH=/1k.bin
#        NOFILE=20000  WRK_TIMEOUT=10s  SERVER_CPU=0  CLIENT_CPU=1  BASE_PORT=18080
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONNECTIONS="${CONNECTIONS:-10000}"
DURATION="${DURATION:-10}"
SERVER="${SERVER:-flashd}"
URL_PATH="${URL_PATH:-/1k.bin}"
NOFILE="${NOFILE:-20000}"
WRK_TIMEOUT="${WRK_TIMEOUT:-10s}"

usage() {
    echo "usage: $0 [--no-build] [-h|--help]"
    echo "  env: CONNECTIONS=$CONNECTIONS DURATION=$DURATION SERVER=$SERVER URL_PATH=$URL_PATH"
    echo "       NOFILE=$NOFILE WRK_TIMEOUT=$WRK_TIMEOUT SERVER_CPU=$SERVER_CPU CLIENT_CPU=$CLIENT_CPU"
}

# Both wrk and the server inherit this limit; each needs one fd per connection.
check_fd_limit() {
    raise_fd_limit "$NOFILE"
    if ((CONNECTIONS + 100 > NOFILE)); then
        die "CONNECTIONS=$CONNECTIONS does not fit under NOFILE=$NOFILE"
    fi
}

# Samples the established count twice a second for SECONDS, writing the highest seen to FILE.
sample_peak() {
    local port="$1" seconds="$2" file="$3" peak=0 now
    local deadline=$((SECONDS + seconds))
    while ((SECONDS < deadline)); do
        now=$(established_count "$port")
        ((now > peak)) && peak=$now
        echo "$peak" >"$file"
        sleep 0.5
    done
}

main() {
    parse_bench_args "$@"
    port_of "$SERVER" >/dev/null

    check_fd_limit
    prepare "$BUILD" "$SERVER"
    require_tools curl wrk taskset pgrep awk

    make_bench_tmp
    install_traps
    local docroot="$BENCH_TMP/www"
    mkdir -m 0755 "$docroot"
    random_file "$docroot/1k.bin" 1024
    random_file "$docroot/64k.bin" 65536

    start_server "$SERVER" "$docroot"
    check_response "$SERVER" "$URL_PATH" 200 "$docroot$URL_PATH"
    local port="${SERVER_PORT[$SERVER]}" pid="${SERVER_PID[$SERVER]}"

    local peak_file="$BENCH_TMP/peak"
    echo 0 >"$peak_file"
    sample_peak "$port" $((DURATION + 2)) "$peak_file" &
    EXTRA_PIDS+=("$!")

    log "$SERVER: $CONNECTIONS connections for ${DURATION}s on $URL_PATH (open files limit $(ulimit -n))"
    local out="$BENCH_TMP/wrk.txt"
    run_wrk "http://127.0.0.1:$port$URL_PATH" "$DURATION" "$CONNECTIONS" "$out" --timeout "$WRK_TIMEOUT"
    kill -0 "$pid" 2>/dev/null || { show_server_logs "$SERVER"; die "$SERVER died during the run"; }
    check_response "$SERVER" "$URL_PATH" 200 "$docroot$URL_PATH"

    local parsed requests rps mibps p99 non2xx ce re we te peak
    parsed=$(parse_wrk "$out") || { cat "$out" >&2; die "cannot parse wrk output"; }
    IFS=$'\t' read -r requests rps mibps p99 non2xx ce re we te <<<"$parsed"
    peak=$(cat "$peak_file")

    echo
    cat "$out"
    echo
    echo "server:               $SERVER (pid $pid, core $SERVER_CPU)"
    echo "connections asked:    $CONNECTIONS"
    echo "peak established:     $peak (server side, sampled every 0.5 s)"
    echo "requests:             $requests ($rps req/s, $mibps MiB/s, p99 $p99 ms)"
    echo "non-2xx responses:    $non2xx"
    echo "socket errors:        connect $ce, read $re, write $we, timeout $te"

    local failed=0
    if ((ce + re + we + te > 0)); then
        echo "FAIL: socket errors"
        failed=1
    fi
    if ((non2xx > 0)); then
        echo "FAIL: non-2xx responses"
        failed=1
    fi
    if ((peak < CONNECTIONS)); then
        echo "FAIL: never had all $CONNECTIONS connections open at once (peak $peak)"
        failed=1
    fi
    if ((failed == 0)); then
        echo "OK: $CONNECTIONS concurrent keep-alive connections served without errors"
    fi
    return "$failed"
}

main "$@"
