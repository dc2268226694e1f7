# shellcheck shell=bash
# Common functions for bench/static.sh, bench/connections.sh, bench/disk.sh and bench/hostile.sh:
# start the servers from bench/conf/ templates pinned to one core (optionally inside a memory
# cgroup), wait for them, run wrk pinned to another core, read CPU and disk counters, parse wrk's
# output, and stop everything again. Sourced, not run.
#
# The caller sets BENCH_TMP (a private temporary folder) before starting servers, and calls
# bench_cleanup from its EXIT trap.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly BENCH_ROOT
readonly BENCH_CONF="$BENCH_ROOT/bench/conf"

# Knobs shared by both scripts (environment overrides).
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
BASE_PORT="${BASE_PORT:-18080}"
FLASHD="${FLASHD:-$BENCH_ROOT/out/bin/flashd}"
FLASHCTL="$(dirname "$FLASHD")/flashctl"
READY_TIMEOUT="${READY_TIMEOUT:-15}"

declare -A SERVER_PID=()    # server name -> pid of the process we started (taskset execs it)
declare -A SERVER_PORT=()   # server name -> loopback port
declare -A SERVER_CONFIG=() # server name -> config to use instead of the default (caller sets it)
declare -A SERVER_CGROUP=() # server name -> memory cgroup folder to start it in (caller sets it)
WRK_PIDS=()                 # wrk runs in progress, for the cleanup
EXTRA_PIDS=()               # other background helpers of the caller, stopped by the cleanup
BENCH_CGROUPS=()            # memory cgroups we created, removed by the cleanup

log() {
    echo "[$(date +%H:%M:%S)] $*" >&2
}

die() {
    echo "error: $*" >&2
    exit 1
}

# Each server gets a fixed port: flashd BASE+1, nginx BASE+2, lighttpd BASE+3, and flashd's two
# architectures as separate servers (bench/disk.sh): amped BASE+4, sped BASE+5.
port_of() {
    case "$1" in
        flashd) echo $((BASE_PORT + 1)) ;;
        nginx) echo $((BASE_PORT + 2)) ;;
        lighttpd) echo $((BASE_PORT + 3)) ;;
        amped) echo $((BASE_PORT + 4)) ;;
        sped) echo $((BASE_PORT + 5)) ;;
        sol) echo $((BASE_PORT + 6)) ;;
        *) die "unknown server '$1' (known: flashd nginx lighttpd amped sped sol)" ;;
    esac
}

# The program behind a server name: amped and sped are flashd with another configuration.
server_kind() {
    case "$1" in
        flashd | amped | sped) echo flashd ;;
        *) echo "$1" ;;
    esac
}

# True when something listens on the TCP port (any address); reads /proc, so it needs no ss.
port_listening() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 }
        END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# established_count PORT [STATES]: TCP sockets whose local port is PORT (the server side of each
# connection) in one of the given /proc/net/tcp states, hex (default 01, ESTABLISHED; 08 is
# CLOSE_WAIT: the client has gone and the server has not closed yet).
established_count() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" -v states=" ${2:-01} " 'FNR > 1 && index(states, " " $4 " ") && substr($2, length($2) - 4) == p { n++ }
        END { print n + 0 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Copies a template, replacing @KEY@ with value for each KEY=value argument.
render() {
    local template="$1" out="$2" pair key value
    shift 2
    local sed_args=()
    for pair in "$@"; do
        key="${pair%%=*}"
        value="${pair#*=}"
        value="${value//\\/\\\\}"
        value="${value//|/\\|}"
        value="${value//&/\\&}"
        sed_args+=(-e "s|@${key}@|${value}|g")
    done
    sed "${sed_args[@]}" "$template" >"$out"
}

# parse_bench_args ARGS...: the options of every bench script but disk.sh: --no-build sets BUILD=0
# (reuse out/bin), -h/--help prints the caller's usage and exits 0; anything else exits 2.
# shellcheck disable=SC2034 # BUILD is read by the caller
parse_bench_args() {
    BUILD=1
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --no-build) BUILD=0 ;;
            -h | --help) usage; exit 0 ;;
            *) usage >&2; exit 2 ;;
        esac
        shift
    done
}

