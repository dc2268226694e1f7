#!/usr/bin/env bash
# Installs flashd as a systemd service: publishes the executables (NativeAOT where clang exists), installs
# them to /usr/local/lib/flashd with symlinks in /usr/local/bin, creates the `flashd` and `flashd-cgi` system users, and installs
# the units, a default configuration and the logrotate file. Run as root from a checkout.
#
# usage: deploy/install.sh [--prefix /usr/local] [--no-publish] [--no-start]
set -euo pipefail

prefix=/usr/local
publish=1
start=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --no-publish) publish=0; shift ;;
        --no-start) start=0; shift ;;
        -h | --help) sed -n '2,6p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

[[ $(id -u) -eq 0 ]] || { echo "install.sh: run as root" >&2; exit 1; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
libdir="$prefix/lib/flashd"
bindir="$prefix/bin"
staging="$root/out/bin"

if [[ $publish -eq 1 ]]; then
    # NativeAOT when clang is on PATH, framework-dependent otherwise (scripts/publish.sh decides).
    "$root/scripts/publish.sh" "$staging"
fi

for exe in flashd flash-main flash-helper flashctl; do
    [[ -x "$staging/$exe" ]] || { echo "install.sh: $staging/$exe missing (publish first)" >&2; exit 1; }
done

echo "install.sh: installing into $libdir" >&2
install -d -m 0755 "$libdir"
# Everything the publish produced (a framework-dependent publish has .dll files next to the executables).
cp -a "$staging/." "$libdir/"
install -m 0644 "$root/README.md" "$libdir/README.md"
install -d -m 0755 "$bindir"
ln -sfn "$libdir/flashd" "$bindir/flashd"
ln -sfn "$libdir/flashctl" "$bindir/flashctl"

# Two users: main and the helpers run as flashd, CGI scripts as flashd-cgi, who owns nothing main uses.
for user in flashd flashd-cgi; do
    if ! id -u "$user" >/dev/null 2>&1; then
        echo "install.sh: creating the $user system user" >&2
        useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$user"
    fi
done

install -d -m 0755 /etc/flashd
[[ -e /etc/flashd/flashd.json ]] || install -m 0644 "$root/deploy/flashd.json" /etc/flashd/flashd.json
install -d -m 0755 /srv/www
install -d -m 0750 -o flashd -g flashd /var/log/flashd

sed "s#/usr/local/bin/#$bindir/#g; s#/usr/local/lib/flashd/#$libdir/#g" "$root/deploy/flashd.service" > /etc/systemd/system/flashd.service
install -m 0644 "$root/deploy/flashd.socket" /etc/systemd/system/flashd.socket
chmod 0644 /etc/systemd/system/flashd.service
sed "s#/usr/local/bin/#$bindir/#g" "$root/deploy/logrotate.conf" > /etc/logrotate.d/flashd
chmod 0644 /etc/logrotate.d/flashd

if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    systemctl daemon-reload
    if [[ $start -eq 1 ]]; then
        systemctl enable --now flashd.socket flashd.service
        systemctl --no-pager status flashd.service || true
    fi
else
    echo "install.sh: systemd is not running here; units installed, start them on a systemd host" >&2
fi
echo "install.sh: done. flashctl --run-dir /run/flashd status" >&2
