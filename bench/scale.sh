#!/usr/bin/env bash
# Multi-core scaling, side by side: flashd with Workers N against nginx with worker_processes N on the same
# cached files. Pinned runs: the server on cores 0..N-1 and wrk (one thread per core) on the cores left, for
# every N from 1 to (cores - 1); on a 2-core machine that is N=1 only, and the script says so. Then an unpinned
# run: server and wrk free on every core, each server with 1 main/worker and with one per core, which shows
# what the extra mains cost where they share cores with the client. Rounds interleaved, medians reported.
#
# CPU per request is the server's own processes (user+system of the whole tree: mains, helpers, nginx's
# workers) over the requests wrk completed. For flashd the share of requests each main served is read from
# `flashctl status` after every run (the balance of the shared listen socket across mains).
#
# usage: bench/scale.sh [--no-build] [-h|--help]
# env:   DURATION=10  ROUNDS=3  WARMUP=2  CONNECTIONS=100  WORKLOADS="/1k.bin /64k.bin"  SERVERS="flashd nginx"
#        NS="1 .. cores-1" (the pinned worker counts)  UNPINNED=1 (0: skip the unpinned run)
#        BASE_PORT=18080  FLASHD=out/bin/flashd
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-2}"
CONNECTIONS="${CONNECTIONS:-100}"
SERVERS="${SERVERS:-flashd nginx}"
UNPINNED="${UNPINNED:-1}"
read -r -a WORKLOADS <<<"${WORKLOADS:-/1k.bin /64k.bin}"
CORES=$(nproc)
read -r -a NS <<<"${NS:-$(seq -s ' ' 1 $((CORES > 1 ? CORES - 1 : 1)))}"

usage() {
    echo "usage: $0 [--no-build] [-h|--help]"
    echo "  env: DURATION=$DURATION ROUNDS=$ROUNDS WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS WORKLOADS=\"${WORKLOADS[*]}\""
    echo "       SERVERS=\"$SERVERS\" NS=\"${NS[*]}\" UNPINNED=$UNPINNED BASE_PORT=$BASE_PORT FLASHD=$FLASHD"
}

# The placements, one per line: LABEL  WORKERS  SERVER_CPUS  CLIENT_CPUS  WRK_THREADS. WORKERS is a number;
# "all" cores means unpinned (taskset to every core is no pinning at all).
placements() {
    local n all="0-$((CORES - 1))"
    for n in "${NS[@]}"; do
        echo "pinned-$n $n $(cpu_range 0 $((n - 1))) $(cpu_range "$n" $((CORES - 1))) $((CORES - n))"
    done
    if ((UNPINNED)); then
        echo "unpinned-1 1 $all $all $CORES"
        ((CORES > 1)) && echo "unpinned-$CORES $CORES $all $all $CORES"
    fi
    return 0
}

cpu_range() {
    if (($1 == $2)); then echo "$1"; else echo "$1-$2"; fi
}

# run_one ROUND LABEL WORKERS SERVER_CPUS CLIENT_CPUS THREADS SERVER: starts the server placed so, warms it up,
# measures each workload once, stops it; appends one results line per workload.
run_one() {
    local round="$1" label="$2" workers="$3" server="$7" path
    SERVER_CPU="$4" CLIENT_CPU="$5" WRK_THREADS="$6"
    NGINX_WORKERS="$workers"
    if [[ $server == flashd ]]; then
        SERVER_CONFIG[flashd]="$BENCH_TMP/flashd-$workers.json"
        printf '{ "AccessLog": "off", "Workers": "%s" }\n' "$workers" >"${SERVER_CONFIG[flashd]}"
    fi
    rm -rf "${BENCH_TMP:?}/$server" # each start is a fresh one: its own run directory, logs and configuration
    start_server "$server" "$DOCROOT"
    if [[ $server == flashd ]]; then
        wait_mains "$workers"
    fi
    for path in "${WORKLOADS[@]}"; do
        check_response "$server" "$path" 200 "$DOCROOT$path"
        run_wrk "http://127.0.0.1:${SERVER_PORT[$server]}$path" "$WARMUP" "$CONNECTIONS" "$BENCH_TMP/warmup.txt"
        measure "$round" "$label" "$workers" "$path" "$server"
    done
    stop_servers
}