# raise_fd_limit N: sets the open-files limit to N for this shell and all it starts (servers,
# wrk, attackers each need one descriptor per connection); dies when the hard limit is lower.
raise_fd_limit() {
    local want="$1" hard
    hard=$(ulimit -Hn)
    if [[ "$hard" != unlimited ]] && ((hard < want)); then
        die "hard limit on open files is $hard, below NOFILE=$want"
    fi
    ulimit -n "$want"
}

# Checks the tools a run needs, with a hint when one is missing.
require_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (run scripts/install-deps.sh --bench)"
    done
}

# start_server NAME DOCROOT: starts one server in the background, pinned to SERVER_CPU, with its
# state (config, logs, pid, temp files) in $BENCH_TMP/NAME, then waits until it answers.
# SERVER_CONFIG[NAME] replaces the default configuration (flashd: a JSON file; nginx, lighttpd: a
# template); SERVER_CGROUP[NAME] names a memory cgroup the server is started in.
start_server() {
    local name="$1" docroot="$2" port state kind config
    port=$(port_of "$name")
    kind=$(server_kind "$name")
    state="$BENCH_TMP/$name"
    mkdir -p "$state"
    if port_listening "$port"; then
        die "port $port (for $name) is already in use; set BASE_PORT to another value"
    fi

    case "$kind" in
        flashd)
            [[ -x "$FLASHD" ]] || die "flashd not found at $FLASHD (run scripts/publish.sh, or set FLASHD)"
            config="${SERVER_CONFIG[$name]:-$BENCH_CONF/flashd.json}"
            cp "$config" "$state/flashd.json"
            mkdir -m 0700 "$state/run"
            launch_pinned "$name" "$FLASHD" start "$docroot" --listen "127.0.0.1:$port" \
                --run-dir "$state/run" --config "$state/flashd.json"
            ;;
        nginx)
            config="${SERVER_CONFIG[$name]:-$BENCH_CONF/nginx.conf.in}"
            render "$config" "$state/nginx.conf" "PORT=$port" "DOCROOT=$docroot" "STATE=$state" "WORKERS=${NGINX_WORKERS:-1}"
            launch_pinned "$name" nginx -p "$state" -e "$state/error.log" -c "$state/nginx.conf" \
                -g 'daemon off;'
            ;;
        lighttpd)
            config="${SERVER_CONFIG[$name]:-$BENCH_CONF/lighttpd.conf.in}"
            render "$config" "$state/lighttpd.conf" "PORT=$port" "DOCROOT=$docroot" "STATE=$state"
            launch_pinned "$name" lighttpd -D -f "$state/lighttpd.conf"
            ;;
        sol)
            # The speed-of-light responder (bench/sol.c): GET /NAME answers DOCROOT/NAME (its files are read once).
            local cc
            cc=$(command -v cc || command -v clang) || die "no C compiler for bench/sol.c (scripts/install-deps.sh installs clang)"
            "$cc" -O2 -Wall -o "$state/sol" "$BENCH_ROOT/bench/sol.c" || die "cannot build bench/sol.c"
            launch_pinned "$name" "$state/sol" "$port" "$docroot"/*.bin
            ;;
    esac
    SERVER_PORT[$name]=$port
    wait_ready "$name"
    log "$name: ready on 127.0.0.1:$port (pid ${SERVER_PID[$name]})"
}

# launch_pinned NAME COMMAND...: runs the command in the background under taskset -c SERVER_CPU,
# output to $BENCH_TMP/NAME/console.log, and records its pid in SERVER_PID[NAME]. With a cgroup in
# SERVER_CGROUP[NAME], a shell first writes its own pid into the group's cgroup.procs and then
# execs taskset, so the server and every child it ever starts are in the group from the start
# (and on the core: the affinity is inherited too). exec keeps the pid the same throughout.
launch_pinned() {
    local name="$1" cgroup="${SERVER_CGROUP[$1]:-}"
    shift
    local console="$BENCH_TMP/$name/console.log"
    if [[ -n "$cgroup" ]]; then
        # shellcheck disable=SC2016 # $$, $1 and $@ belong to the inner shell
        bash -c 'echo $$ >"$1/cgroup.procs" || exit 125; shift; exec "$@"' bench-cgroup "$cgroup" \
            taskset -c "$SERVER_CPU" "$@" >"$console" 2>&1 &
    else
        taskset -c "$SERVER_CPU" "$@" >"$console" 2>&1 &
    fi
    SERVER_PID[$name]=$!
}

# Polls with curl until the server answers any HTTP status; gives up after READY_TIMEOUT seconds
# or as soon as the process has died.
wait_ready() {
    local name="$1" pid="${SERVER_PID[$1]}" port="${SERVER_PORT[$1]}"
    local deadline=$((SECONDS + READY_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            show_server_logs "$name"
            die "$name exited during startup"
        fi
        if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
            return 0
        fi
        sleep 0.1
    done
    show_server_logs "$name"
    die "$name did not answer on port $port within ${READY_TIMEOUT}s"
}

show_server_logs() {
    local file
    for file in "$BENCH_TMP/$1"/console.log "$BENCH_TMP/$1"/error.log; do
        if [[ -s "$file" ]]; then
            echo "--- $file (last lines)" >&2
            tail -n 20 "$file" >&2
        fi
    done
}

# check_response NAME PATH STATUS [EXPECTED_FILE]: one GET must give STATUS and, when a file is
# given, exactly its bytes. Guards against benchmarking error pages.
check_response() {
    local name="$1" path="$2" want="$3" expected="${4:-}" got
    local body="$BENCH_TMP/$name/check.body"
    got=$(curl -s -o "$body" -w '%{http_code}' --max-time 10 "http://127.0.0.1:${SERVER_PORT[$name]}$path") || true
    [[ "$got" == "$want" ]] || die "$name: GET $path gave status '$got', expected $want"
    if [[ -n "$expected" ]] && ! cmp -s "$body" "$expected"; then
        die "$name: GET $path returned different bytes than $expected"
    fi
    rm -f "$body"
}

# Prints the pids of a process and all its descendants.
tree_pids() {
    local queue=("$1") pid child
    while [[ ${#queue[@]} -gt 0 ]]; do
        pid="${queue[0]}"
        queue=("${queue[@]:1}")
        [[ -d "/proc/$pid" ]] || continue
        echo "$pid"
        for child in $(pgrep -P "$pid" || true); do
            queue+=("$child")
        done
    done
}

# CPU clock ticks used by a process tree: utime+stime+cutime+cstime of every live process in it.
# cutime/cstime hold the time of children that already exited and were reaped, so a restarted
# child's time is still counted, once.
tree_cpu_ticks() {
    local stats=() pid
    for pid in $(tree_pids "$1"); do
        stats+=("/proc/$pid/stat")
    done
    [[ ${#stats[@]} -gt 0 ]] || { echo 0; return; }
    # The command name (field 2) may hold spaces: drop everything up to its closing ") ".
    { cat "${stats[@]}" 2>/dev/null || true; } |
        awk '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { printf "%d\n", t }'
}

# Busy clock ticks of one core since boot: user+nice+system+irq+softirq+steal from /proc/stat
# (idle and iowait left out; guest time is already inside user).
core_busy_ticks() {
    awk -v cpu="cpu$1" '$1 == cpu { printf "%d\n", $2 + $3 + $4 + $7 + $8 + $9; found = 1; exit }
        END { if (!found) exit 1 }' /proc/stat
}

# start_wrk URL SECONDS CONNECTIONS OUTFILE [extra wrk args...]: starts one wrk run in the
# background, pinned to CLIENT_CPU (WRK_THREADS threads, 1 unless set), bounded by timeout(1) in case the server hangs. Its pid is in
# WRK_STARTED (and in WRK_PIDS, for the cleanup); collect it with wait_wrk.
start_wrk() {
    local url="$1" seconds="$2" connections="$3" out="$4"
    shift 4
    timeout --kill-after=5 $((seconds + 30)) \
        taskset -c "$CLIENT_CPU" wrk -t"${WRK_THREADS:-1}" -c"$connections" -d"${seconds}s" --latency "$@" "$url" \
        >"$out" 2>&1 &
    WRK_STARTED=$!
    WRK_PIDS+=("$WRK_STARTED")
}

# reap_wrk PID: waits for a wrk run from start_wrk and forgets it; returns wrk's exit status.
reap_wrk() {
    local pid="$1" rc=0 p kept=()
    wait "$pid" || rc=$?
    for p in "${WRK_PIDS[@]}"; do
        [[ "$p" == "$pid" ]] || kept+=("$p")
    done
    WRK_PIDS=("${kept[@]}")
    return "$rc"
}

# wait_wrk PID URL OUTFILE: waits for a wrk run from start_wrk; dies when it failed.
wait_wrk() {
    local pid="$1" url="$2" out="$3" rc=0
    reap_wrk "$pid" || rc=$?
    if ((rc != 0)); then
        cat "$out" >&2
        die "wrk failed against $url (exit $rc)"
    fi
}

# run_wrk URL SECONDS CONNECTIONS OUTFILE [extra wrk args...]: one wrk run, waited for.
# In the background with `wait`, so that a trapped Ctrl-C or SIGTERM is handled at once (bash
# defers traps while a foreground child runs); bench_cleanup stops it.
run_wrk() {
    start_wrk "$@"
    wait_wrk "$WRK_STARTED" "$1" "$4"
}

# Parses wrk's report into one tab-separated line:
#   requests  req/s  MiB/s  p99-ms  non-2xx  connect-errors  read-errors  write-errors  timeouts
# wrk prints sizes in binary units (1 MB = 2^20 bytes) and latencies as us/ms/s/m.
parse_wrk() {
    awk '
        function mib(s,   n, u) {
            n = s + 0; u = s; sub(/^[0-9.]+/, "", u)
            if (u == "B") return n / 1048576
            if (u == "KB") return n / 1024
            if (u == "MB") return n
            if (u == "GB") return n * 1024
            if (u == "TB") return n * 1048576
            return -1
        }
        function ms(s,   n, u) {
            n = s + 0; u = s; sub(/^[0-9.]+/, "", u)
            if (u == "us") return n / 1000
            if (u == "ms") return n
            if (u == "s") return n * 1000
            if (u == "m") return n * 60000
            if (u == "h") return n * 3600000
            return -1
        }
        / requests in / { requests = $1 }
        /^Requests\/sec:/ { rps = $2 }
        /^Transfer\/sec:/ { transfer = mib($2) }
        $1 == "99%" { p99 = ms($2) }
        /Non-2xx or 3xx responses:/ { non2xx = $NF }
        /Socket errors:/ {
            line = $0; gsub(/,/, "", line); split(line, f, " ")
            for (i = 1; i < length(f); i++) {
                if (f[i] == "connect") ce = f[i + 1]
                if (f[i] == "read") re = f[i + 1]
                if (f[i] == "write") we = f[i + 1]
                if (f[i] == "timeout") te = f[i + 1]
            }
        }
        END {
            if (requests == "" || rps == "") exit 1
            printf "%d\t%.2f\t%.2f\t%.3f\t%d\t%d\t%d\t%d\t%d\n", requests, rps, transfer, p99,
                non2xx + 0, ce + 0, re + 0, we + 0, te + 0
        }' "$1"
}

# Stops every server we started: SIGTERM to the process we started, up to 5 s for its whole tree
# to exit, then SIGKILL for whatever is left. Safe to call twice.
stop_servers() {
    local name pid pids=() leftover=() deadline p
    for name in "${!SERVER_PID[@]}"; do
        pid="${SERVER_PID[$name]}"
        if kill -0 "$pid" 2>/dev/null; then
            mapfile -t pids < <(tree_pids "$pid")
            kill -TERM "$pid" 2>/dev/null || true
            deadline=$((SECONDS + 5))
            while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
                sleep 0.1
            done
            leftover=()
            for p in "${pids[@]}"; do
                kill -0 "$p" 2>/dev/null && leftover+=("$p")
            done
            if [[ ${#leftover[@]} -gt 0 ]]; then
                log "$name: still running after SIGTERM, sending SIGKILL to ${leftover[*]}"
                kill -KILL "${leftover[@]}" 2>/dev/null || true
            fi
        fi
        wait "$pid" 2>/dev/null || true
        unset "SERVER_PID[$name]"
    done
}

# For the EXIT trap: stop wrk and servers, remove our cgroups and the temporary folder.
bench_cleanup() {
    trap - EXIT INT TERM
    local pid
    for pid in "${WRK_PIDS[@]}" "${EXTRA_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    stop_servers
    memcg_remove_all
    if [[ "${BENCH_KEEP_TMP:-0}" == 1 && -n "${BENCH_TMP:-}" ]]; then
        log "kept $BENCH_TMP (BENCH_KEEP_TMP=1): server logs and wrk outputs"
    elif [[ -n "${BENCH_TMP:-}" && -d "$BENCH_TMP" && "$BENCH_TMP" == */flashd-bench.* ]]; then
        rm -rf -- "$BENCH_TMP"
    fi
}

