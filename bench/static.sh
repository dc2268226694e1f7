#!/usr/bin/env bash
# Side-by-side static-file benchmark: flashd, nginx and lighttpd on the same files, each server
# pinned to core 0 and wrk pinned to core 1, runs interleaved A B C A B C, medians reported.
# See bench/README.md for the method and how to read the table.
#
# usage: bench/static.sh [--no-build] [-h|--help]
# env:   DURATION=10  ROUNDS=3  WARMUP=2  CONNECTIONS=50  SERVERS="flashd nginx lighttpd"
#        WORKLOADS="/1k.bin /4k.bin /16k.bin /64k.bin /256k.bin /1m.bin /missing.bin" (any subset, in that form)
#        (SERVERS may also name "amped" and "sped": flashd in that architecture, for the cached comparison;
#        "sol" is bench/sol.c, a minimal C epoll responder with prebuilt responses: the floor)
#        SERVER_CPU=0  CLIENT_CPU=1  BASE_PORT=18080  FLASHD=out/bin/flashd  FLASHD_CONFIG=bench/conf/flashd.json
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-2}"
CONNECTIONS="${CONNECTIONS:-50}"
SERVERS="${SERVERS:-flashd nginx lighttpd sol}"
readonly NOT_FOUND=/missing.bin
read -r -a WORKLOADS <<<"${WORKLOADS:-/1k.bin /4k.bin /16k.bin /64k.bin /256k.bin /1m.bin $NOT_FOUND}"

usage() {
    echo "usage: $0 [--no-build] [-h|--help]"
    echo "  env: DURATION=$DURATION ROUNDS=$ROUNDS WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS WORKLOADS=\"${WORKLOADS[*]}\""
    echo "       SERVERS=\"$SERVERS\" SERVER_CPU=$SERVER_CPU CLIENT_CPU=$CLIENT_CPU BASE_PORT=$BASE_PORT"
}

