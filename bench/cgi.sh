#!/usr/bin/env bash
# The CGI benchmark of issue 5: the same trivial shell script run by flashd (flash-cgi runners) and by
# lighttpd's mod_cgi, side by side: each server pinned to core 0 (with every process it starts), wrk to
# core 1, interleaved rounds, median req/s. Bounded in time; cleans up on exit.
#
# usage: bench/cgi.sh [--no-build]   (env: DURATION=10 ROUNDS=3 CONNECTIONS=8 FLASHD=out/bin/flashd)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"
CONNECTIONS="${CONNECTIONS:-8}"
FLASHD="${FLASHD:-$PWD/out/bin/flashd}"
FLASHD_PORT=18191
LIGHTTPD_PORT=18192

if [[ "${1:-}" != "--no-build" ]]; then
  scripts/install-deps.sh --bench
  scripts/publish.sh >/dev/null
fi

tmp=$(mktemp -d /tmp/flashd-cgi-bench.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

mkdir -p "$tmp/www/cgi-bin" "$tmp/run"
cat > "$tmp/www/cgi-bin/hello.cgi" <<'SCRIPT'
#!/bin/sh
printf 'Content-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n'
SCRIPT
chmod 755 "$tmp/www/cgi-bin/hello.cgi"

cat > "$tmp/flashd.json" <<JSON
{ "AccessLog": "off", "Cgi": { "Runners": $CONNECTIONS } }
JSON
cat > "$tmp/lighttpd.conf" <<CONF
server.modules = ( "mod_cgi", "mod_alias" )
server.document-root = "$tmp/www"
server.bind = "127.0.0.1"
server.port = $LIGHTTPD_PORT
server.errorlog = "$tmp/lighttpd.err"
server.max-keep-alive-requests = 1000000
cgi.assign = ( ".cgi" => "" )
CONF

start() { # name command...
  local name=$1; shift
  taskset -c 0 "$@" >"$tmp/$name.log" 2>&1 &
  pids+=($!)
}
wait_port() {
  for _ in $(seq 1 150); do
    curl -sf -o /dev/null "http://127.0.0.1:$1/cgi-bin/hello.cgi" && return 0
    sleep 0.1
  done
  echo "server on port $1 did not answer" >&2; exit 1
}

start flashd "$FLASHD" start "$tmp/www" --listen "127.0.0.1:$FLASHD_PORT" --run-dir "$tmp/run" --config "$tmp/flashd.json"
start lighttpd lighttpd -D -f "$tmp/lighttpd.conf"
wait_port $FLASHD_PORT
wait_port $LIGHTTPD_PORT

declare -A results=()
for round in $(seq 1 "$ROUNDS"); do
  for server in flashd lighttpd; do
    port=$FLASHD_PORT; [[ $server == lighttpd ]] && port=$LIGHTTPD_PORT
    rps=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "http://127.0.0.1:$port/cgi-bin/hello.cgi" |
      awk '/Requests\/sec/ {print $2}')
    echo "round $round: $server $rps req/s" >&2
    results[$server]+="$rps "
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
f=$(echo "${results[flashd]}" | median)
l=$(echo "${results[lighttpd]}" | median)
echo "| server | median req/s | vs lighttpd mod_cgi |"
echo "|---|--:|--:|"
echo "| flashd | $f | $(awk -v a="$f" -v b="$l" 'BEGIN {printf "%.2fx", a/b}') |"
echo "| lighttpd mod_cgi | $l | 1.00x |"