# flashd is ready when its first main serves; wait for all of them, so none misses the start of a run.
wait_mains() {
    local deadline=$((SECONDS + READY_TIMEOUT))
    while (($(main_requests | wc -l) < $1)); do
        ((SECONDS < deadline)) || die "flashd: fewer than $1 mains running after ${READY_TIMEOUT}s"
        sleep 0.2
    done
}

# Requests served so far by each running main of flashd, one number a line (from `flashctl status`).
main_requests() {
    "$FLASHCTL" status --run-dir "$BENCH_TMP/flashd/run" 2>/dev/null |
        awk '$1 == "main" && $5 == "running" { gsub(/,/, "", $8); print $8 }' || true
}

measure() {
    local round="$1" label="$2" workers="$3" path="$4" server="$5"
    local url="http://127.0.0.1:${SERVER_PORT[$server]}$path" out="$BENCH_TMP/wrk-$round-$label-${path#/}-$server.txt"
    local pid="${SERVER_PID[$server]}" before after parsed shares=""
    local -a served_before=()
    [[ $server == flashd ]] && mapfile -t served_before < <(main_requests)
    before=$(tree_cpu_ticks "$pid")
    run_wrk "$url" "$DURATION" "$CONNECTIONS" "$out"
    after=$(tree_cpu_ticks "$pid")
    kill -0 "$pid" 2>/dev/null || { show_server_logs "$server"; die "$server died during the run"; }
    parsed=$(parse_wrk "$out") || { cat "$out" >&2; die "cannot parse wrk output for $url"; }
    local requests rps mibps p99 non2xx ce re we te
    IFS=$'\t' read -r requests rps mibps p99 non2xx ce re we te <<<"$parsed"
    ((requests > 0)) || die "$server completed no request for $path"
    if [[ $server == flashd ]]; then
        sleep 0.5 # main reports its counters five times a second
        local -a served_after=()
        mapfile -t served_after < <(main_requests)
        shares=$(paste -d' ' <(printf '%s\n' "${served_before[@]}") <(printf '%s\n' "${served_after[@]}") |
            awk '{ d[NR] = $2 - $1; t += d[NR] } END { for (i = 1; i <= NR; i++) printf "%s%.0f%%", (i > 1 ? "/" : ""), (t > 0 ? 100 * d[i] / t : 0) }')
    fi
    local cpu_us
    cpu_us=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.2f", d * (1e6 / hz) / n }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$label" "$workers" "$path" "$server" "$requests" "$rps" \
        "$p99" "$cpu_us" "$((non2xx + ce + re + we + te))" "${shares:--}" >>"$RESULTS"
    log "$(printf 'round %s %-11s %-8s %-9s %10s req/s  p99 %7s ms  %7s us/req  errors %s  per main %s' \
        "$round" "$label" "$server" "$path" "$rps" "$p99" "$cpu_us" "$((non2xx + ce + re + we + te))" "${shares:--}")"
}

# median COLUMN LABEL PATH SERVER FORMAT
median() {
    awk -F'\t' -v c="$1" -v l="$2" -v p="$3" -v s="$4" '$2 == l && $4 == p && $5 == s { print $c }' "$RESULTS" | sort -g |
        awk -v fmt="$5\n" '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf fmt, m }'
}

