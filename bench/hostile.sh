#!/usr/bin/env bash
# Hostile-client soak (issue 9, part 7): while a well-behaved wrk measures a cached 1 KiB file's
# req/s and p99, bench/hostile-attack.c attacks the same server on loopback: slowloris connections
# trickling request heads, slow readers of a large file and of a streaming CGI script, a pipelining
# flood, and connections opened and dropped at once. flashd, nginx and lighttpd side by side in
# interleaved rounds, each pinned to core 0 with wrk and the attacker on core 1: the good client's
# figures unloaded and under attack, the serving process's peak RSS, and every crash.
# See bench/README.md ("Hostile clients") for the method and how to read the report.
#
# usage: bench/hostile.sh [--no-build] [-h|--help]
# env:   DURATION=20  ROUNDS=3  WARMUP=2  CONNECTIONS=50  SERVERS="flashd nginx lighttpd"
#        SLOWLORIS=5000  SLOW_FILE=1000  SLOW_CGI=1000  PIPELINE=4  CHURN_RATE=200   (0 turns one off)
#        SLOWLORIS_INTERVAL_MS=3000  SLOW_READ_BYTES=16  PIPELINE_READ_KB=64  LARGE_MB=64
#        CGI_LINES=100000  CGI_PAUSE_MS=5  FCGI_CHILDREN=32  NOFILE=20000  WRK_TIMEOUT=10s
#        ATTACK_READY_TIMEOUT=60  SETTLE_TIMEOUT=30  SERVER_CPU=0  CLIENT_CPU=1  BASE_PORT=18080
#        FLASHD=out/bin/flashd  CC=cc
set -euo pipefail
export LC_ALL=C # awk and sort -g read "1.5" with a dot

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${DURATION:-20}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-2}"
CONNECTIONS="${CONNECTIONS:-50}"
SERVERS="${SERVERS:-flashd nginx lighttpd}"
SLOWLORIS="${SLOWLORIS:-5000}"
SLOW_FILE="${SLOW_FILE:-1000}"
SLOW_CGI="${SLOW_CGI:-1000}"
PIPELINE="${PIPELINE:-4}"
CHURN_RATE="${CHURN_RATE:-200}"
SLOWLORIS_INTERVAL_MS="${SLOWLORIS_INTERVAL_MS:-3000}"
SLOW_READ_BYTES="${SLOW_READ_BYTES:-16}"
PIPELINE_READ_KB="${PIPELINE_READ_KB:-64}"
LARGE_MB="${LARGE_MB:-64}"
CGI_LINES="${CGI_LINES:-100000}"
CGI_PAUSE_MS="${CGI_PAUSE_MS:-5}"
FCGI_CHILDREN="${FCGI_CHILDREN:-32}"
NOFILE="${NOFILE:-20000}"
WRK_TIMEOUT="${WRK_TIMEOUT:-10s}"
ATTACK_READY_TIMEOUT="${ATTACK_READY_TIMEOUT:-60}"
SETTLE_TIMEOUT="${SETTLE_TIMEOUT:-30}"

readonly SMALL=/1k.bin              # the good client's file; also the slowloris and pipeline target
readonly LARGE=/large.bin           # the slow readers' large file (LARGE_MB)
readonly CGI=/cgi-bin/stream.cgi    # the streaming script
readonly CGI_NAME=stream.cgi        # its process name, to see that none is left between runs

declare -A HAS_CGI=() # server -> 1 when it runs the streaming script (nginx: only with fcgiwrap)
ATTACKER=""           # the compiled bench/hostile-attack.c
ATTACKER_PID=""
SAMPLER_PID=""

usage() {
    echo "usage: $0 [--no-build] [-h|--help]"
    echo "  env: DURATION=$DURATION ROUNDS=$ROUNDS WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS SERVERS=\"$SERVERS\""
    echo "       SLOWLORIS=$SLOWLORIS SLOW_FILE=$SLOW_FILE SLOW_CGI=$SLOW_CGI PIPELINE=$PIPELINE CHURN_RATE=$CHURN_RATE (0: that attack off)"
    echo "       SLOWLORIS_INTERVAL_MS=$SLOWLORIS_INTERVAL_MS SLOW_READ_BYTES=$SLOW_READ_BYTES PIPELINE_READ_KB=$PIPELINE_READ_KB"
    echo "       LARGE_MB=$LARGE_MB CGI_LINES=$CGI_LINES CGI_PAUSE_MS=$CGI_PAUSE_MS FCGI_CHILDREN=$FCGI_CHILDREN NOFILE=$NOFILE WRK_TIMEOUT=$WRK_TIMEOUT"
    echo "       ATTACK_READY_TIMEOUT=$ATTACK_READY_TIMEOUT SETTLE_TIMEOUT=$SETTLE_TIMEOUT"
    echo "       SERVER_CPU=$SERVER_CPU CLIENT_CPU=$CLIENT_CPU BASE_PORT=$BASE_PORT FLASHD=$FLASHD"
    echo "  quick run: DURATION=5 ROUNDS=1 SLOWLORIS=500 SLOW_FILE=100 SLOW_CGI=100 $0"
}

