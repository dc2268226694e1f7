#!/usr/bin/env bash
# Disk-bound benchmark (the Flash paper's disk-bound experiment, and issue 3's acceptance test):
# a data set of many small files several times larger than the memory each server may use (a
# memory cgroup per server, which charges the page cache too), random requests across all of it,
# caches dropped before every run. Servers: flashd amped (helpers do the disk work), flashd sped
# (main blocks on the disk), nginx with `aio threads`, lighttpd. Besides throughput it measures
# the latency of one cached file while the random load runs: the cost of blocking on the disk.
# See bench/README.md ("Disk-bound") for the method and how to read the table.
#
# usage: bench/disk.sh [--no-build] [--rebuild] [-h|--help]
# env:   DURATION=20  ROUNDS=3  SERVERS="amped sped nginx lighttpd"  DATASET_MB=2048  MEMORY_MB=512
#        DATASET_DIR=/var/tmp/flashd-disk-bench  CONNECTIONS=64  HOT_CONNECTIONS=4  HELPERS=4
#        FILE_KB=16  FLASHD_CACHE_MB=min(64,MEMORY_MB/4)  WRK_TIMEOUT=10s  DISK_DEVICE=(auto)  SERVER_CPU=0  CLIENT_CPU=1  BASE_PORT=18080
#        DEVICE_DEPTH=64 (fio's queue depth for the device's own rate; 0 skips the fio runs)
#        PERF=0 (1: perf record of the server core during each server's first random-load run)
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME, awk and sort -g all read "1.5" with a dot

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${DURATION:-20}"
ROUNDS="${ROUNDS:-3}"
SERVERS="${SERVERS:-amped sped nginx lighttpd}"
DATASET_MB="${DATASET_MB:-2048}"
MEMORY_MB="${MEMORY_MB:-512}"
DATASET_DIR="${DATASET_DIR:-/var/tmp/flashd-disk-bench}"
CONNECTIONS="${CONNECTIONS:-64}"
HOT_CONNECTIONS="${HOT_CONNECTIONS:-4}"
HELPERS="${HELPERS:-4}"
FILE_KB="${FILE_KB:-16}"
WRK_TIMEOUT="${WRK_TIMEOUT:-10s}"
# flashd's file-data cache (Cache.FileBytes) in MiB; default a quarter of MEMORY_MB, at most 64.
FLASHD_CACHE_MB="${FLASHD_CACHE_MB:-$((MEMORY_MB / 4 < 64 ? MEMORY_MB / 4 : 64))}"
DISK_DEVICE="${DISK_DEVICE:-}"
DEVICE_DEPTH="${DEVICE_DEPTH:-64}"
PERF="${PERF:-0}"
readonly PER_DIR=1024         # files per folder; random.lua and the builder share the layout
readonly HOT_PATH=/hot.html   # the one cached file of the hot-file measurement
readonly MISSING=/missing.bin
readonly CGROUP_PREFIX=flashd-bench-

usage() {
    echo "usage: $0 [--no-build] [--rebuild] [-h|--help]"
    echo "  --no-build   reuse out/bin from an earlier scripts/publish.sh"
    echo "  --rebuild    recreate the data set even when the cached one is complete"
    echo "  env: DURATION=$DURATION ROUNDS=$ROUNDS SERVERS=\"$SERVERS\""
    echo "       DATASET_MB=$DATASET_MB MEMORY_MB=$MEMORY_MB DATASET_DIR=$DATASET_DIR FILE_KB=$FILE_KB"
    echo "       CONNECTIONS=$CONNECTIONS HOT_CONNECTIONS=$HOT_CONNECTIONS HELPERS=$HELPERS WRK_TIMEOUT=$WRK_TIMEOUT"
    echo "       FLASHD_CACHE_MB=$FLASHD_CACHE_MB (flashd's Cache.FileBytes; default a quarter of MEMORY_MB, at most 64)"
    echo "       DISK_DEVICE=${DISK_DEVICE:-(device of DATASET_DIR)} SERVER_CPU=$SERVER_CPU CLIENT_CPU=$CLIENT_CPU BASE_PORT=$BASE_PORT"
    echo "       DEVICE_DEPTH=$DEVICE_DEPTH (fio's queue depth for the device's own rate; 0 skips it)"
    echo "       PERF=$PERF (1: profile the server core with perf during each server's first random-load run)"
    echo "  quick run: DATASET_MB=256 MEMORY_MB=64 DURATION=5 ROUNDS=1 $0"
}

check_number() {
    [[ "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] || die "$1 must be a positive whole number (got '$2')"
}

# Server names as the table shows them.
label_of() {
    case "$1" in
        amped | sped) echo "flashd $1" ;;
        *) echo "$1" ;;
    esac
}

# --- Data set ------------------------------------------------------------------------------------

# Path of file number I: folder I / PER_DIR, as random.lua builds it.
file_path() {
    printf '/d%03d/%04d.bin' $(($1 / PER_DIR)) $(($1 % PER_DIR))
}