# Installs the exit/interrupt traps. Ctrl-C and SIGTERM exit through the EXIT trap.
install_traps() {
    trap bench_cleanup EXIT
    trap 'log "interrupted"; exit 130' INT
    trap 'log "terminated"; exit 143' TERM
}

# Makes BENCH_TMP: world-readable, because nginx's worker runs as 'nobody' when started by root.
make_bench_tmp() {
    BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/flashd-bench.XXXXXX")
    chmod 0755 "$BENCH_TMP"
}

# Writes one file of random bytes, world-readable.
random_file() {
    head -c "$2" /dev/urandom >"$1"
    chmod 0644 "$1"
}

# The files of the static workloads (bench/static.sh, bench/profile.sh): NAME:BYTES, served as /NAME.bin.
readonly STATIC_SIZES=(1k:1024 4k:4096 16k:16384 64k:65536 256k:262144 1m:1048576)

# make_static_docroot DIR: a fresh document root DIR with one file of random bytes per STATIC_SIZES
# entry; sets DOCROOT.
make_static_docroot() {
    DOCROOT="$1"
    mkdir -m 0755 "$DOCROOT"
    local size
    for size in "${STATIC_SIZES[@]}"; do
        random_file "$DOCROOT/${size%%:*}.bin" "${size##*:}"
    done
}