# check_number NAME VALUE MIN: a whole number of at least MIN.
check_number() {
    [[ "$2" =~ ^[0-9]+$ && "$2" -ge "$3" ]] || die "$1 must be a whole number of at least $3 (got '$2')"
}

# --- Set-up ----------------------------------------------------------------------------------------

# Compiles the attacker into the temporary folder with the first C compiler found.
build_attacker() {
    local cc="" candidate
    for candidate in ${CC:-} cc gcc clang; do
        if command -v "$candidate" >/dev/null 2>&1; then
            cc="$candidate"
            break
        fi
    done
    [[ -n "$cc" ]] || die "no C compiler (cc, gcc or clang): scripts/install-deps.sh installs clang"
    ATTACKER="$BENCH_TMP/hostile-attack"
    "$cc" -O2 -Wall -Wextra -o "$ATTACKER" "$BENCH_ROOT/bench/hostile-attack.c" ||
        die "cannot compile bench/hostile-attack.c with $cc"
}

# The streaming CGI script: CGI_LINES lines of 64 bytes, each its own write() (autoflush), paced
# CGI_PAUSE_MS apart, as a script reporting progress does: the server gets many small chunks, often
# several in one read when it is busy, and a slow reader makes it hold them all. "?fast" drops the
# pause, for the check that the whole output comes through. Perl, not sh: a pause costs no process.
stream_cgi() {
    cat <<SCRIPT
#!$(command -v perl)
# bench/hostile.sh's streaming CGI script: many small chunks.
use strict;
use warnings;
\$| = 1;
my \$pause = (\$ENV{QUERY_STRING} // '') eq 'fast' ? 0 : $CGI_PAUSE_MS / 1000;
print "Content-Type: text/plain\r\n\r\n";
for my \$i (1 .. $CGI_LINES) {
    printf "bench/hostile.sh streaming CGI line %8d, one write each ..\n", \$i;
    select(undef, undef, undef, \$pause) if \$pause;
}
SCRIPT
}

make_docroot() {
    DOCROOT="$BENCH_TMP/www"
    mkdir -m 0755 "$DOCROOT" "$DOCROOT/cgi-bin"
    random_file "$DOCROOT$SMALL" 1024
    random_file "$DOCROOT$LARGE" $((LARGE_MB * 1048576))
    stream_cgi >"$DOCROOT$CGI"
    chmod 0755 "$DOCROOT$CGI"
}

# nginx has no CGI: fcgiwrap runs the script for it over FastCGI, pinned to the server's core like
# every process of the other two servers, with FCGI_CHILDREN children (flashd's Cgi.MaxRunners).
# It is started as a "server" of its own so that stop_servers ends it and its children.
start_fcgiwrap() {
    local sock="$BENCH_TMP/fcgiwrap/fcgiwrap.sock" deadline=$((SECONDS + READY_TIMEOUT))
    mkdir -p "$BENCH_TMP/fcgiwrap"
    rm -f "$sock"
    launch_pinned fcgiwrap fcgiwrap -c "$FCGI_CHILDREN" -s "unix:$sock"
    until [[ -S "$sock" ]]; do
        kill -0 "${SERVER_PID[fcgiwrap]}" 2>/dev/null || { show_server_logs fcgiwrap; die "fcgiwrap exited during startup"; }
        ((SECONDS < deadline)) || die "fcgiwrap made no socket at $sock within ${READY_TIMEOUT}s"
        sleep 0.1
    done
    chmod 0666 "$sock" # nginx's worker runs as nobody
}

# running NAME: true when the process started under that name is still there.
running() {
    [[ -n "${SERVER_PID[$1]:-}" ]] && kill -0 "${SERVER_PID[$1]}" 2>/dev/null
}

# start_one SERVER: starts one server (and nginx's fcgiwrap) with its hostile-soak configuration.
start_one() {
    local server="$1"
    case "$server" in
        flashd)
            rm -rf "$BENCH_TMP/flashd/run" # a restart after a crash needs a fresh run folder
            SERVER_CONFIG[flashd]="$BENCH_CONF/flashd-hostile.json"
            HAS_CGI[flashd]=1
            ;;
        nginx)
            if command -v fcgiwrap >/dev/null 2>&1; then
                running fcgiwrap || start_fcgiwrap
                HAS_CGI[nginx]=1
            fi
            render "$BENCH_CONF/nginx-hostile.conf.in" "$BENCH_TMP/nginx-hostile.conf.in" \
                "FCGI_SOCKET=$BENCH_TMP/fcgiwrap/fcgiwrap.sock"
            SERVER_CONFIG[nginx]="$BENCH_TMP/nginx-hostile.conf.in"
            ;;
        lighttpd)
            SERVER_CONFIG[lighttpd]="$BENCH_CONF/lighttpd-hostile.conf.in"
            HAS_CGI[lighttpd]=1
            ;;
        *) die "hostile.sh compares flashd, nginx and lighttpd (got '$server')" ;;
    esac
    start_server "$server" "$DOCROOT"
}