# Makes DATASET_DIR/www hold FILES files of FILE_BYTES random bytes, unless a complete one is
# there already. The marker file `complete` is written last, so an interrupted build is redone.
# A data set with more files than asked is reused: random.lua only picks among the first FILES.
prepare_dataset() {
    local rebuild="$1" marker="$DATASET_DIR/complete" have=0 line count
    local want="file_bytes=$FILE_BYTES per_dir=$PER_DIR"
    DOCROOT="$DATASET_DIR/www"
    if [[ -d "$DATASET_DIR" && ! -f "$DATASET_DIR/.flashd-disk-bench" && -n "$(ls -A "$DATASET_DIR")" ]]; then
        die "$DATASET_DIR exists and is not a data set of this script; set DATASET_DIR elsewhere"
    fi
    mkdir -p "$DATASET_DIR"
    chmod 0755 "$DATASET_DIR" # nginx's worker runs as nobody
    touch "$DATASET_DIR/.flashd-disk-bench"

    if [[ "$rebuild" == 0 && -f "$marker" ]]; then
        line=$(cat "$marker")
        if [[ "$line" == "$want files="* ]]; then
            have="${line##*files=}"
        fi
    fi
    if ((have >= FILES)); then
        # Also the check that nothing is missing; as a side effect every inode and dentry is
        # cached (drop_caches 1 keeps them), so the runs read file data from the disk, not inodes.
        log "data set: checking $have cached files in $DOCROOT"
        count=$(find "$DOCROOT" -type f -name '*.bin' -size "${FILE_BYTES}c" | wc -l)
        if ((count != have)); then
            log "data set: found $count files of $FILE_BYTES bytes instead of $have: rebuilding"
            have=0
        fi
    fi
    if ((have < FILES)); then
        build_dataset
    fi
    if [[ ! -f "$DOCROOT$HOT_PATH" ]]; then
        hot_html >"$DOCROOT$HOT_PATH.tmp"
        chmod 0644 "$DOCROOT$HOT_PATH.tmp"
        mv "$DOCROOT$HOT_PATH.tmp" "$DOCROOT$HOT_PATH"
    fi
}

build_dataset() {
    local avail dir n sub
    rm -f "$DATASET_DIR/complete"
    rm -rf -- "$DOCROOT"
    avail=$(df --output=avail -B1M "$DATASET_DIR" | tail -n1 | tr -d ' ')
    ((avail > DATASET_MB + 1024)) || die "only $avail MiB free under $DATASET_DIR, need $DATASET_MB MiB and 1 GiB to spare"
    log "data set: creating $FILES files of $FILE_BYTES random bytes in $DOCROOT ($DATASET_MB MiB, once)"
    mkdir -m 0755 "$DOCROOT"
    for ((dir = 0; dir * PER_DIR < FILES; dir++)); do
        n=$((FILES - dir * PER_DIR))
        ((n <= PER_DIR)) || n=$PER_DIR
        sub="$DOCROOT/$(printf 'd%03d' "$dir")"
        mkdir -m 0755 "$sub"
        # One stream of random bytes cut into files 0000.bin, 0001.bin, ...
        head -c $((n * FILE_BYTES)) /dev/urandom |
            (cd "$sub" && umask 022 && split -b "$FILE_BYTES" -a 4 -d --additional-suffix=.bin - '')
        if (((dir + 1) % 16 == 0)); then
            log "data set: $(((dir + 1) * PER_DIR)) files"
        fi
    done
    sync
    echo "file_bytes=$FILE_BYTES per_dir=$PER_DIR files=$FILES" >"$DATASET_DIR/complete"
    log "data set: complete"
}

# The hot file: 1 KiB of HTML, the same every time.
hot_html() {
    printf '<!doctype html>\n<title>hot</title>\n<pre>\n'
    printf 'flashd disk-bound benchmark: the one cached file, requested during random load\n%.0s' {1..12}
    printf '</pre>\n'
}

# The device's own rate, the physical limit of this benchmark: fio reading FILE_KB blocks at random
# offsets of a file as large as the data set on the same file system, O_DIRECT (no page cache), at
# queue depth DEVICE_DEPTH, pinned to the server core (one core, as the servers get). The file is
# written once, beside the data set. One run per round, before the servers; DEVICE_TSV gets
# "round<TAB>reads/s<TAB>fio's own CPU µs per read".
measure_device() {
    local round="$1" file="$DATASET_DIR/fio-$DATASET_MB.dat" engine=io_uring terse iops cpu_us
    ((DEVICE_DEPTH > 0)) || return 0
    if [[ ! -f "$file" ]]; then
        log "device: writing $file ($DATASET_MB MiB, once) for fio's random reads"
    fi
    fio --enghelp=io_uring >/dev/null 2>&1 || engine=libaio
    # --minimal prints one terse (v3) line: field 8 is the read IOPS, 9 the read runtime in ms,
    # fields 88 and 89 the job's user and system CPU in per cent of one core.
    terse=$(taskset -c "$SERVER_CPU" fio --minimal --name=device --filename="$file" --size="${DATASET_MB}m" \
        --rw=randread --bs="${FILE_KB}k" --direct=1 --ioengine="$engine" --iodepth="$DEVICE_DEPTH" \
        --runtime="$DURATION" --time_based --randrepeat=0 --norandommap 2>"$BENCH_TMP/fio-$round.err") ||
        { cat "$BENCH_TMP/fio-$round.err" >&2; die "fio failed"; }
    read -r iops cpu_us < <(awk -F';' '{ iops = $8; cpu = ($88 + $89) / 100
        printf "%.0f %.1f\n", iops, (iops > 0 ? cpu * 1e6 / iops : 0) }' <<<"$terse")
    printf '%s\t%s\t%s\n' "$round" "$iops" "$cpu_us" >>"$DEVICE_TSV"
    log "$(printf 'round %s device    %9s reads/s (fio %s, %s KiB random, direct, depth %s; fio CPU %s us/read)' \
        "$round" "$iops" "$engine" "$FILE_KB" "$DEVICE_DEPTH" "$cpu_us")"
}