# Runs the dependency installer, and the publish unless told not to or flashd is not benchmarked.
prepare() {
    local build="$1" servers="$2"
    "$BENCH_ROOT/scripts/install-deps.sh" --bench
    if [[ " $servers " == *" flashd "* ]]; then
        if [[ "$build" == 1 ]]; then
            "$BENCH_ROOT/scripts/publish.sh" "$(dirname "$FLASHD")"
        fi
        [[ -x "$FLASHD" ]] || die "flashd not found at $FLASHD"
    fi
}

# --- Memory cgroups (v1), for bench/disk.sh ---------------------------------------------------
# A server started in a group with memory.limit_in_bytes set has its page cache charged to the
# group too, so it can keep at most that much of its files cached. Groups are made inside the
# memory group this script runs in (from /proc/self/cgroup): on a plain machine that is the root,
# /sys/fs/cgroup/memory/NAME; under a service manager or a sandbox it keeps the servers inside
# the caller's own accounting instead of moving them out of it.

readonly MEMCG_MOUNT=/sys/fs/cgroup/memory

# The folder of our own memory group, or nothing when cgroup v1 memory is not usable here.
memcg_parent() {
    [[ -f "$MEMCG_MOUNT/cgroup.procs" && -f "$MEMCG_MOUNT/memory.limit_in_bytes" ]] || return 1
    local rel
    rel=$(awk -F: '$2 == "memory" { print $3; exit }' /proc/self/cgroup)
    [[ -n "$rel" && -d "$MEMCG_MOUNT$rel" && -w "$MEMCG_MOUNT$rel" ]] || return 1
    echo "$MEMCG_MOUNT${rel%/}"
}