# The script must stream all its lines through the server, or the CGI attack tests nothing.
check_cgi() {
    local name="$1" body="$BENCH_TMP/$1/cgi.body" got lines
    got=$(curl -s -o "$body" -w '%{http_code}' --max-time 60 "http://127.0.0.1:${SERVER_PORT[$name]}$CGI?fast") || true
    [[ "$got" == 200 ]] || die "$name: GET $CGI?fast gave status '$got', expected 200"
    lines=$(grep -c '^bench/hostile.sh streaming CGI line .*\.\.$' "$body" || true)
    ((lines == CGI_LINES)) || die "$name: GET $CGI?fast gave $lines whole lines, expected $CGI_LINES"
    rm -f "$body"
}

start_all() {
    local server
    for server in $SERVERS; do
        start_one "$server"
        check_response "$server" "$SMALL" 200 "$DOCROOT$SMALL"
        check_response "$server" "$LARGE" 200 "$DOCROOT$LARGE"
        if [[ -n "${HAS_CGI[$server]:-}" ]]; then
            check_cgi "$server"
        else
            log "WARNING: $server: no fcgiwrap, so no CGI: its slow-cgi attack is skipped"
        fi
        run_wrk "http://127.0.0.1:${SERVER_PORT[$server]}$SMALL" "$WARMUP" "$CONNECTIONS" "$BENCH_TMP/warmup.txt"
    done
}

# --- Processes, memory and crashes ------------------------------------------------------------------

# The roots of everything a server runs: nginx's scripts run under fcgiwrap, not under nginx.
tree_roots() {
    echo "${SERVER_PID[$1]}"
    if [[ "$1" == nginx && -n "${SERVER_PID[fcgiwrap]:-}" ]]; then
        echo "${SERVER_PID[fcgiwrap]}"
    fi
}

# RSS summed over every process below the given roots (shared pages count once per process), from
# one ps snapshot: walking /proc per process would be slow with a thousand CGI scripts running.
tree_rss_kib() {
    { ps -e -o pid=,ppid=,rss= || true; } | awk -v roots="$*" '
        { parent[$1] = $2; rss[$1] = $3 }
        END {
            n = split(roots, r, " ")
            for (i = 1; i <= n; i++) root[r[i]] = 1
            for (p in parent) {
                q = p
                while (!(q in root) && (q in parent) && q > 1) q = parent[q]
                if (q in root) total += rss[p]
            }
            print total + 0
        }'
}