# --- Servers -------------------------------------------------------------------------------------

# A memory group per server, or a warning when cgroup v1 memory is not usable here.
setup_limits() {
    local parent server
    MEMORY_NOTE=""
    if [[ $EUID -eq 0 ]] && parent=$(memcg_parent); then
        for server in $SERVERS; do
            memcg_create "$parent" "$CGROUP_PREFIX$server" $((MEMORY_MB * 1048576))
            SERVER_CGROUP[$server]="$MEMCG_PATH"
        done
        LIMITED=1
        log "memory: each server limited to $MEMORY_MB MiB in $parent/$CGROUP_PREFIX<server>"
    else
        LIMITED=0
        MEMORY_NOTE="no cgroup v1 memory controller usable here (needs root and $MEMCG_MOUNT): servers ran WITHOUT a memory limit, so after the first pass the data set can be cached and the run is NOT disk-bound"
        log "WARNING: $MEMORY_NOTE"
    fi
    if [[ $EUID -eq 0 && -w /proc/sys/vm/drop_caches ]]; then
        CAN_DROP=1
    else
        CAN_DROP=0
        log "WARNING: cannot write /proc/sys/vm/drop_caches (not root): caches are NOT dropped before runs"
    fi
}

configure_servers() {
    local server arch file_bytes=$((FLASHD_CACHE_MB * 1048576))
    for server in $SERVERS; do
        case "$server" in
            amped | sped)
                arch="$server"
                render "$BENCH_CONF/flashd-disk.json.in" "$BENCH_TMP/$server.json" \
                    "ARCHITECTURE=$arch" "HELPERS=$HELPERS" "FILE_BYTES=$file_bytes"
                SERVER_CONFIG[$server]="$BENCH_TMP/$server.json"
                ;;
            nginx) SERVER_CONFIG[$server]="$BENCH_CONF/nginx-disk.conf.in" ;;
            lighttpd) SERVER_CONFIG[$server]="$BENCH_CONF/lighttpd-disk.conf.in" ;;
            *) die "disk.sh compares amped, sped, nginx and lighttpd (got '$server')" ;;
        esac
    done
}

start_all() {
    local server problems middle last
    middle=$(file_path $((FILES / 2)))
    last=$(file_path $((FILES - 1)))
    for server in $SERVERS; do
        start_server "$server" "$DOCROOT"
        check_response "$server" "$HOT_PATH" 200 "$DOCROOT$HOT_PATH"
        check_response "$server" "$(file_path 0)" 200 "$DOCROOT$(file_path 0)"
        check_response "$server" "$middle" 200 "$DOCROOT$middle"
        check_response "$server" "$last" 200 "$DOCROOT$last"
        check_response "$server" "$MISSING" 404
        problems=$(placement_problems "$server" "${SERVER_CGROUP[$server]:-}")
        if [[ -n "$problems" ]]; then
            log "WARNING: $problems"
            echo "$problems" >>"$NOTES"
        fi
    done
}

# --- Measuring -----------------------------------------------------------------------------------

# Stops the run when a server died, with a hint when it ran out of memory in its group.
check_alive() {
    local server="$1"
    kill -0 "${SERVER_PID[$server]}" 2>/dev/null && return 0
    show_server_logs "$server"
    # The tail of a log is mostly the orderly shutdown that followed; the cause comes first.
    if grep -qsE 'FATAL|ERROR|Exception' "$BENCH_TMP/$server/console.log"; then
        echo "--- $server: first errors" >&2
        grep -m 10 -E 'FATAL|ERROR|Exception' "$BENCH_TMP/$server/console.log" >&2
    fi
    local group="${SERVER_CGROUP[$server]:-}"
    if [[ -n "$group" && "$(memcg_oom_kills "$group")" != 0 ]]; then
        log "the kernel's OOM killer killed $(memcg_oom_kills "$group") process(es) in $server's ${MEMORY_MB} MiB group: raise MEMORY_MB"
    fi
    if grep -qs OutOfMemoryException "$BENCH_TMP/$server/console.log"; then
        log "$server ran out of memory in its ${MEMORY_MB} MiB group (flashd's file cache was ${FLASHD_CACHE_MB} MiB): raise MEMORY_MB or lower FLASHD_CACHE_MB"
    fi
    die "$server died during the run"
}

prepare_run() {
    if [[ "$CAN_DROP" == 1 ]]; then
        drop_page_cache
    fi
}

# errors_of PARSED: "total<TAB>c/r/w/t" socket errors of a parse_wrk line.
errors_of() {
    local requests rps mibps p99 non2xx ce re we te
    IFS=$'\t' read -r requests rps mibps p99 non2xx ce re we te <<<"$1"
    printf '%d\t%s/%s/%s/%s\n' $((ce + re + we + te)) "$ce" "$re" "$we" "$te"
}

