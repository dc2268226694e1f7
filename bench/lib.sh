# shellcheck shell=bash
# Common functions for bench/static.sh and bench/connections.sh: start the servers from
# bench/conf/ templates pinned to one core, wait for them, run wrk pinned to another core,
# read CPU counters, parse wrk's output, and stop everything again. Sourced, not run.
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
READY_TIMEOUT="${READY_TIMEOUT:-15}"

declare -A SERVER_PID=()   # server name -> pid of the process we started (taskset execs it)
declare -A SERVER_PORT=()  # server name -> loopback port
WRK_PID=""                 # the wrk run in progress, for the cleanup
EXTRA_PIDS=()              # other background helpers of the caller, stopped by the cleanup

log() {
    echo "[$(date +%H:%M:%S)] $*" >&2
}

die() {
    echo "error: $*" >&2
    exit 1
}

# Each server gets a fixed port: flashd BASE+1, nginx BASE+2, lighttpd BASE+3.
port_of() {
    case "$1" in
        flashd) echo $((BASE_PORT + 1)) ;;
        nginx) echo $((BASE_PORT + 2)) ;;
        lighttpd) echo $((BASE_PORT + 3)) ;;
        *) die "unknown server '$1' (known: flashd nginx lighttpd)" ;;
    esac
}

# True when something listens on the TCP port (any address); reads /proc, so it needs no ss.
port_listening() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 }
        END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
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

# Checks the tools a run needs, with a hint when one is missing.
require_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (run scripts/install-deps.sh --bench)"
    done
}

# start_server NAME DOCROOT: starts one server in the background, pinned to SERVER_CPU, with its
# state (config, logs, pid, temp files) in $BENCH_TMP/NAME, then waits until it answers.
start_server() {
    local name="$1" docroot="$2" port state
    port=$(port_of "$name")
    state="$BENCH_TMP/$name"
    mkdir -p "$state"
    if port_listening "$port"; then
        die "port $port (for $name) is already in use; set BASE_PORT to another value"
    fi

    case "$name" in
        flashd)
            [[ -x "$FLASHD" ]] || die "flashd not found at $FLASHD (run scripts/publish.sh, or set FLASHD)"
            cp "$BENCH_CONF/flashd.json" "$state/flashd.json"
            mkdir -m 0700 "$state/run"
            taskset -c "$SERVER_CPU" "$FLASHD" start "$docroot" --listen "127.0.0.1:$port" \
                --run-dir "$state/run" --config "$state/flashd.json" >"$state/console.log" 2>&1 &
            ;;
        nginx)
            render "$BENCH_CONF/nginx.conf.in" "$state/nginx.conf" \
                "PORT=$port" "DOCROOT=$docroot" "STATE=$state"
            taskset -c "$SERVER_CPU" nginx -p "$state" -e "$state/error.log" -c "$state/nginx.conf" \
                -g 'daemon off;' >"$state/console.log" 2>&1 &
            ;;
        lighttpd)
            render "$BENCH_CONF/lighttpd.conf.in" "$state/lighttpd.conf" \
                "PORT=$port" "DOCROOT=$docroot" "STATE=$state"
            taskset -c "$SERVER_CPU" lighttpd -D -f "$state/lighttpd.conf" >"$state/console.log" 2>&1 &
            ;;
    esac
    SERVER_PID[$name]=$!
    SERVER_PORT[$name]=$port
    wait_ready "$name"
    log "$name: ready on 127.0.0.1:$port (pid ${SERVER_PID[$name]})"
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

# run_wrk URL SECONDS CONNECTIONS OUTFILE [extra wrk args...]: one wrk run pinned to CLIENT_CPU,
# bounded by timeout(1) in case the server hangs.
run_wrk() {
    local url="$1" seconds="$2" connections="$3" out="$4"
    shift 4
    # In the background with `wait`, so that a trapped Ctrl-C or SIGTERM is handled at once
    # (bash defers traps while a foreground child runs); bench_cleanup stops WRK_PID.
    timeout --kill-after=5 $((seconds + 30)) \
        taskset -c "$CLIENT_CPU" wrk -t1 -c"$connections" -d"${seconds}s" --latency "$@" "$url" \
        >"$out" 2>&1 &
    WRK_PID=$!
    local rc=0
    wait "$WRK_PID" || rc=$?
    WRK_PID=""
    if ((rc != 0)); then
        cat "$out" >&2
        die "wrk failed against $url (exit $rc)"
    fi
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

# For the EXIT trap: stop servers, remove the temporary folder.
bench_cleanup() {
    trap - EXIT INT TERM
    if [[ -n "${WRK_PID:-}" ]]; then
        kill -TERM "$WRK_PID" 2>/dev/null || true
        wait "$WRK_PID" 2>/dev/null || true
    fi
    local pid
    for pid in "${EXTRA_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    stop_servers
    if [[ -n "${BENCH_TMP:-}" && -d "$BENCH_TMP" && "$BENCH_TMP" == */flashd-bench.* ]]; then
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