# sample_rss SERVER FILE: until killed, twice a second, the serving processes' RSS and the whole
# tree's; FILE holds the peaks so far, in KiB: "serving tree". The serving pids are looked up again
# only when one has gone (a restarted flashd main, a respawned nginx worker).
sample_rss() {
    local server="$1" file="$2" serving=() roots=() peak=0 tree_peak=0 now tree pid n=0
    mapfile -t roots < <(tree_roots "$server")
    while :; do
        for pid in "${serving[@]}"; do
            [[ -d "/proc/$pid" ]] || serving=()
        done
        [[ ${#serving[@]} -gt 0 ]] || mapfile -t serving < <(serving_pids "$server")
        now=$(rss_kib "${serving[@]}")
        ((now <= peak)) || peak=$now
        # The whole tree every 2 s only: ps over a thousand CGI scripts costs the client core.
        if ((n++ % 4 == 0)); then
            tree=$(tree_rss_kib "${roots[@]}")
            ((tree <= tree_peak)) || tree_peak=$tree
        fi
        echo "$peak $tree_peak" >"$file.new"
        mv -f "$file.new" "$file" # whole, even when the sampler is stopped mid-write
        sleep 0.5
    done
}

# Starts the sampler in the background on the client core, so it takes nothing from the server's.
start_sampler() {
    echo "0 0" >"$2"
    sample_rss "$1" "$2" &
    SAMPLER_PID=$!
    EXTRA_PIDS+=("$SAMPLER_PID")
    taskset -pc "$CLIENT_CPU" "$SAMPLER_PID" >/dev/null
}

# stop_background PID: ends one of our background processes and forgets it.
stop_background() {
    local pid="$1" p kept=()
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for p in "${EXTRA_PIDS[@]}"; do
        [[ "$p" == "$pid" ]] || kept+=("$p")
    done
    EXTRA_PIDS=("${kept[@]}")
}

# The log in which a server reports a crashed process of its own, and what that line says:
# flashd's supervisor logs each unexpected exit (and restarts the process); nginx's master logs a
# worker killed by a signal (and starts another). lighttpd is one process: its crash is its exit.
crash_log() {
    case "$1" in
        flashd) echo "$BENCH_TMP/flashd/console.log" ;;
        *) echo "$BENCH_TMP/$1/error.log" ;;
    esac
}

crash_pattern() {
    case "$1" in
        flashd) echo 'exited unexpectedly' ;;
        nginx) echo 'exited on signal' ;;
        *) echo '' ;;
    esac
}

log_lines() {
    local file
    file=$(crash_log "$1")
    if [[ -f "$file" ]]; then wc -l <"$file"; else echo 0; fi
}

# check_crashes SERVER LINES_BEFORE: sets RUN_CRASHES and RUN_NOTE from what the server logged since
# and whether it is still there; a server that is gone is started again for the runs after this one.
check_crashes() {
    local server="$1" before="$2" file pattern new=""
    file=$(crash_log "$server")
    pattern=$(crash_pattern "$server")
    RUN_CRASHES=0
    RUN_NOTE=""
    [[ -f "$file" ]] && new=$(tail -n +"$((before + 1))" "$file")
    if [[ -n "$pattern" ]]; then
        RUN_CRASHES=$(grep -c "$pattern" <<<"$new" || true)
    fi
    if ((RUN_CRASHES > 0)); then
        # The first crash line, and the first exception logged since with its top frame (flashd's
        # main logs its own before the supervisor logs the exit).
        RUN_NOTE=$(grep -m1 "$pattern" <<<"$new" | sed 's/^.*\(ERROR\|alert\)\]* *//' | cut -c1-160)
        local exception frame
        exception=$(grep -m1 -oE '[A-Za-z.]+Exception(: [^|]{0,120})?' <<<"$new" || true)
        frame=$(grep -m1 -A1 -E '[A-Za-z.]+Exception' <<<"$new" | grep -m1 -oE '^ +at [^ (]+' | sed 's/^ *//' || true)
        [[ -z "$exception" ]] || RUN_NOTE+=" [$exception${frame:+ $frame}]"
    fi
    local name
    for name in "$server" $([[ "$server" == nginx && -n "${SERVER_PID[fcgiwrap]:-}" ]] && echo fcgiwrap); do
        if ! running "$name"; then
            RUN_CRASHES=$((RUN_CRASHES + 1))
            RUN_NOTE+="${RUN_NOTE:+; }$name exited"
            log "WARNING: $name exited during the run"
            show_server_logs "$name"
            revive "$name"
        fi
    done
}

# Starts a server that died again (keeping its logs aside), so the remaining rounds still run.
revive() {
    local name="$1" state="$BENCH_TMP/$1" n=1
    wait "${SERVER_PID[$name]}" 2>/dev/null || true
    unset "SERVER_PID[$name]"
    while [[ -e "$state/console.log.crash$n" ]]; do n=$((n + 1)); done
    [[ ! -f "$state/console.log" ]] || mv "$state/console.log" "$state/console.log.crash$n"
    if [[ "$name" == fcgiwrap ]]; then
        start_fcgiwrap
    else
        start_one "$name"
    fi
}

# Waits until the server holds no client connection and runs no script from the last run, so a
# run starts from the same state for every server.
settle() {
    local port="${SERVER_PORT[$1]}" deadline=$((SECONDS + SETTLE_TIMEOUT)) open scripts
    while :; do
        open=$(established_count "$port" "01 08")
        scripts=$(pgrep -c -x "$CGI_NAME" || true)
        ((open > 0 || scripts > 0)) || return 0
        if ((SECONDS >= deadline)); then
            log "WARNING: $1 still has $open connections and $scripts CGI scripts after ${SETTLE_TIMEOUT}s"
            return 0
        fi
        sleep 0.2
    done
}