parse_or_die() {
    parse_wrk "$1" || { cat "$1" >&2; die "cannot parse wrk output $1"; }
}

# measure ROUND SERVER: the two measured runs of one server in one round, one line in $RESULTS.
#  1. random load alone: throughput, CPU per request, disk reads;
#  2. random load again, and for its middle DURATION seconds a second wrk on the hot file.
measure() {
    local round="$1" server="$2"
    local base="http://127.0.0.1:${SERVER_PORT[$server]}"
    local pid="${SERVER_PID[$server]}"
    local out="$BENCH_TMP/wrk-$round-$server-random.txt"
    local bg_out="$BENCH_TMP/wrk-$round-$server-background.txt"
    local hot_out="$BENCH_TMP/wrk-$round-$server-hot.txt"
    local random_args=(-s "$BENCH_CONF/random.lua" --timeout "$WRK_TIMEOUT")
    export DISK_SEED="$round"

    # 1. Random load alone.
    prepare_run
    local cpu_before cpu_after disk_before disk_after t0 t1
    cpu_before=$(tree_cpu_ticks "$pid")
    disk_before=$(disk_counters "${DISK_DEVICE:-none}")
    local perf_pid=""
    if [[ "$PERF" == 1 && "$round" == 1 ]]; then
        perf_record_core "$BENCH_TMP/perf-$server.data" "$DURATION"
        perf_pid=$PERF_STARTED
    fi
    t0=$EPOCHREALTIME
    run_wrk "$base/" "$DURATION" "$CONNECTIONS" "$out" "${random_args[@]}"
    t1=$EPOCHREALTIME
    [[ -z "$perf_pid" ]] || perf_wait "$perf_pid"
    disk_after=$(disk_counters "${DISK_DEVICE:-none}")
    cpu_after=$(tree_cpu_ticks "$pid")
    check_alive "$server"

    local parsed requests rps mibps p99 non2xx errors
    parsed=$(parse_or_die "$out")
    IFS=$'\t' read -r requests rps mibps p99 non2xx _ <<<"$parsed"
    errors=$(errors_of "$parsed")
    ((requests > 0)) || { cat "$out" >&2; die "$server completed no request"; }
    local cpu_us disk_rps disk_mibps
    cpu_us=$(awk -v d=$((cpu_after - cpu_before)) -v hz="$CLK_TCK" -v n="$requests" \
        'BEGIN { printf "%.1f", d * (1e6 / hz) / n }')
    read -r disk_rps disk_mibps < <(awk -v b="$disk_before" -v a="$disk_after" -v t0="$t0" -v t1="$t1" \
        -v dev="$DISK_DEVICE" 'BEGIN {
            if (dev == "") { print "n/a n/a"; exit }
            split(b, x, " "); split(a, y, " "); s = t1 - t0
            printf "%.0f %.1f\n", (y[1] - x[1]) / s, (y[2] - x[2]) * 512 / 1048576 / s }')

    # 2. Hot file under the random load. The hot file is requested (and checked) twice after the
    # drop, so it is cached when the measurement starts; the random load starts a second earlier and
    # ends a second later than the hot-file run.
    prepare_run
    check_response "$server" "$HOT_PATH" 200 "$DOCROOT$HOT_PATH"
    check_response "$server" "$HOT_PATH" 200 "$DOCROOT$HOT_PATH"
    local bg_pid hot_pid
    start_wrk "$base/" $((DURATION + 2)) "$CONNECTIONS" "$bg_out" "${random_args[@]}"
    bg_pid=$WRK_STARTED
    sleep 1
    start_wrk "$base$HOT_PATH" "$DURATION" "$HOT_CONNECTIONS" "$hot_out" --timeout "$WRK_TIMEOUT"
    hot_pid=$WRK_STARTED
    wait_wrk "$hot_pid" "$base$HOT_PATH" "$hot_out"
    wait_wrk "$bg_pid" "$base/" "$bg_out"
    check_alive "$server"

    local hot hot_requests hot_rps hot_p99 hot_non2xx hot_errors bg bg_rps bg_p99 bg_non2xx bg_errors
    hot=$(parse_or_die "$hot_out")
    IFS=$'\t' read -r hot_requests hot_rps _ hot_p99 hot_non2xx _ <<<"$hot"
    hot_errors=$(errors_of "$hot")
    bg=$(parse_or_die "$bg_out")
    IFS=$'\t' read -r _ bg_rps _ bg_p99 bg_non2xx _ <<<"$bg"
    bg_errors=$(errors_of "$bg")

    # Columns: see the Raw runs header in report().
    printf '%s\t' "$round" "$server" "$requests" "$rps" "$mibps" "$p99" "$cpu_us" "$disk_rps" \
        "$disk_mibps" "$non2xx" "$errors" "$hot_requests" "$hot_rps" "$hot_p99" "$hot_non2xx" \
        "$hot_errors" "$bg_rps" "$bg_p99" "$bg_non2xx" >>"$RESULTS"
    printf '%s\n' "$bg_errors" >>"$RESULTS"
    log "$(printf 'round %s %-9s %9s req/s %7s MiB/s p99 %8s ms  cpu %7s us/req  disk %6s reads/s  hot: p99 %8s ms %9s req/s' \
        "$round" "$server" "$rps" "$mibps" "$p99" "$cpu_us" "$disk_rps" "$hot_p99" "$hot_rps")"
}

