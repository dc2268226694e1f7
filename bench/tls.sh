#!/usr/bin/env bash
# HTTPS side by side: flashd (Tls.Listen) against nginx (ssl, the same certificate, key and protocols, OpenSSL 3's
# default ciphers on both, session tickets on), each pinned to SERVER_CPU, clients pinned to CLIENT_CPU. Per server and
# round (rounds interleaved, each server restarted per round):
#   - full handshakes/s: `openssl s_time -new` (a new connection and a full TLS 1.3 handshake per GET /1k.bin);
#   - resumed handshakes/s: `openssl s_time -reuse` (the session resumed on each new connection);
#   - keep-alive req/s at 1 KB and 64 KB: wrk -c CONNECTIONS over HTTPS;
# and for each row the server core's busy CPU per operation (/proc/stat), which separates the servers where the
# single client saturates first. Medians of ROUNDS; the report goes to bench/results/tls-DATE.md.
#
# usage: bench/tls.sh [--no-build] [-h|--help]
# env:   ROUNDS=3  DURATION=10  CONNECTIONS=50  SERVERS="flashd nginx"  ROWS="full resumed ka-1k ka-64k"
#        SERVER_CPU=0  CLIENT_CPU=1  BASE_PORT=18080
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-50}"
SERVERS="${SERVERS:-flashd nginx}"
ROWS="${ROWS:-full resumed ka-1k ka-64k}"

usage() {
    echo "usage: $0 [--no-build] [-h|--help]"
    echo "  env: ROUNDS=$ROUNDS DURATION=$DURATION CONNECTIONS=$CONNECTIONS SERVERS=\"$SERVERS\" ROWS=\"$ROWS\""
    echo "       SERVER_CPU=$SERVER_CPU CLIENT_CPU=$CLIENT_CPU"
}

tls_port_of() { echo $(($(port_of "$1") + 10)); }

# s_time_rate MODE PORT: connections per second of one `openssl s_time` run (MODE: new or reuse), from its own count
# over the wall time we measured; prints "connections<TAB>seconds".
s_time_rate() {
    local mode="$1" port="$2" out="$BENCH_TMP/s_time.out" start end
    start=$(date +%s.%N)
    timeout --kill-after=5 $((DURATION + 30)) taskset -c "$CLIENT_CPU" \
        openssl s_time -connect "127.0.0.1:$port" "-$mode" -time "$DURATION" -www /1k.bin >"$out" 2>&1 || true
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" '/connections in .* real seconds/ { n = $1 } END { if (n == "") exit 1; printf "%d\t%.3f\n", n, e - s }' "$out" \
        || { cat "$out" >&2; die "openssl s_time -$mode failed against port $port"; }
}

# measure SERVER ROW ROUND: one row's figure for one server: ops/s and core CPU µs per op, appended to RESULTS.
measure() {
    local server="$1" row="$2" round="$3" port busy0 busy1 ops seconds line tick
    port=$(tls_port_of "$server")
    tick=$(getconf CLK_TCK)
    busy0=$(core_busy_ticks "$SERVER_CPU")
    case "$row" in
        full | resumed)
            line=$(s_time_rate "$([[ $row == full ]] && echo new || echo reuse)" "$port")
            ops=$(cut -f1 <<<"$line")
            seconds=$(cut -f2 <<<"$line")
            ;;
        ka-1k | ka-64k)
            local out="$BENCH_TMP/wrk-$server-$row-$round.out"
            run_wrk "https://127.0.0.1:$port/${row#ka-}.bin" "$DURATION" "$CONNECTIONS" "$out"
            line=$(parse_wrk "$out") || die "cannot parse wrk's output for $server $row"
            ops=$(cut -f1 <<<"$line")
            seconds="$DURATION"
            [[ "$(cut -f5 <<<"$line")" == 0 && "$(cut -f7 <<<"$line")" == 0 ]] || log "warning: $server $row: non-2xx or read errors"
            ;;
    esac
    busy1=$(core_busy_ticks "$SERVER_CPU")
    awk -v s="$server" -v r="$row" -v k="$round" -v n="$ops" -v t="$seconds" -v b=$((busy1 - busy0)) -v hz="$tick" \
        'BEGIN { printf "%s\t%s\t%s\t%.1f\t%.2f\n", s, r, k, n / t, (n > 0 ? b * 1e6 / hz / n : 0) }' >>"$RESULTS"
}