# --- The attacker -----------------------------------------------------------------------------------

# start_attacker SERVER OUT ERR: all attacks at once on the client core; it stops by itself well
# after the measured run, in case this script is killed before it can stop it.
start_attacker() {
    local server="$1" cgi="$SLOW_CGI"
    [[ -n "${HAS_CGI[$server]:-}" ]] || cgi=0
    : >"$2" # there before wait_attacker_ready looks, whenever the shell gets to the redirection
    taskset -c "$CLIENT_CPU" "$ATTACKER" --port "${SERVER_PORT[$server]}" \
        --duration $((ATTACK_READY_TIMEOUT + DURATION + 30)) --ready-timeout "$ATTACK_READY_TIMEOUT" \
        --slowloris "$SLOWLORIS" --slow-file "$SLOW_FILE" --slow-cgi "$cgi" --pipeline "$PIPELINE" \
        --churn-rate "$CHURN_RATE" --slowloris-path "$SMALL" --slow-file-path "$LARGE" \
        --slow-cgi-path "$CGI" --pipeline-path "$SMALL" --slowloris-interval-ms "$SLOWLORIS_INTERVAL_MS" \
        --slow-read-bytes "$SLOW_READ_BYTES" --pipeline-read-bytes $((PIPELINE_READ_KB * 1024)) \
        >"$2" 2>"$3" &
    ATTACKER_PID=$!
    EXTRA_PIDS+=("$ATTACKER_PID")
}

# wait_attacker_ready OUT ERR: the attacker's readiness signal, its "ready" line (it holds all its
# connections, or says "ready partial" with what it holds after ATTACK_READY_TIMEOUT).
wait_attacker_ready() {
    local deadline=$((SECONDS + ATTACK_READY_TIMEOUT + 10))
    until grep -q '^ready' "$1"; do
        kill -0 "$ATTACKER_PID" 2>/dev/null || { cat "$2" >&2; die "the attacker exited before it was ready"; }
        ((SECONDS < deadline)) || die "the attacker said nothing within $((ATTACK_READY_TIMEOUT + 10))s"
        sleep 0.1
    done
    grep -m1 '^ready' "$1"
}

# --- Measuring --------------------------------------------------------------------------------------