run_rounds() {
    local round server
    for ((round = 1; round <= ROUNDS; round++)); do
        measure_device "$round"
        for server in $SERVERS; do
            measure "$round" "$server"
        done
    done
}

# After the runs: what each memory group went through, and restarts of flashd's processes (a
# restarted main or helper keeps the server up, so only its log tells).
record_groups() {
    local server group restarts
    for server in $SERVERS; do
        if [[ "$(server_kind "$server")" == flashd ]]; then
            restarts=$(grep -c 'exited unexpectedly' "$BENCH_TMP/$server/console.log" || true)
            if ((restarts > 0)); then
                echo "$server: $restarts flashd process(es) exited unexpectedly and were restarted, first: $(grep -m1 'exited unexpectedly' "$BENCH_TMP/$server/console.log" | sed 's/^.*\] //')$(grep -m1 -o '[A-Za-z.]*OutOfMemoryException' "$BENCH_TMP/$server/console.log" | sed 's/^/ (/; s/$/)/' || true)" >>"$NOTES"
            fi
        fi
        group="${SERVER_CGROUP[$server]:-}"
        [[ -n "$group" ]] || continue
        printf '%s\t%s\t%s\t%s\n' "$server" \
            $(($(memcg_value "$group" memory.max_usage_in_bytes) / 1048576)) \
            "$(memcg_oom_kills "$group")" "$(memcg_value "$group" memory.failcnt)" >>"$GROUPS_TSV"
    done
}

# --- Report --------------------------------------------------------------------------------------

# The mixed run (issue 16): the random ("cold") load with the hot-file clients beside it, against
# the same load alone, and amped held to the goals: cold beside hot >= 2x sped's and >= nginx's, its
# p99 <= nginx's, and the hot file's p99 <= 1 ms with hot req/s far (5x) ahead of nginx's.
mixed_report() {
    local server
    echo "## Issue 16: cold requests beside the hot ones"
    echo
    echo "The second random-load run (cold) over $((DURATION + 2)) s, with the hot-file wrk on $HOT_PATH for its middle $DURATION s."
    echo
    echo "| server | cold req/s alone | cold req/s beside hot | beside / alone | cold p99 ms beside hot | hot req/s | hot p99 ms |"
    echo "|---|--:|--:|--:|--:|--:|--:|"
    for server in $SERVERS; do
        echo "| $(label_of "$server") | $(median 4 "$server" %.0f) | $(median 19 "$server" %.0f) | $(ratio "$(median 19 "$server" %.2f)" "$(median 4 "$server" %.2f)") | $(median 20 "$server" %.1f) | $(median 14 "$server" %.0f) | $(median 15 "$server" %.2f) |"
    done
    echo
    if [[ " $SERVERS " != *" amped "* ]]; then
        echo "- not checked: needs amped in SERVERS"
        return
    fi
    local cold cold_p99 hot hot_p99
    cold=$(median 19 amped %.2f)
    cold_p99=$(median 20 amped %.3f)
    hot=$(median 14 amped %.2f)
    hot_p99=$(median 15 amped %.3f)
    if [[ " $SERVERS " == *" sped "* ]]; then
        local sped_cold
        sped_cold=$(median 19 sped %.2f)
        verdict "amped's cold req/s beside hot ($cold) >= 2x sped's ($sped_cold)" at_most "$sped_cold" "$cold" 0.5
    fi
    if [[ " $SERVERS " == *" nginx "* ]]; then
        local nginx_cold nginx_p99 nginx_hot
        nginx_cold=$(median 19 nginx %.2f)
        nginx_p99=$(median 20 nginx %.3f)
        nginx_hot=$(median 14 nginx %.2f)
        verdict "amped's cold req/s beside hot ($cold) >= nginx's ($nginx_cold)" at_most "$nginx_cold" "$cold"
        verdict "amped's cold p99 beside hot ($cold_p99 ms) <= nginx's ($nginx_p99 ms)" at_most "$cold_p99" "$nginx_p99"
        verdict "amped's hot req/s ($hot) >= 5x nginx's ($nginx_hot)" at_most "$nginx_hot" "$hot" 0.2
    fi
    verdict "amped's hot p99 ($hot_p99 ms) <= 1 ms" at_most "$hot_p99" 1
}