# memcg_create PARENT NAME BYTES: makes PARENT/NAME with that limit and sets MEMCG_PATH to it.
# A group left by an earlier run is reused when empty; one with processes in it is not ours to
# touch, so that stops the run.
memcg_create() {
    local parent="$1" name="$2" bytes="$3" group pids
    group="$parent/$name"
    if [[ -d "$group" ]]; then
        pids=$(tr '\n' ' ' <"$group/cgroup.procs")
        [[ -z "${pids// /}" ]] || die "cgroup $group already holds processes ($pids): another run? remove it first"
        rmdir "$group" || die "cannot remove the stale cgroup $group"
    fi
    mkdir "$group" || die "cannot create the cgroup $group"
    BENCH_CGROUPS+=("$group")
    echo "$bytes" >"$group/memory.limit_in_bytes" || die "cannot set memory.limit_in_bytes in $group"
    # shellcheck disable=SC2034 # read by the caller
    MEMCG_PATH="$group"
}

# memcg_value GROUP FILE: one counter of a group (0 when unreadable).
memcg_value() {
    cat "$1/$2" 2>/dev/null || echo 0
}

# OOM kills in a group so far (the oom_kill line of memory.oom_control, kernel 4.13+).
memcg_oom_kills() {
    awk '$1 == "oom_kill" { print $2; found = 1 } END { if (!found) print 0 }' "$1/memory.oom_control" 2>/dev/null || echo 0
}