# run_phase ROUND SERVER PHASE: one wrk run of the good client, alone (unloaded) or during the
# attack (attacked), with the server's RSS sampled throughout; one line in $RESULTS.
run_phase() {
    local round="$1" server="$2" phase="$3"
    local tag="$round-$server-$phase" url="http://127.0.0.1:${SERVER_PORT[$server]}$SMALL"
    local out="$BENCH_TMP/wrk-$tag.txt" rss="$BENCH_TMP/rss-$tag.txt"
    local attack_out="$BENCH_TMP/attack-$tag.out" attack_err="$BENCH_TMP/attack-$tag.err"
    local before ready="-" attacker_cpu="-" t0 ticks rc=0

    settle "$server"
    before=$(log_lines "$server")
    if [[ "$phase" == attacked ]]; then
        t0=$EPOCHREALTIME
        start_attacker "$server" "$attack_out" "$attack_err"
        ready=$(wait_attacker_ready "$attack_out" "$attack_err")
        log "round $round $server: attacker $ready"
    fi
    start_sampler "$server" "$rss"
    start_wrk "$url" "$DURATION" "$CONNECTIONS" "$out" --timeout "$WRK_TIMEOUT"
    reap_wrk "$WRK_STARTED" || rc=$?
    ((rc == 0)) || log "WARNING: wrk exited with $rc against $server"
    stop_background "$SAMPLER_PID"
    if [[ "$phase" == attacked ]]; then
        # Its CPU share of one core over its life: it shares the client core with wrk.
        ticks=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$ATTACKER_PID/stat" 2>/dev/null || echo 0)
        attacker_cpu=$(awk -v t="$ticks" -v hz="$CLK_TCK" -v t0="$t0" -v t1="$EPOCHREALTIME" \
            'BEGIN { printf "%.0f%%\n", 100 * t / hz / (t1 - t0) }')
        stop_background "$ATTACKER_PID"
        sed "s/^attack /$round\t$server\t/" "$attack_out" | grep -v '^ready' >>"$ATTACKS" || true
    fi
    check_crashes "$server" "$before"

    local parsed requests="0" rps="n/a" p99="n/a" non2xx=0 ce=0 re=0 we=0 te=0 main_kib tree_kib
    if parsed=$(parse_wrk "$out"); then
        IFS=$'\t' read -r requests rps _ p99 non2xx ce re we te <<<"$parsed"
        if ((requests == 0)); then
            # wrk says 0 ms when nothing was answered; every request waited longer than the run, so
            # the run's length is a lower bound of the p99 (and medians keep it as a bad run).
            p99=$((DURATION * 1000))
            RUN_NOTE+="${RUN_NOTE:+; }no response in the whole run: p99 recorded as the run's length, a lower bound"
        fi
    else
        log "WARNING: no wrk figures for $server ($phase); its output:"
        cat "$out" >&2
    fi
    read -r main_kib tree_kib <"$rss" || { main_kib=0; tree_kib=0; }
    # Columns: see the Raw runs header in report().
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$server" "$phase" \
        "$requests" "$rps" "$p99" "$non2xx" "$ce" "$re" "$we" "$te" $((main_kib / 1024)) $((tree_kib / 1024)) \
        "$RUN_CRASHES" "$attacker_cpu" "${ready#ready }" "${RUN_NOTE:--}" >>"$RESULTS"
    log "$(printf 'round %s %-8s %-8s %10s req/s  p99 %9s ms  non-2xx %s  sock-err c%s r%s w%s t%s  RSS %s MiB (tree %s)  crashes %s%s' \
        "$round" "$server" "$phase" "$rps" "$p99" "$non2xx" "$ce" "$re" "$we" "$te" $((main_kib / 1024)) \
        $((tree_kib / 1024)) "$RUN_CRASHES" "${RUN_NOTE:+ ($RUN_NOTE)}")"
}

run_rounds() {
    local round server
    for ((round = 1; round <= ROUNDS; round++)); do
        for server in $SERVERS; do
            run_phase "$round" "$server" unloaded
            run_phase "$round" "$server" attacked
        done
    done
}

# --- Report -----------------------------------------------------------------------------------------

# column COLUMN SERVER PHASE: one results column of a server's runs of one phase, one value a line.
column() {
    awk -F'\t' -v c="$1" -v s="$2" -v p="$3" '$2 == s && $3 == p && $c != "n/a" { print $c }' "$RESULTS"
}

# median COLUMN SERVER PHASE FORMAT: the median over the rounds, printf-formatted (n/a when none).
median() {
    column "$1" "$2" "$3" | sort -g | awk -v fmt="$4\n" '{ v[NR] = $1 } END {
        if (NR == 0) { print "n/a"; exit }
        printf fmt, (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# total COLUMN SERVER [PHASE]: sum over the rounds (both phases without PHASE).
total() {
    awk -F'\t' -v c="$1" -v s="$2" -v p="${3:-}" '$2 == s && (p == "" || $3 == p) { t += $c } END { printf "%d\n", t }' "$RESULTS"
}

peak() {
    column "$1" "$2" "$3" | sort -g | tail -n1
}

# wrk's socket errors of a server's runs of one phase, as "connect/read/write/timeout".
socket_errors() {
    echo "$(total 8 "$1" "$2")/$(total 9 "$1" "$2")/$(total 10 "$1" "$2")/$(total 11 "$1" "$2")"
}

attack_sizes() {
    echo "slowloris $SLOWLORIS (a byte every ~$((SLOWLORIS_INTERVAL_MS / 1000)) s), slow readers $SLOW_FILE of $LARGE ($LARGE_MB MiB) and $SLOW_CGI of $CGI (a 64-byte line every $CGI_PAUSE_MS ms) ($SLOW_READ_BYTES B/s each, 4 KiB SO_RCVBUF), pipeline $PIPELINE connections (reading $PIPELINE_READ_KB KiB/s each), churn $CHURN_RATE connections/s"
}

# The attackers' table rows: $ATTACKS holds "round<TAB>server<TAB>kind=K key=value ..." lines, and
# the attacked runs in $RESULTS what each attack held at the ready line (column 16).
attack_rows() {
    awk -F'\t' '
        function v(key,   i, n, kv, f) {
            n = split($3, kv, " ")
            for (i = 1; i <= n; i++) { split(kv[i], f, "="); if (f[1] == key) return f[2] }
            return "-"
        }
        FNR == NR { if ($3 == "attacked") ready[$1 "\t" $2] = $16; next }
        v("kind") == "churn" {
            printf "| %s | %s | churn %s/s | - | - | - | - | - | %s | %s | - | %s | - | %.1f | - |\n", $1, $2, v("rate"),
                v("connects"), v("connect_errors"), v("resets"), v("bytes_out") / 1048576
            printf "| | | (dropped: %s closed, %s after half a request, %s reset; %s skipped, none free) | | | | | | | | | | | | |\n",
                v("dropped_close"), v("dropped_partial"), v("dropped_reset"), v("skipped")
            next
        }
        {
            kind = v("kind"); held = "-"
            if (match(ready[$1 "\t" $2], kind "=[0-9]+")) held = substr(ready[$1 "\t" $2], RSTART + length(kind) + 1, RLENGTH - length(kind) - 1)
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f | %.1f |\n", $1, $2, kind,
                v("target"), held, v("min_held"), v("avg_held"), v("peak"), v("connects"), v("connect_errors"),
                v("server_closes"), v("resets"), v("requests"), v("bytes_out") / 1048576, v("bytes_in") / 1048576
        }' "$RESULTS" "$ATTACKS"
}

report() {
    local server nginx_p99=n/a
    echo "# Hostile-client soak, $(date '+%Y-%m-%d %H:%M:%S %Z')"
    echo
    echo "- servers: $SERVERS; $ROUNDS interleaved round(s), per server and round a ${DURATION}s run unloaded, then one under attack"
    echo "- good client: \`taskset -c $CLIENT_CPU wrk -t1 -c$CONNECTIONS -d${DURATION}s --latency --timeout $WRK_TIMEOUT\` on $SMALL (cached); servers (every process) on core $SERVER_CPU"
    echo "- attack (bench/hostile-attack.c, one process on core $CLIENT_CPU beside wrk, 127.0.0.1 only): $(attack_sizes)"
    echo "- timeouts as flashd's defaults everywhere: request head 20 s, send 60 s, keep-alive 65 s, CGI 30 s (see bench/conf/*-hostile.*)"
    echo "- CGI: flashd flash-cgi (up to 32 runners), nginx fcgiwrap ($FCGI_CHILDREN children), lighttpd mod_cgi (a script per request, no limit)"
    if [[ " $SERVERS " == *" nginx "* && -z "${HAS_CGI[nginx]:-}" ]]; then
        echo "- NOTE: fcgiwrap is not installed: nginx ran without the slow-cgi attack"
    fi
    echo "- machine: $(nproc --all) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r); load average at start: $LOAD_AT_START"
    if awk -v l="${LOAD_AT_START%% *}" 'BEGIN { exit !(l > 0.5) }'; then
        echo "- NOTE: the machine was not idle at the start; other work on the cores changes every figure"
    fi
    echo "- versions: $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(lighttpd -v 2>&1 | head -n1 | awk '{ print $1 }'), $(wrk -v 2>&1 | head -n1 | awk '{ print $1, $2 }'), flashd at $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    echo "Medians over the rounds. RSS: the serving process (flashd's main, nginx's workers, lighttpd), its peak"
    echo "during the runs (sampled twice a second); tree: every process the server runs, CGI scripts included."
    echo
    echo "| server | unloaded req/s | unloaded p99 ms | attacked req/s | attacked p99 ms | p99 attacked/unloaded | p99 vs nginx attacked | RSS MiB unloaded / attacked peak | tree RSS MiB peak | crashes | wrk errors unloaded / attacked (c/r/w/t) | non-2xx attacked |"
    echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|"
    [[ " $SERVERS " != *" nginx "* ]] || nginx_p99=$(median 6 nginx attacked %.3f)
    for server in $SERVERS; do
        local up ap
        up=$(median 6 "$server" unloaded %.3f)
        ap=$(median 6 "$server" attacked %.3f)
        echo "| $server | $(median 5 "$server" unloaded %.0f) | $up | $(median 5 "$server" attacked %.0f) | $ap | $(ratio "$ap" "$up") | $(ratio "$ap" "$nginx_p99") | $(peak 12 "$server" unloaded) / $(peak 12 "$server" attacked) | $(peak 13 "$server" attacked) | $(total 14 "$server") | $(socket_errors "$server" unloaded) / $(socket_errors "$server" attacked) | $(total 7 "$server" attacked) |"
    done
    echo
    echo "## Issue 9, part 7: done when"
    echo
    NOT_MET=0
    if [[ " $SERVERS " == *" flashd "* ]]; then
        local crashes up ap rss
        crashes=$(total 14 flashd)
        up=$(median 6 flashd unloaded %.3f)
        ap=$(median 6 flashd attacked %.3f)
        verdict "flashd crashed $crashes time(s) (a process that exited unexpectedly, or flashd gone)" test "$crashes" -eq 0
        verdict "flashd's attacked p99 $ap ms ≤ 2 × its unloaded p99 $up ms" \
            at_most "$ap" "$(awk -v u="$up" 'BEGIN { print (u == "n/a") ? "n/a" : 2 * u }')"
        if [[ "$nginx_p99" != n/a ]]; then
            verdict "flashd's attacked p99 $ap ms ≤ nginx's attacked p99 $nginx_p99 ms" at_most "$ap" "$nginx_p99"
        else
            echo "- not measured: flashd's attacked p99 against nginx's (nginx not in SERVERS)"
            NOT_MET=$((NOT_MET + 1))
        fi
        rss=$(column 12 flashd attacked | tr '\n' ' ')
        echo "- reported: flashd main's peak RSS under attack, round by round: ${rss% } MiB (unloaded peak $(peak 12 flashd unloaded) MiB)"
    else
        echo "- not measured: flashd not in SERVERS"
    fi
    echo
    echo "## Crashes"
    echo
    if awk -F'\t' '$14 > 0 { found = 1 } END { exit !found }' "$RESULTS"; then
        awk -F'\t' '$14 > 0 { printf "- round %s, %s, %s: %s crash(es): %s\n", $1, $2, $3, $14, $17 }' "$RESULTS"
    else
        echo "- none: no process of any server exited unexpectedly"
    fi
    echo
    echo "## Attackers"
    echo
    echo "Per attacked run: what it asked for and held. *min held* and *avg held* are over the time after"
    echo "the ready line (the measured run); a server that closes connections (header or send timeout) sees"
    echo "them come back after about a second. *closes*: closed by the server; *resets*: ECONNRESET or EPIPE."
    echo
    echo "| round | server | attack | target | held at ready | min held | avg held | peak | connects | connect errors | closes | resets | requests | MiB out | MiB in |"
    echo "|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    attack_rows
    echo
    echo "## Raw runs"
    echo
    echo "| round | server | phase | requests | req/s | p99 ms | non-2xx | connect | read | write | timeout | RSS MiB peak | tree RSS MiB peak | crashes | attacker CPU | attacker ready | note |"
    echo "|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|"
    awk -F'\t' -v OFS=' | ' '{ $1 = $1; print "| " $0 " |" }' "$RESULTS"
}

main() {
    parse_bench_args "$@"
    local name server
    for name in DURATION ROUNDS WARMUP CONNECTIONS LARGE_MB CGI_LINES FCGI_CHILDREN SLOWLORIS_INTERVAL_MS \
        SLOW_READ_BYTES PIPELINE_READ_KB NOFILE ATTACK_READY_TIMEOUT SETTLE_TIMEOUT; do
        check_number "$name" "${!name}" 1
    done
    for name in SLOWLORIS SLOW_FILE SLOW_CGI PIPELINE CHURN_RATE CGI_PAUSE_MS; do
        check_number "$name" "${!name}" 0
    done
    for server in $SERVERS; do port_of "$server" >/dev/null; done
    # --all: the count of the machine, not of this shell's affinity (which is pinned below).
    (($(nproc --all) >= 2)) || die "needs two cores at least: one for the servers, one for the clients"
    # The attacker holds one fd per connection (churn: up to a second's worth), the server as many.
    local fds=$((SLOWLORIS + SLOW_FILE + SLOW_CGI + PIPELINE + (CHURN_RATE < 1024 ? CHURN_RATE : 1024) + CONNECTIONS + 100))
    ((fds <= NOFILE)) || die "the attack needs about $fds open files, more than NOFILE=$NOFILE"
    raise_fd_limit "$NOFILE"

    prepare "$BUILD" "$SERVERS"
    require_tools curl wrk taskset pgrep ps awk
    # This shell (and the samplers and checks it runs) on the client core too: a server under attack
    # may keep its core busy for seconds at a time (lighttpd with a thousand CGI scripts), and a
    # harness sharing it would both slow down and take from the server. Servers get their own core
    # from taskset all the same.
    taskset -pc "$CLIENT_CPU" $$ >/dev/null
    CLK_TCK=$(getconf CLK_TCK)
    LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
    log "about $((ROUNDS * $(wc -w <<<"$SERVERS") * (2 * DURATION + 20)))s of measuring ahead (more while attackers connect and servers settle)"

    make_bench_tmp
    install_traps
    RESULTS="$BENCH_TMP/results.tsv"
    ATTACKS="$BENCH_TMP/attacks.tsv"
    : >"$RESULTS"
    : >"$ATTACKS"
    build_attacker
    make_docroot
    start_all
    run_rounds
    stop_servers

    local results_dir="$BENCH_ROOT/bench/results" md
    mkdir -p "$results_dir"
    md="$results_dir/hostile-$(date +%Y%m%d-%H%M%S).md"
    report >"$md"
    echo
    cat "$md"
    echo
    log "saved $md"
    ((NOT_MET == 0))
}

main "$@"