# Issue 11: amped against the physical limit (the device's own random-read rate at depth
# DEVICE_DEPTH on one core, fio) and against nginx, and the CPU per miss that the device's rate
# allows on one core (1 s / device reads/s, main and helpers together).
device_report() {
    echo "## Issue 11: amped against the device"
    echo
    if [[ ! -s "$DEVICE_TSV" ]]; then
        echo "- not measured: DEVICE_DEPTH=0 or no fio run"
        return
    fi
    local device fio_cpu budget
    device=$(cut -f2 "$DEVICE_TSV" | median_of_lines %.0f)
    fio_cpu=$(cut -f3 "$DEVICE_TSV" | median_of_lines %.1f)
    budget=$(awk -v d="$device" 'BEGIN { printf "%.1f", (d > 0 ? 1e6 / d : 0) }')
    echo "The device: $device random ${FILE_KB} KiB reads/s (fio, O_DIRECT, depth $DEVICE_DEPTH, one core; fio itself used $fio_cpu µs of CPU per read)."
    echo "On one core, keeping up with it leaves $budget µs of CPU per miss."
    echo
    echo "| server | req/s | vs device | server CPU µs/req | vs the budget per miss |"
    echo "|---|--:|--:|--:|--:|"
    local server
    for server in $SERVERS; do
        echo "| $(label_of "$server") | $(median 4 "$server" %.0f) | $(ratio "$(median 4 "$server" %.2f)" "$device") | $(median 7 "$server" %.1f) | $(ratio "$(median 7 "$server" %.2f)" "$budget") |"
    done
    echo
    [[ " $SERVERS " == *" amped "* ]] || { echo "- not checked: needs amped in SERVERS"; return; }
    local amped amped_cpu
    amped=$(median 4 amped %.2f)
    amped_cpu=$(median 7 amped %.2f)
    verdict "amped's req/s ($amped) >= 0.8x the device's ($device)" at_most "$(awk -v d="$device" 'BEGIN { print 0.8 * d }')" "$amped"
    verdict "amped's CPU per miss ($amped_cpu µs) <= the budget ($budget µs)" at_most "$amped_cpu" "$budget"
    if [[ " $SERVERS " == *" nginx "* ]]; then
        local nginx
        nginx=$(median 4 nginx %.2f)
        verdict "amped's req/s ($amped) >= 2x nginx's ($nginx)" at_most "$nginx" "$amped" 0.5
    fi
}

# save_profiles PREFIX: each server's perf profile as PREFIX-perf-SERVER.txt.
save_profiles() {
    local prefix="$1" server data
    for server in $SERVERS; do
        data="$BENCH_TMP/perf-$server.data"
        [[ -s "$data" ]] || continue
        perf_summary "$data" "core $SERVER_CPU during $server's first random-load run ($(label_of "$server"))" \
            >"$prefix-perf-$server.txt"
        log "saved $prefix-perf-$server.txt"
    done
}

# median COLUMN SERVER FORMAT: median of one results column over the rounds, printf-formatted.
median() {
    awk -F'\t' -v c="$1" -v s="$2" '$2 == s && $c != "n/a" { print $c }' "$RESULTS" | median_of_lines "$3"
}

# median_of_lines FORMAT: the median of the numbers on stdin, one per line, printf-formatted (n/a for none).
median_of_lines() {
    sort -g |
        awk -v fmt="$1\n" '{ v[NR] = $1 } END {
            if (NR == 0) { print "n/a"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf fmt, m }'
}

# total COLUMN SERVER: sum of one results column over the rounds.
total() {
    awk -F'\t' -v c="$1" -v s="$2" '$2 == s { t += $c } END { printf "%d\n", t }' "$RESULTS"
}

# Which flashd ran: the commit when it is this checkout's build, else the executable's path.
flashd_version() {
    if [[ "$(realpath "$FLASHD" 2>/dev/null)" == "$BENCH_ROOT/out/bin/flashd" ]]; then
        echo "flashd at $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    else
        echo "flashd from $FLASHD"
    fi
}