# memcg_remove GROUP: kills what is still in it (only processes we started enter our groups),
# moves anything left to the parent group, and removes it.
memcg_remove() {
    local group="$1" parent pid tries
    [[ -d "$group" ]] || return 0
    parent=$(dirname "$group")
    local pids=()
    mapfile -t pids <"$group/cgroup.procs"
    if [[ ${#pids[@]} -gt 0 ]]; then
        log "cgroup $(basename "$group"): still holds ${pids[*]}, sending SIGKILL"
        kill -KILL "${pids[@]}" 2>/dev/null || true
    fi
    for ((tries = 0; tries < 50; tries++)); do
        mapfile -t pids <"$group/cgroup.procs"
        for pid in "${pids[@]}"; do
            echo "$pid" >"$parent/cgroup.procs" 2>/dev/null || true
        done
        rmdir "$group" 2>/dev/null && return 0
        sleep 0.1
    done
    log "WARNING: could not remove the cgroup $group"
    return 1
}

memcg_remove_all() {
    local group
    for group in "${BENCH_CGROUPS[@]}"; do
        memcg_remove "$group" || true
    done
    BENCH_CGROUPS=()
}

# placement_problems NAME CGROUP: prints one line per process or thread of the server that is not
# pinned to SERVER_CPU alone, or (with a cgroup) not in the group. Nothing when all is in place.
placement_problems() {
    local name="$1" cgroup="$2" pid task allowed rel
    rel="${cgroup#"$MEMCG_MOUNT"}"
    for pid in $(tree_pids "${SERVER_PID[$name]}"); do
        for task in /proc/"$pid"/task/*; do
            allowed=$(awk '$1 == "Cpus_allowed_list:" { print $2 }' "$task/status" 2>/dev/null) || continue
            [[ -z "$allowed" || "$allowed" == "$SERVER_CPU" ]] ||
                echo "$name: pid $pid task ${task##*/} ($(cat "$task/comm" 2>/dev/null)) may run on cores $allowed"
        done
        if [[ -n "$cgroup" ]] && ! grep -q ":memory:$rel\$" "/proc/$pid/cgroup" 2>/dev/null; then
            echo "$name: pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) is not in $cgroup"
        fi
    done
}

# --- Caches and disk counters ------------------------------------------------------------------

# Writes dirty pages back and drops the clean page cache of the whole machine (not dentries and
# inodes: that would be 2 or 3). Needs root.
drop_page_cache() {
    sync
    echo 1 >/proc/sys/vm/drop_caches
}

# The /proc/diskstats name of the device holding PATH: by the file system's major:minor, else by
# the mount's source device; nothing when neither is a disk in /proc/diskstats (overlay, tmpfs).
disk_of_path() {
    local majmin source name
    majmin=$(findmnt -n -o MAJ:MIN --target "$1" 2>/dev/null | head -n1 | tr -d ' ')
    if [[ -n "$majmin" ]]; then
        name=$(awk -v m="${majmin%%:*}" -v n="${majmin##*:}" '$1 == m && $2 == n { print $3; exit }' /proc/diskstats)
    fi
    if [[ -z "${name:-}" ]]; then
        source=$(findmnt -n -o SOURCE --target "$1" 2>/dev/null | head -n1)
        source="${source##*/}"
        [[ -n "$source" ]] &&
            name=$(awk -v d="$source" '$3 == d { print $3; exit }' /proc/diskstats)
    fi
    if [[ -n "${name:-}" ]]; then
        echo "$name"
    fi
}

# disk_counters DEVICE: "reads-completed sectors-read" of a device from /proc/diskstats
# (fields 4 and 6; sectors are 512 bytes whatever the device's block size).
disk_counters() {
    awk -v d="$1" '$3 == d { print $4, $6; found = 1; exit } END { if (!found) print 0, 0 }' /proc/diskstats
}

# --- The serving processes and their memory ----------------------------------------------------------

# flashctl's JSON is pretty-printed, one key a line: the pid of the process whose role is main.
flashd_main_pid() {
    "$FLASHCTL" status --json --run-dir "$BENCH_TMP/flashd/run" 2>/dev/null |
        awk '/"role":/ { role = $2 } /"pid":/ && role ~ /"main"/ { gsub(/[^0-9]/, "", $2); print $2; exit }' || true
}

# The processes whose memory is "the server's": flashd's main, nginx's workers, lighttpd itself.
serving_pids() {
    case "$1" in
        flashd) flashd_main_pid ;;
        nginx) pgrep -P "${SERVER_PID[nginx]}" || true ;;
        lighttpd) echo "${SERVER_PID[lighttpd]}" ;;
    esac
}