check_number() {
    [[ "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] || die "$1 must be a positive whole number (got '$2')"
}

# Every workload must be one of the files make_static_docroot writes, or the 404 path.
check_workloads() {
    local path size known
    for path in "${WORKLOADS[@]}"; do
        known=0
        [[ $path == "$NOT_FOUND" ]] && known=1
        for size in "${STATIC_SIZES[@]}"; do
            [[ $path == "/${size%%:*}.bin" ]] && known=1
        done
        ((known)) || die "unknown workload '$path' (known: ${STATIC_SIZES[*]%%:*} as /NAME.bin, and $NOT_FOUND)"
    done
}

start_all() {
    local server path
    for server in $SERVERS; do
        if [[ $server == flashd && -n "${FLASHD_CONFIG:-}" ]]; then
            SERVER_CONFIG[flashd]="$FLASHD_CONFIG" # another configuration to measure (a threshold, a mode)
        fi
        if [[ $server == amped || $server == sped ]]; then
            # flashd in one architecture, to compare the two on cached files (SERVERS="amped sped")
            SERVER_CONFIG[$server]="$BENCH_TMP/flashd-$server.json"
            printf '{ "AccessLog": "off", "Architecture": "%s" }\n' "$server" >"${SERVER_CONFIG[$server]}"
        fi
        start_server "$server" "$DOCROOT"
        for path in "${WORKLOADS[@]}"; do
            if [[ $path == "$NOT_FOUND" ]]; then
                check_response "$server" "$NOT_FOUND" 404
            else
                check_response "$server" "$path" 200 "$DOCROOT$path"
            fi
        done
    done
}

# measure ROUND WORKLOAD SERVER: one wrk run with the CPU counters read around it; appends a
# line to $RESULTS and prints progress.
measure() {
    local round="$1" path="$2" server="$3"
    local url="http://127.0.0.1:${SERVER_PORT[$server]}$path"
    local out="$BENCH_TMP/wrk-$round-${path#/}-$server.txt"
    local pid="${SERVER_PID[$server]}"
    local core_before core_after proc_before proc_after parsed

    core_before=$(core_busy_ticks "$SERVER_CPU")
    proc_before=$(tree_cpu_ticks "$pid")
    run_wrk "$url" "$DURATION" "$CONNECTIONS" "$out"
    core_after=$(core_busy_ticks "$SERVER_CPU")
    proc_after=$(tree_cpu_ticks "$pid")
    kill -0 "$pid" 2>/dev/null || { show_server_logs "$server"; die "$server died during the run"; }

    parsed=$(parse_wrk "$out") || { cat "$out" >&2; die "cannot parse wrk output for $url"; }
    local requests rps mibps p99 non2xx ce re we te
    IFS=$'\t' read -r requests rps mibps p99 non2xx ce re we te <<<"$parsed"
    ((requests > 0)) || { cat "$out" >&2; die "$server completed no request for $path"; }

    local core_us proc_us
    core_us=$(awk -v d=$((core_after - core_before)) -v hz="$CLK_TCK" -v n="$requests" \
        'BEGIN { printf "%.2f", d * (1e6 / hz) / n }')
    proc_us=$(awk -v d=$((proc_after - proc_before)) -v hz="$CLK_TCK" -v n="$requests" \
        'BEGIN { printf "%.2f", d * (1e6 / hz) / n }')

    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$round" "$path" "$server" "$requests" "$rps" "$mibps" "$p99" "$core_us" "$proc_us" \
        "$non2xx" "$ce" "$re" "$we" "$te" >>"$RESULTS"
    log "$(printf 'round %s %-12s %-8s %10s req/s %9s MiB/s  p99 %8s ms  core0 %7s us/req  proc %7s us/req  non-2xx %s  sock-err c%s r%s w%s t%s' \
        "$round" "$path" "$server" "$rps" "$mibps" "$p99" "$core_us" "$proc_us" "$non2xx" "$ce" "$re" "$we" "$te")"
}

run_rounds() {
    local round path server
    declare -A warmed=()
    for ((round = 1; round <= ROUNDS; round++)); do
        for path in "${WORKLOADS[@]}"; do
            for server in $SERVERS; do
                    if [[ -z "${warmed[$server$path]:-}" ]]; then
                    run_wrk "http://127.0.0.1:${SERVER_PORT[$server]}$path" "$WARMUP" "$CONNECTIONS" \
                        "$BENCH_TMP/warmup.txt"
                    warmed[$server$path]=1
                fi
                measure "$round" "$path" "$server"
            done
        done
    done
}

# median COLUMN PATH SERVER FORMAT: median of one results column over the rounds, printf-formatted.
median() {
    awk -F'\t' -v c="$1" -v p="$2" -v s="$3" '$2 == p && $3 == s { print $c }' "$RESULTS" |
        sort -g |
        awk -v fmt="$4\n" '{ v[NR] = $1 } END {
            if (NR == 0) { print "n/a"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf fmt, m }'
}

# total COLUMN PATH SERVER: sum of one results column over the rounds.
total() {
    awk -F'\t' -v c="$1" -v p="$2" -v s="$3" '$2 == p && $3 == s { t += $c } END { printf "%d\n", t }' "$RESULTS"
}

# ratio_to COLUMN PATH SERVER OTHER: SERVER's median of COLUMN over OTHER's, "n/a" when OTHER did not run.
ratio_to() {
    [[ " $SERVERS " == *" $4 "* ]] || { echo "n/a"; return; }
    awk -v a="$(median "$1" "$2" "$3" %.4f)" -v b="$(median "$1" "$2" "$4" %.4f)" \
        'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'
}

# meets_goal PATH SERVER: issue 11's goal for one workload: req/s >= 1.15x lighttpd's, or core CPU per
# request <= 0.85x lighttpd's.
meets_goal() {
    at_most "$(median 5 "$1" lighttpd %.4f)" "$(median 5 "$1" "$2" %.4f)" "$(awk 'BEGIN { print 1 / 1.15 }')" ||
        at_most "$(median 8 "$1" "$2" %.4f)" "$(median 8 "$1" lighttpd %.4f)" 0.85
}

# The goal, workload by workload, for flashd (and amped, sped); and whether the floor itself (sol, which
# only makes the syscalls) meets it: where it does not, no server on this machine can.
goals() {
    [[ " $SERVERS " == *" lighttpd "* ]] || return 0
    echo
    echo "## Issue 11: req/s >= 1.15x lighttpd's or core CPU per request <= 0.85x"
    echo
    local path server floor
    for path in "${WORKLOADS[@]}"; do
        floor=""
        if [[ " $SERVERS " == *" sol "* ]]; then
            if meets_goal "$path" sol; then
                floor="; the floor meets it (sol: $(ratio_to 5 "$path" sol lighttpd) req/s, $(ratio_to 8 "$path" sol lighttpd) CPU)"
            else
                floor="; the floor does not (sol: $(ratio_to 5 "$path" sol lighttpd) req/s, $(ratio_to 8 "$path" sol lighttpd) CPU): no server here can"
            fi
        fi
        for server in flashd amped sped; do
            [[ " $SERVERS " == *" $server "* ]] || continue
            verdict "$path $server: $(ratio_to 5 "$path" "$server" lighttpd) req/s, $(ratio_to 8 "$path" "$server" lighttpd) CPU, $(ratio_to 8 "$path" "$server" sol) of sol's CPU$floor" \
                meets_goal "$path" "$server"
        done
    done
}

# Prints the markdown report: header, summary table, warnings, raw runs.
report() {
    local path server rps ratio ratio_l cpu_l cpu_s mibps p99 core proc requests non2xx ce re we te errors
    echo "# Static-file benchmark, $(date '+%Y-%m-%d %H:%M:%S %Z')"
    echo
    echo "- servers: $SERVERS; workloads: ${WORKLOADS[*]}"
    echo "- rounds: $ROUNDS interleaved, ${DURATION}s each, ${WARMUP}s warm-up per server and workload"
    echo "- wrk: \`taskset -c $CLIENT_CPU wrk -t1 -c$CONNECTIONS -d${DURATION}s --latency\`; servers on core $SERVER_CPU"
    echo "- machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r)"
    echo "- load average at start: $LOAD_AT_START"
    if awk -v l="${LOAD_AT_START%% *}" 'BEGIN { exit !(l > 0.5) }'; then
        echo "- NOTE: the machine was not idle at the start; other work on core $SERVER_CPU inflates the core-$SERVER_CPU CPU column and slows the servers"
    fi
    echo "- versions: $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(lighttpd -v 2>&1 | head -n1 | awk '{ print $1 }'), $(wrk -v 2>&1 | head -n1 | awk '{ print $1, $2 }'), flashd at $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    echo "Medians over $ROUNDS round(s). CPU columns are microseconds per request: core $SERVER_CPU's busy time"
    echo "(all processes, kernel included) and the server's own processes (user+system). The goal (issue 11):"
    echo "req/s >= 1.15x lighttpd's, or where wrk saturates first, core CPU per request <= 0.85x lighttpd's."
    echo
    echo "| workload | server | req/s | vs nginx | vs lighttpd | MiB/s | p99 ms | core-$SERVER_CPU CPU µs/req | CPU vs lighttpd | CPU vs sol | server CPU µs/req | non-2xx | socket errors |"
    echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
    for path in "${WORKLOADS[@]}"; do
        for server in $SERVERS; do
            rps=$(median 5 "$path" "$server" %.0f)
            ratio=$(ratio_to 5 "$path" "$server" nginx)
            ratio_l=$(ratio_to 5 "$path" "$server" lighttpd)
            cpu_l=$(ratio_to 8 "$path" "$server" lighttpd)
            cpu_s=$(ratio_to 8 "$path" "$server" sol)
            mibps=$(median 6 "$path" "$server" %.1f)
            p99=$(median 7 "$path" "$server" %.2f)
            core=$(median 8 "$path" "$server" %.2f)
            proc=$(median 9 "$path" "$server" %.2f)
            non2xx=$(total 10 "$path" "$server")
            ce=$(total 11 "$path" "$server")
            re=$(total 12 "$path" "$server")
            we=$(total 13 "$path" "$server")
            te=$(total 14 "$path" "$server")
            errors="0"
            if ((ce + re + we + te > 0)); then
                errors="connect $ce, read $re, write $we, timeout $te"
            fi
            echo "| $path | $server | $rps | $ratio | $ratio_l | $mibps | $p99 | $core | $cpu_l | $cpu_s | $proc | $non2xx | $errors |"
        done
    done
    goals
    echo
    echo "## Checks"
    echo
    local warnings=0
    for path in "${WORKLOADS[@]}"; do
        for server in $SERVERS; do
            requests=$(total 4 "$path" "$server")
            non2xx=$(total 10 "$path" "$server")
            errors=$(awk -F'\t' -v p="$path" -v s="$server" \
                '$2 == p && $3 == s { t += $11 + $12 + $13 + $14 } END { printf "%d\n", t }' "$RESULTS")
            if [[ "$path" == "$NOT_FOUND" && "$non2xx" != "$requests" ]]; then
                echo "- WARNING: $server $path: only $non2xx of $requests responses were non-2xx (expected all: 404)"
                warnings=$((warnings + 1))
            elif [[ "$path" != "$NOT_FOUND" && "$non2xx" != 0 ]]; then
                echo "- WARNING: $server $path: $non2xx non-2xx/3xx responses"
                warnings=$((warnings + 1))
            fi
            if ((errors > 0)); then
                echo "- WARNING: $server $path: $errors socket errors (see table)"
                warnings=$((warnings + 1))
            fi
        done
    done
    if ((warnings == 0)); then
        echo "- all runs: no socket errors; non-2xx only on $NOT_FOUND, and there on every response (404)"
    fi
    echo
    echo "## Raw runs"
    echo
    echo "| round | workload | server | requests | req/s | MiB/s | p99 ms | core µs/req | server µs/req | non-2xx | connect | read | write | timeout |"
    echo "|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    awk -F'\t' -v OFS=' | ' '{ $1 = $1; print "| " $0 " |" }' "$RESULTS"
}

main() {
    parse_bench_args "$@"
    check_number DURATION "$DURATION"
    check_number ROUNDS "$ROUNDS"
    check_number WARMUP "$WARMUP"
    check_number CONNECTIONS "$CONNECTIONS"
    check_workloads
    local server
    for server in $SERVERS; do port_of "$server" >/dev/null; done

    prepare "$BUILD" "$SERVERS"
    require_tools curl wrk taskset pgrep awk
    CLK_TCK=$(getconf CLK_TCK)
    LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
    local runs=0 path
    for path in "${WORKLOADS[@]}"; do
        for server in $SERVERS; do
            runs=$((runs + 1))
        done
    done
    log "about $(((ROUNDS * DURATION + WARMUP) * runs + 10))s of measuring ahead"

    make_bench_tmp
    install_traps
    RESULTS="$BENCH_TMP/results.tsv"
    : >"$RESULTS"
    make_static_docroot "$BENCH_TMP/www"
    start_all
    run_rounds
    stop_servers

    local results_dir="$BENCH_ROOT/bench/results" md
    mkdir -p "$results_dir"
    md="$results_dir/static-$(date +%Y%m%d-%H%M%S).md"
    report >"$md"
    echo
    cat "$md"
    echo
    log "saved $md"
}

main "$@"