report() {
    local server rps sped_rps nginx_rps
    echo "# Disk-bound benchmark, $(date '+%Y-%m-%d %H:%M:%S %Z')"
    echo
    echo "- servers: $SERVERS; $ROUNDS interleaved round(s), two ${DURATION}s runs per server and round"
    echo "- data set: $FILES files of $FILE_BYTES bytes ($DATASET_MB MiB) in $DOCROOT, $PER_DIR per folder, requested uniformly at random"
    if [[ "$LIMITED" == 1 ]]; then
        echo "- memory: $MEMORY_MB MiB per server (cgroup v1 memory.limit_in_bytes, page cache included): $(awk -v m="$MEMORY_MB" -v d="$DATASET_MB" 'BEGIN { printf "%.0f%%", 100 * m / d }') of the data set"
    else
        echo "- memory: **NO LIMIT** — $MEMORY_NOTE"
    fi
    if [[ "$CAN_DROP" == 1 ]]; then
        echo "- before every run: \`sync; echo 1 > /proc/sys/vm/drop_caches\`"
    else
        echo "- **caches were not dropped** before runs (not root)"
    fi
    echo "- random load: \`taskset -c $CLIENT_CPU wrk -t1 -c$CONNECTIONS -d${DURATION}s --timeout $WRK_TIMEOUT -s bench/conf/random.lua\`; servers (every process and thread) on core $SERVER_CPU"
    echo "- hot file: \`taskset -c $CLIENT_CPU wrk -t1 -c$HOT_CONNECTIONS -d${DURATION}s $HOT_PATH\` during a second random-load run"
    echo "- flashd: Helpers.Count $HELPERS (amped; Helpers.JobsPerHelper ${FLASHD_Helpers__JobsPerHelper:-64}, Helpers.Nice ${FLASHD_Helpers__Nice:-0}), Cache.FileBytes $FLASHD_CACHE_MB MiB; nginx: \`aio threads\` (32 threads), sendfile, no open_file_cache; lighttpd: plain, stat cache off"
    echo "- disk: ${DISK_DEVICE:-n/a (no block device found for the data set; set DISK_DEVICE)} (reads counted machine-wide from /proc/diskstats)"
    echo "- machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r)"
    echo "- load average at start: $LOAD_AT_START"
    if awk -v l="${LOAD_AT_START%% *}" 'BEGIN { exit !(l > 0.5) }'; then
        echo "- NOTE: the machine was not idle at the start; other work competes for the cores and the disk"
    fi
    echo "- versions: $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(lighttpd -v 2>&1 | head -n1 | awk '{ print $1 }'), $(wrk -v 2>&1 | head -n1 | awk '{ print $1, $2 }'), $(flashd_version)"
    echo
    echo "Medians over $ROUNDS round(s). req/s, MiB/s, p99, CPU and disk columns are from the random load alone;"
    echo "hot p99 and hot req/s from the hot-file wrk running alongside the second random-load run."
    echo
    echo "| server | req/s | vs sped | vs nginx | MiB/s | p99 ms | hot p99 ms | hot req/s | server CPU µs/req | disk reads/s | disk MiB/s | non-2xx | socket errors |"
    echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
    sped_rps=n/a
    nginx_rps=n/a
    [[ " $SERVERS " != *" sped "* ]] || sped_rps=$(median 4 sped %.2f)
    [[ " $SERVERS " != *" nginx "* ]] || nginx_rps=$(median 4 nginx %.2f)
    local non2xx errs
    for server in $SERVERS; do
        rps=$(median 4 "$server" %.2f)
        non2xx=$(($(total 10 "$server") + $(total 16 "$server") + $(total 21 "$server")))
        errs=$(($(total 11 "$server") + $(total 17 "$server") + $(total 22 "$server")))
        echo "| $(label_of "$server") | $(median 4 "$server" %.0f) | $(ratio "$rps" "$sped_rps") | $(ratio "$rps" "$nginx_rps") | $(median 5 "$server" %.1f) | $(median 6 "$server" %.1f) | $(median 15 "$server" %.2f) | $(median 14 "$server" %.0f) | $(median 7 "$server" %.1f) | $(median 8 "$server" %.0f) | $(median 9 "$server" %.1f) | $non2xx | $errs |"
    done
    echo
    echo "## Issue 3: amped's hot-file p99 at most 1/5 of sped's"
    echo
    if [[ " $SERVERS " == *" amped "* && " $SERVERS " == *" sped "* ]]; then
        local amped_p99 sped_p99
        amped_p99=$(median 15 amped %.3f)
        sped_p99=$(median 15 sped %.3f)
        if awk -v a="$amped_p99" -v s="$sped_p99" 'BEGIN { exit !(a * 5 <= s) }'; then
            echo "- MET: amped $amped_p99 ms ≤ sped $sped_p99 ms / 5 = $(awk -v s="$sped_p99" 'BEGIN { printf "%.3f", s / 5 }') ms"
        else
            echo "- NOT MET: amped $amped_p99 ms > sped $sped_p99 ms / 5 = $(awk -v s="$sped_p99" 'BEGIN { printf "%.3f", s / 5 }') ms"
        fi
        if [[ "$LIMITED" != 1 || "$CAN_DROP" != 1 ]]; then
            echo "- (not a valid test: the run was not disk-bound, see above)"
        fi
        local s troubled=""
        for s in amped sped; do
            if (($(total 11 "$s") + $(total 17 "$s") + $(total 22 "$s") > 0)) ||
                awk -F'\t' -v s="$s" '$1 == s && $3 > 0 { found = 1 } END { exit !found }' "$GROUPS_TSV" ||
                grep -q "^$s: " "$NOTES"; then
                troubled+=" $s"
            fi
        done
        if [[ -n "$troubled" ]]; then
            echo "- (doubtful: socket errors, OOM kills or restarts in:$troubled; see Checks)"
        fi
    else
        echo "- not measured: needs both amped and sped in SERVERS"
    fi
    echo
    device_report
    echo
    mixed_report
    echo
    echo "## Checks"
    echo
    local warnings=0 row peak ooms failcnt
    for server in $SERVERS; do
        non2xx=$(($(total 10 "$server") + $(total 16 "$server") + $(total 21 "$server")))
        errs=$(($(total 11 "$server") + $(total 17 "$server") + $(total 22 "$server")))
        if ((non2xx > 0)); then
            echo "- WARNING: $server: $non2xx non-2xx/3xx responses (every request asks for an existing file)"
            warnings=$((warnings + 1))
        fi
        if ((errs > 0)); then
            echo "- WARNING: $server: $errs socket errors (Raw runs: connect/read/write/timeout)"
            warnings=$((warnings + 1))
        fi
        # 16 KiB files read whole: the disk should not deliver much more than the server sends.
        # Much more means pages read and thrown away again before use: read-ahead, or the
        # server's own program pages evicted and faulted back in (a group too small for it).
        local served disk
        served=$(median 5 "$server" %.1f)
        disk=$(median 9 "$server" %.1f)
        if awk -v s="$served" -v d="$disk" 'BEGIN { exit !(d != "n/a" && d + 0 > 2 * s) }'; then
            echo "- WARNING: $server: the disk read $disk MiB/s to serve $served MiB/s: pages evicted before use (thrashing: MEMORY_MB too small for the server?) or heavy read-ahead"
            warnings=$((warnings + 1))
        fi
        row=$(awk -F'\t' -v s="$server" '$1 == s' "$GROUPS_TSV")
        if [[ -n "$row" ]]; then
            IFS=$'\t' read -r _ peak ooms failcnt <<<"$row"
            echo "- $server: memory group peak $peak MiB of $MEMORY_MB MiB, limit hit $failcnt times, $ooms OOM kills"
            if ((ooms > 0)); then
                echo "- WARNING: $server: the OOM killer ran in its memory group; MEMORY_MB=$MEMORY_MB is too small for it"
                warnings=$((warnings + 1))
            fi
        fi
    done
    if [[ -s "$NOTES" ]]; then
        sed 's/^/- WARNING: /' "$NOTES"
        warnings=$((warnings + 1))
    fi
    if ((warnings == 0)); then
        echo "- no socket errors or non-2xx responses; every server process and thread on core $SERVER_CPU$([[ "$LIMITED" == 1 ]] && echo " and in its memory group")"
    fi
    echo
    echo "## Raw runs"
    echo
    echo "Random load alone, then hot file (with the random load alongside: background req/s and p99). Errors are connect/read/write/timeout."
    echo
    echo "| round | server | requests | req/s | MiB/s | p99 ms | CPU µs/req | disk reads/s | disk MiB/s | non-2xx | errors | hot requests | hot req/s | hot p99 ms | hot non-2xx | hot errors | bg req/s | bg p99 ms | bg non-2xx | bg errors |"
    echo "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    # Socket errors are stored as total<TAB>c/r/w/t; the table shows the breakdown.
    awk -F'\t' -v OFS=' | ' '{ print "| " $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, $13, $14, $15, $16, $18, $19, $20, $21, $23 " |" }' "$RESULTS"
}