# VmRSS summed over the given pids, in KiB (0 for a pid that is gone).
rss_kib() {
    local total=0 pid
    for pid in "$@"; do
        if [[ -r "/proc/$pid/status" ]]; then
            total=$((total + $(awk '$1 == "VmRSS:" { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$pid/status" 2>/dev/null || echo 0)))
        fi
    done
    echo "$total"
}

# --- Profiles (perf) ------------------------------------------------------------------------------

# perf_record_core DATA SECONDS: starts perf recording everything that runs on SERVER_CPU (the server,
# its kernel work, softirqs) with call graphs for SECONDS, in the background; its pid in PERF_STARTED.
# A low sampling rate keeps the profile's cost to the run small, and perf itself runs on CLIENT_CPU.
perf_record_core() {
    taskset -c "$CLIENT_CPU" perf record -q -F 499 -g -C "$SERVER_CPU" -o "$1" -- sleep "$2" \
        2>>"$BENCH_TMP/perf.err" &
    PERF_STARTED=$!
    EXTRA_PIDS+=("$PERF_STARTED")
}

# perf_wait PID: waits for a perf_record_core, with a warning if it failed.
perf_wait() {
    wait "$1" || log "WARNING: perf record failed: $(tail -n1 "$BENCH_TMP/perf.err" 2>/dev/null)"
}

# perf_summary DATA TITLE: where the recorded core's time went, as text: self time by process and
# object, by process, object and function, then the heaviest caller chains (children included).
perf_summary() {
    echo "# perf profile: $2"
    echo "# self time by process and object"
    perf report -i "$1" --stdio --no-children --sort comm,dso --percent-limit 0.5 -g none 2>/dev/null | grep -v '^#' | grep .
    echo "# self time by process, object, function"
    perf report -i "$1" --stdio --no-children --sort comm,dso,sym --percent-limit 0.3 -g none 2>/dev/null
    echo "# by caller chain (children included)"
    perf report -i "$1" --stdio --children --sort sym --percent-limit 2 -g caller,0.5,callee --max-stack 24 2>/dev/null |
        awk 'NR <= 400' # not head: perf would die of SIGPIPE, and pipefail with it
}

# --- Report helpers --------------------------------------------------------------------------------

# ratio A B: A / B as "1.23x", or n/a.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a != "n/a" && b != "n/a" && b + 0 > 0) printf "%.2fx\n", a / b; else print "n/a" }'
}

# at_most A B [FACTOR]: true when both are numbers and A <= B * FACTOR (FACTOR 1 unless given).
at_most() {
    awk -v a="$1" -v b="$2" -v f="${3:-1}" 'BEGIN { exit !(a != "n/a" && b != "n/a" && a + 0 <= (b + 0) * f) }'
}

# verdict MESSAGE TEST...: one check of a goal, "- MET: MESSAGE" or "- NOT MET: MESSAGE"; counts the
# misses in NOT_MET (so it must not run in a subshell).
verdict() {
    local message="$1"
    shift
    if "$@"; then
        echo "- MET: $message"
    else
        echo "- NOT MET: $message"
        NOT_MET=$((${NOT_MET:-0} + 1))
    fi
}
