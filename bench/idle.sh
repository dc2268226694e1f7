#!/usr/bin/env bash
# Idle keep-alive connections and the memory they cost, side by side: each server (pinned to core 0) is
# warmed up, then bench/idle-clients.c (on core 1) opens IDLE_CONNECTIONS connections, has one request
# answered on each and holds them all idle. The serving process's RSS (flashd's main, nginx's worker,
# lighttpd) is read before, while they are held, and after they are closed; the growth divided by the
# count is the memory an idle connection costs in the server's process (the kernel's socket memory is not
# in RSS and is the same for every server). WAVES waves per server, so a second wave shows whether the
# memory the first one took was given back or reused.
#
# usage: bench/idle.sh [--no-build] [-h|--help]
# env:   IDLE_CONNECTIONS=10000  WAVES=3  SERVERS="flashd nginx lighttpd"  SETTLE_SECONDS=2  NOFILE=20000
#        SERVER_CPU=0  CLIENT_CPU=1  BASE_PORT=18080  FLASHD=out/bin/flashd  CC=cc
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

IDLE_CONNECTIONS="${IDLE_CONNECTIONS:-10000}"
WAVES="${WAVES:-3}"
SERVERS="${SERVERS:-flashd nginx lighttpd}"
SETTLE_SECONDS="${SETTLE_SECONDS:-2}"
NOFILE="${NOFILE:-20000}"

usage() {
    echo "usage: $0 [--no-build] [-h|--help]"
    echo "  env: IDLE_CONNECTIONS=$IDLE_CONNECTIONS WAVES=$WAVES SERVERS=\"$SERVERS\" SETTLE_SECONDS=$SETTLE_SECONDS"
    echo "       NOFILE=$NOFILE SERVER_CPU=$SERVER_CPU CLIENT_CPU=$CLIENT_CPU BASE_PORT=$BASE_PORT FLASHD=$FLASHD"
}

CLIENTS=""   # the compiled bench/idle-clients.c
RESULTS=""   # one line per wave: server wave before-KiB held-KiB after-KiB open failed

build_clients() {
    local cc
    cc=$(command -v "${CC:-cc}" || command -v clang) || die "no C compiler (scripts/install-deps.sh installs clang)"
    CLIENTS="$BENCH_TMP/idle-clients"
    "$cc" -O2 -Wall -Wextra -o "$CLIENTS" "$BENCH_ROOT/bench/idle-clients.c" || die "cannot compile bench/idle-clients.c"
}

# Waits until the server holds no more than COUNT established connections on PORT (10 s at most).
wait_established_at_most() {
    local port="$1" count="$2" deadline=$((SECONDS + 10))
    while (($(established_count "$port" "01 08") > count && SECONDS < deadline)); do
        sleep 0.2
    done
}

# wave SERVER N: one wave of idle connections; appends its line to $RESULTS.
wave() {
    local server="$1" n="$2" port="${SERVER_PORT[$1]}" pids before held after line fifo
    mapfile -t pids < <(serving_pids "$server")
    ((${#pids[@]} > 0)) || die "$server: no serving process found"
    sleep "$SETTLE_SECONDS"
    before=$(rss_kib "${pids[@]}")

    fifo="$BENCH_TMP/idle-$server-$n.out"
    taskset -c "$CLIENT_CPU" "$CLIENTS" --port "$port" --count "$IDLE_CONNECTIONS" --path /1k.bin --hold 600 >"$fifo" &
    local client=$!
    EXTRA_PIDS+=("$client")
    local deadline=$((SECONDS + 120))
    while ! grep -q '^idle ' "$fifo" 2>/dev/null; do
        kill -0 "$client" 2>/dev/null || die "$server: idle-clients exited early"
        ((SECONDS < deadline)) || die "$server: $IDLE_CONNECTIONS connections not open after 120 s"
        sleep 0.2
    done
    sleep "$SETTLE_SECONDS"
    held=$(rss_kib "${pids[@]}")
    read -r _ open _ failed <"$fifo"

    kill -TERM "$client" 2>/dev/null || true
    wait "$client" 2>/dev/null || true
    wait_established_at_most "$port" 0
    sleep "$SETTLE_SECONDS"
    after=$(rss_kib "${pids[@]}")
    line="$server $n $before $held $after $open $failed"
    echo "$line" >>"$RESULTS"
    log "$server wave $n: $open idle connections ($failed failed), RSS $before -> $held -> $after KiB," \
        "$(((held - before) * 1024 / (open > 0 ? open : 1))) B per connection"
}

report() {
    echo
    echo "# Idle keep-alive connections: the serving process's RSS"
    echo
    echo "- $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc --all) cores, kernel $(uname -r); servers on core $SERVER_CPU, idle-clients on core $CLIENT_CPU"
    echo "- each wave: $IDLE_CONNECTIONS connections, one GET /1k.bin answered on each, then held idle; RSS read ${SETTLE_SECONDS} s after"
    echo "  the last opened and ${SETTLE_SECONDS} s after all were closed (VmRSS of flashd's main, nginx's worker, lighttpd)"
    echo
    echo "| server | wave | RSS before MiB | RSS held MiB | bytes per idle connection | RSS after close MiB | connections held | failed |"
    echo "|---|--:|--:|--:|--:|--:|--:|--:|"
    awk '{ per = ($6 > 0) ? ($4 - $3) * 1024 / $6 : 0
           printf "| %s | %d | %.1f | %.1f | %d | %.1f | %d | %d |\n", $1, $2, $3 / 1024, $4 / 1024, per, $5 / 1024, $6, $7 }' "$RESULTS"
}

main() {
    parse_bench_args "$@"
    local server
    for server in $SERVERS; do
        port_of "$server" >/dev/null
    done
    raise_fd_limit "$NOFILE"
    ((IDLE_CONNECTIONS + 100 <= NOFILE)) || die "IDLE_CONNECTIONS=$IDLE_CONNECTIONS does not fit under NOFILE=$NOFILE"
    prepare "$BUILD" "$SERVERS"
    require_tools curl taskset pgrep awk

    make_bench_tmp
    install_traps
    build_clients
    RESULTS="$BENCH_TMP/results.txt"
    : >"$RESULTS"
    local docroot="$BENCH_TMP/www"
    mkdir -m 0755 "$docroot"
    random_file "$docroot/1k.bin" 1024

    for server in $SERVERS; do
        start_server "$server" "$docroot"
        check_response "$server" /1k.bin 200 "$docroot/1k.bin"
        local n
        for ((n = 1; n <= WAVES; n++)); do
            wave "$server" "$n"
        done
        stop_servers
    done
    report
}

main "$@"