main() {
    local build=1 rebuild=0
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --no-build) build=0 ;;
            --rebuild) rebuild=1 ;;
            -h | --help) usage; return 0 ;;
            *) usage >&2; return 2 ;;
        esac
        shift
    done
    local name
    for name in DURATION ROUNDS DATASET_MB MEMORY_MB CONNECTIONS HOT_CONNECTIONS HELPERS FILE_KB; do
        check_number "$name" "${!name}"
    done
    [[ "$DEVICE_DEPTH" =~ ^[0-9]+$ ]] || die "DEVICE_DEPTH must be a whole number (got '$DEVICE_DEPTH')"
    [[ "$FLASHD_CACHE_MB" =~ ^[0-9]+$ ]] || die "FLASHD_CACHE_MB must be a whole number of MiB (got '$FLASHD_CACHE_MB')"
    FILE_BYTES=$((FILE_KB * 1024))
    FILES=$((DATASET_MB * 1048576 / FILE_BYTES))
    ((FILES > 0 && FILES <= 1000 * PER_DIR)) || die "DATASET_MB / FILE_KB gives $FILES files; 1 to $((1000 * PER_DIR)) fit the layout"
    local server flashd_servers=""
    for server in $SERVERS; do
        port_of "$server" >/dev/null
        [[ "$(server_kind "$server")" != flashd ]] || flashd_servers=flashd
    done

    prepare "$build" "$flashd_servers"
    require_tools curl wrk taskset pgrep awk findmnt split
    ((DEVICE_DEPTH == 0)) || require_tools fio
    [[ "$PERF" != 1 ]] || require_tools perf
    CLK_TCK=$(getconf CLK_TCK)
    LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
    export DISK_FILES="$FILES" DISK_PER_DIR="$PER_DIR"

    make_bench_tmp
    install_traps
    RESULTS="$BENCH_TMP/results.tsv"
    NOTES="$BENCH_TMP/notes.txt"
    GROUPS_TSV="$BENCH_TMP/groups.tsv"
    DEVICE_TSV="$BENCH_TMP/device.tsv"
    : >"$DEVICE_TSV"
    : >"$RESULTS"
    : >"$NOTES"
    : >"$GROUPS_TSV"

    prepare_dataset "$rebuild"
    if [[ -z "$DISK_DEVICE" ]]; then
        DISK_DEVICE=$(disk_of_path "$DOCROOT")
        [[ -n "$DISK_DEVICE" ]] || log "WARNING: no /proc/diskstats device found for $DOCROOT: disk columns will be n/a (set DISK_DEVICE)"
    fi
    local n_servers
    n_servers=$(wc -w <<<"$SERVERS")
    log "about $((ROUNDS * n_servers * (2 * DURATION + 4) + 5 * n_servers))s of measuring ahead"

    setup_limits
    configure_servers
    start_all
    run_rounds
    record_groups
    stop_servers
    memcg_remove_all

    local results_dir="$BENCH_ROOT/bench/results" md
    mkdir -p "$results_dir"
    md="$results_dir/disk-$(date +%Y%m%d-%H%M%S).md"
    report >"$md"
    [[ "$PERF" != 1 ]] || save_profiles "${md%.md}"
    echo
    cat "$md"
    echo
    log "saved $md"
}

main "$@"
