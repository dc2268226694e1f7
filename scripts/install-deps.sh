#!/usr/bin/env bash
# Installs, with apt, what flashd's tests and benchmarks need. Idempotent: when everything is
# present it only runs a few dpkg-query look-ups, and `apt-get update` runs only when something
# is missing. Works unattended on a fresh Debian 12 machine (no prompts).
#
# usage: scripts/install-deps.sh [--bench] [-h|--help]
#   (default)  tests:      curl, openssl + libssl3 (main's TLS, the s_client tests), clang, zlib1g-dev
#                          (NativeAOT), procps, util-linux (taskset),
#                          perl, libcgi-pm-perl, php-cgi (the CGI tests run Perl, CGI.pm and PHP scripts)
#   --bench    adds        wrk, nginx-light, lighttpd (the side-by-side benchmarks),
#                          fcgiwrap (nginx's CGI in bench/hostile.sh), fio (the device's own read rate
#                          in bench/disk.sh), linux-perf (profiles), haproxy (deploy/haproxy/run.sh)
set -euo pipefail

readonly TEST_PACKAGES=(curl openssl libssl3 clang zlib1g-dev procps util-linux perl libcgi-pm-perl php-cgi)
readonly BENCH_PACKAGES=(wrk nginx-light lighttpd fcgiwrap fio linux-perf haproxy)

usage() {
    echo "usage: $0 [--bench] [-h|--help]"
}

log() {
    echo "install-deps: $*" >&2
}

# True when dpkg has the package fully installed ("install ok installed").
is_installed() {
    local status
    status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [[ "$status" == "install ok installed" ]]
}

# Runs a command as root: directly when we are root, else through sudo (non-interactive).
as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        log "need root (or sudo) to run: $*"
        return 1
    fi
}

# Debian starts nginx and lighttpd as services on port 80 right after installing them.
# The benchmark runs its own instances on loopback ports, so stop those (ignore failures:
# there may be no init system in a container).
stop_services() {
    local service
    for service in "$@"; do
        if command -v service >/dev/null 2>&1; then
            as_root service "$service" stop >/dev/null 2>&1 || true
        fi
    done
}

main() {
    local bench=0
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --bench) bench=1 ;;
            -h | --help) usage; return 0 ;;
            *) usage >&2; return 2 ;;
        esac
        shift
    done

    if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        log "this script needs a Debian-like system with apt-get"
        return 1
    fi

    local wanted=("${TEST_PACKAGES[@]}")
    if [[ $bench -eq 1 ]]; then
        wanted+=("${BENCH_PACKAGES[@]}")
    fi

    local missing=() package
    for package in "${wanted[@]}"; do
        if ! is_installed "$package"; then
            missing+=("$package")
        fi
    done

    if [[ ${#missing[@]} -eq 0 ]]; then
        log "all present: ${wanted[*]}"
        return 0
    fi

    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -q
    # --force-confold: keep existing config files without asking.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}"

    local started=()
    for package in "${missing[@]}"; do
        case "$package" in
            nginx*) started+=(nginx) ;;
            lighttpd) started+=(lighttpd) ;;
            fcgiwrap) started+=(fcgiwrap) ;;
        esac
    done
    if [[ ${#started[@]} -gt 0 ]]; then
        stop_services "${started[@]}"
    fi
    log "done"
}

main "$@"