report() {
    local label workers scpu ccpu threads path server rps cpu base_rps shares errors
    echo "# Multi-core scaling, $(date '+%Y-%m-%d %H:%M:%S %Z')"
    echo
    echo "- machine: $CORES cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r)"
    if ((CORES <= 2)); then
        echo "- NOTE: with $CORES cores the pinned runs are N=1 only (wrk needs a core of its own); the unpinned runs share every core with wrk"
    fi
    echo "- rounds: $ROUNDS interleaved, ${DURATION}s each, ${WARMUP}s warm-up; wrk -c$CONNECTIONS, one thread per client core"
    echo "- versions: $(nginx -v 2>&1 | sed 's/^nginx version: //'), flashd at $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    echo "Medians. CPU is the server's own processes per request (µs). \"vs N=1\" is req/s against the same server's"
    echo "first placement. \"per main\" is the share of requests each flashd main served (the last round)."
    echo
    echo "| placement | server cores | wrk cores | workload | server | workers | req/s | vs nginx | vs N=1 | CPU µs/req | CPU vs nginx | p99 ms | per main | errors |"
    echo "|---|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|---|--:|"
    local first="" placement
    for placement in "${PLACEMENTS[@]}"; do
        read -r label workers scpu ccpu threads <<<"$placement"
        [[ -n $first ]] || first=$label
        for path in "${WORKLOADS[@]}"; do
            for server in $SERVERS; do
                rps=$(median 7 "$label" "$path" "$server" %.0f)
                cpu=$(median 9 "$label" "$path" "$server" %.2f)
                base_rps=$(median 7 "$first" "$path" "$server" %.0f)
                shares=$(awk -F'\t' -v l="$label" -v p="$path" -v s="$server" '$2 == l && $4 == p && $5 == s { x = $11 } END { print x }' "$RESULTS")
                errors=$(awk -F'\t' -v l="$label" -v p="$path" -v s="$server" '$2 == l && $4 == p && $5 == s { t += $10 } END { print t + 0 }' "$RESULTS")
                echo "| $label | $scpu | $ccpu | $path | $server | $workers | $rps | $(ratio "$rps" "$(median 7 "$label" "$path" nginx %.0f)") | $(ratio "$rps" "$base_rps") | $cpu | $(ratio "$cpu" "$(median 9 "$label" "$path" nginx %.2f)") | $(median 8 "$label" "$path" "$server" %.2f) | $shares | $errors |"
            done
        done
    done
    checks
    echo
    echo "## Raw runs"
    echo
    echo "| round | placement | workers | workload | server | requests | req/s | p99 ms | CPU µs/req | errors | per main |"
    echo "|--:|---|--:|---|---|--:|--:|--:|--:|--:|---|"
    awk -F'\t' -v OFS=' | ' '{ $1 = $1; print "| " $0 " |" }' "$RESULTS"
}

# Issue 12: with every core's main (unpinned), flashd's CPU per request is no worse than with one main.
checks() {
    ((UNPINNED && CORES > 1)) || return 0
    [[ " $SERVERS " == *" flashd "* ]] || return 0
    echo
    echo "## Checks"
    echo
    local path one many
    for path in "${WORKLOADS[@]}"; do
        one=$(median 9 unpinned-1 "$path" flashd %.3f)
        many=$(median 9 "unpinned-$CORES" "$path" flashd %.3f)
        verdict "$path: flashd with $CORES mains costs $(ratio "$many" "$one") the CPU per request of one main ($many against $one µs; goal: no worse, within 5%)" \
            at_most "$many" "$one" 1.05
    done
}

main() {
    parse_bench_args "$@"
    prepare "$BUILD" "$SERVERS"
    require_tools curl wrk taskset awk paste
    CLK_TCK=$(getconf CLK_TCK)
    ((CORES > 1)) || die "bench/scale.sh needs at least 2 cores (one for wrk)"
    local n
    for n in "${NS[@]}"; do
        [[ $n =~ ^[0-9]+$ ]] && ((n >= 1 && n < CORES)) || die "NS: $n mains would leave no core for wrk on this $CORES-core machine"
    done
    make_bench_tmp
    install_traps
    RESULTS="$BENCH_TMP/results.tsv"
    : >"$RESULTS"
    make_static_docroot "$BENCH_TMP/www"
    # Read once into an array: a loop reading the list from a pipe would lend that pipe to every server as stdin.
    mapfile -t PLACEMENTS < <(placements)
    local runs
    runs=$((${#PLACEMENTS[@]} * $(wc -w <<<"$SERVERS")))
    log "$runs placements x servers, about $((ROUNDS * runs * (${#WORKLOADS[@]} * (DURATION + WARMUP) + 3)))s ahead"
    if ((CORES <= 2)); then
        log "NOTE: $CORES cores: the pinned runs are N=1 only; more mains need a machine with more cores"
    fi

    local round label workers scpu ccpu threads server placement
    for ((round = 1; round <= ROUNDS; round++)); do
        for placement in "${PLACEMENTS[@]}"; do
            read -r label workers scpu ccpu threads <<<"$placement"
            for server in $SERVERS; do
                run_one "$round" "$label" "$workers" "$scpu" "$ccpu" "$threads" "$server"
            done
        done
    done

    local results_dir="$BENCH_ROOT/bench/results" md
    mkdir -p "$results_dir"
    md="$results_dir/scale-$(date +%Y%m%d-%H%M%S).md"
    report >"$md"
    echo
    cat "$md"
    echo
    log "saved $md"
}

main "$@"