median() { # median COLUMN SERVER ROW
    awk -F'\t' -v c="$1" -v s="$2" -v r="$3" '$1 == s && $2 == r { print $c }' "$RESULTS" | sort -g |
        awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

main() {
    parse_bench_args "$@"
    require_tools wrk nginx openssl curl taskset
    make_bench_tmp
    install_traps
    if ((BUILD)); then
        "$BENCH_ROOT/scripts/publish.sh" >&2
    fi

    local www="$BENCH_TMP/www"
    mkdir -p "$www"
    chmod 0755 "$www"
    random_file "$www/1k.bin" 1024
    random_file "$www/64k.bin" 65536
    # One certificate for both: ECDSA P-256, as most sites now serve.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
        -keyout "$BENCH_TMP/key.pem" -out "$BENCH_TMP/cert.pem" 2>/dev/null
    chmod 0644 "$BENCH_TMP/key.pem" "$BENCH_TMP/cert.pem" # nginx's worker runs as nobody when we are root

    RESULTS="$BENCH_TMP/results.tsv"
    : >"$RESULTS"
    local rows round server row
    read -ra rows <<<"$ROWS"
    log "tls: ${ROUNDS} rounds x ${#rows[@]} rows x $(wc -w <<<"$SERVERS") servers x ${DURATION}s (about $((ROUNDS * ${#rows[@]} * $(wc -w <<<"$SERVERS") * (DURATION + 3) / 60 + 1)) min)"
    for round in $(seq 1 "$ROUNDS"); do
        for server in $SERVERS; do
            case "$server" in
                flashd)
                    cat >"$BENCH_TMP/flashd-tls.json" <<EOF
{ "AccessLog": "off", "Tls": { "Listen": "127.0.0.1:$(tls_port_of flashd)", "Certificate": "$BENCH_TMP/cert.pem", "Key": "$BENCH_TMP/key.pem" } }
EOF
                    SERVER_CONFIG[flashd]="$BENCH_TMP/flashd-tls.json"
                    ;;
                nginx)
                    render "$BENCH_CONF/nginx-tls.conf.in" "$BENCH_TMP/nginx-tls.conf.in" "TLSPORT=$(tls_port_of nginx)" \
                        "CERTIFICATE=$BENCH_TMP/cert.pem" "KEY=$BENCH_TMP/key.pem"
                    SERVER_CONFIG[nginx]="$BENCH_TMP/nginx-tls.conf.in"
                    ;;
                *) die "bench/tls.sh compares flashd and nginx, not '$server'" ;;
            esac
            rm -rf "${BENCH_TMP:?}/$server"
            start_server "$server" "$www"
            curl -sk --fail -o "$BENCH_TMP/check.bin" "https://127.0.0.1:$(tls_port_of "$server")/64k.bin" \
                && cmp -s "$BENCH_TMP/check.bin" "$www/64k.bin" || die "$server: HTTPS GET /64k.bin did not return the file"
            for row in "${rows[@]}"; do
                log "round $round: $server $row"
                measure "$server" "$row" "$round"
            done
            stop_servers
        done
    done

    local report
    report="$BENCH_ROOT/bench/results/tls-$(date +%Y%m%d-%H%M%S).md"
    mkdir -p "$(dirname "$report")"
    {
        echo "# bench/tls.sh, $(date -u +%Y-%m-%dT%H:%MZ)"
        echo
        echo "$(nproc) cores, server on core $SERVER_CPU, client on core $CLIENT_CPU; $ROUNDS rounds of ${DURATION}s, medians;" \
            "$(openssl version); kernel TLS: $(grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null && echo offered || echo 'not offered (no tls ULP)')"
        echo
        echo "| row | flashd /s | nginx /s | flashd/nginx | flashd core µs/op | nginx core µs/op | CPU flashd/nginx |"
        echo "|---|--:|--:|--:|--:|--:|--:|"
        for row in "${rows[@]}"; do
            local f n fc nc
            f=$(median 4 flashd "$row")
            n=$(median 4 nginx "$row")
            fc=$(median 5 flashd "$row")
            nc=$(median 5 nginx "$row")
            awk -v r="$row" -v f="$f" -v n="$n" -v fc="$fc" -v nc="$nc" 'BEGIN {
                printf "| %s | %.0f | %.0f | %s | %.1f | %.1f | %s |\n", r, f, n, (n > 0 ? sprintf("%.2fx", f / n) : "-"), fc, nc,
                    (nc > 0 ? sprintf("%.2fx", fc / nc) : "-") }'
        done
        echo
        echo "Rows: full = openssl s_time -new (full handshake + GET /1k.bin per connection); resumed = s_time -reuse;"
        echo "ka-1k, ka-64k = wrk -t1 -c$CONNECTIONS over HTTPS on kept-alive connections."
        echo
        echo "## Raw runs (server, row, round, ops/s, core µs/op)"
        echo
        echo '```'
        cat "$RESULTS"
        echo '```'
    } >"$report"
    cat "$report"
    log "report: $report"
}

main "$@"
