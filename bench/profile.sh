#!/usr/bin/env bash
# Where one server's CPU goes on one static workload: the server pinned to core 0 and wrk to core 1
# as in bench/static.sh, and while wrk runs, perf records everything on core 0 (call graphs) and
# counts its syscalls. Prints requests/s, core-0 CPU and syscalls per request and the profile, and
# saves them as bench/results/profile-SERVER-WORKLOAD-YYYYMMDD-HHMMSS.txt. The tool behind the
# changes that bench/static.sh measures: compare two servers, or two flashd builds, on one workload.
#
# usage: bench/profile.sh [--no-build] [-h|--help]
# env:   SERVER=flashd (or amped, sped, nginx, lighttpd, sol)  URL_PATH=/1k.bin (a static.sh workload)
#        DURATION=10  WARMUP=2  CONNECTIONS=50  FLASHD_CONFIG=bench/conf/flashd.json
#        SERVER_CPU=0  CLIENT_CPU=1  BASE_PORT=18080  FLASHD=out/bin/flashd
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVER="${SERVER:-flashd}"
URL_PATH="${URL_PATH:-/1k.bin}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
CONNECTIONS="${CONNECTIONS:-50}"

usage() {
    echo "usage: $0 [--no-build] [-h|--help]"
    echo "  env: SERVER=$SERVER URL_PATH=$URL_PATH DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS"
    echo "       FLASHD_CONFIG=${FLASHD_CONFIG:-bench/conf/flashd.json} SERVER_CPU=$SERVER_CPU CLIENT_CPU=$CLIENT_CPU"
}

# Core SERVER_CPU's syscalls during SECONDS (perf stat of raw_syscalls:sys_enter), in the background;
# the count lands in FILE.
count_syscalls() {
    taskset -c "$CLIENT_CPU" perf stat -x, -e raw_syscalls:sys_enter -C "$SERVER_CPU" -o "$1" -- sleep "$2" \
        2>>"$BENCH_TMP/perf.err" &
    EXTRA_PIDS+=("$!")
    COUNT_STARTED=$!
}

main() {
    parse_bench_args "$@"
    prepare "$BUILD" "$(server_kind "$SERVER")"
    require_tools curl wrk taskset perf awk
    port_of "$SERVER" >/dev/null
    if [[ $SERVER == sol && $URL_PATH != /1k.bin ]]; then
        die "sol answers /1k.bin only"
    fi
    CLK_TCK=$(getconf CLK_TCK)
    make_bench_tmp
    install_traps
    make_static_docroot "$BENCH_TMP/www"
    case "$SERVER" in
        flashd) [[ -z "${FLASHD_CONFIG:-}" ]] || SERVER_CONFIG[flashd]="$FLASHD_CONFIG" ;;
        amped | sped)
            SERVER_CONFIG[$SERVER]="$BENCH_TMP/flashd-$SERVER.json"
            printf '{ "AccessLog": "off", "Architecture": "%s" }\n' "$SERVER" >"${SERVER_CONFIG[$SERVER]}"
            ;;
    esac
    start_server "$SERVER" "$DOCROOT"
    local url="http://127.0.0.1:${SERVER_PORT[$SERVER]}$URL_PATH"
    run_wrk "$url" "$WARMUP" "$CONNECTIONS" "$BENCH_TMP/warmup.txt"

    local data="$BENCH_TMP/perf.data" counts="$BENCH_TMP/syscalls.csv" perf_pid count_pid core_before core_after
    core_before=$(core_busy_ticks "$SERVER_CPU")
    perf_record_core "$data" "$DURATION"
    perf_pid=$PERF_STARTED
    count_syscalls "$counts" "$DURATION"
    count_pid=$COUNT_STARTED
    run_wrk "$url" "$DURATION" "$CONNECTIONS" "$BENCH_TMP/wrk.txt"
    perf_wait "$perf_pid"
    perf_wait "$count_pid"
    core_after=$(core_busy_ticks "$SERVER_CPU")
    kill -0 "${SERVER_PID[$SERVER]}" 2>/dev/null || { show_server_logs "$SERVER"; die "$SERVER died during the run"; }
    stop_servers

    local parsed requests rps syscalls
    parsed=$(parse_wrk "$BENCH_TMP/wrk.txt") || { cat "$BENCH_TMP/wrk.txt" >&2; die "cannot parse wrk output"; }
    IFS=$'\t' read -r requests rps _ <<<"$parsed"
    ((requests > 0)) || die "$SERVER completed no request"
    syscalls=$(awk -F, '$3 ~ /raw_syscalls:sys_enter/ { print $1 }' "$counts")

    local results_dir="$BENCH_ROOT/bench/results" out
    mkdir -p "$results_dir"
    out="$results_dir/profile-$SERVER-${URL_PATH#/}-$(date +%Y%m%d-%H%M%S).txt"
    {
        echo "# $SERVER on $URL_PATH: $(printf '%.0f' "$rps") req/s with wrk -c$CONNECTIONS, core $SERVER_CPU" \
            "$(awk -v d=$((core_after - core_before)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.2f", d * (1e6 / hz) / n }') µs/req," \
            "$(awk -v s="${syscalls:-0}" -v n="$requests" 'BEGIN { printf "%.2f", s / n }') syscalls/req (perf recording: figures a few per cent worse than static.sh's)"
        perf_summary "$data" "core $SERVER_CPU, $SERVER serving $URL_PATH"
    } >"$out"
    head -n 60 "$out"
    log "saved $out"
}

main "$@"
