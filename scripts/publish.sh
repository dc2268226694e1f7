#!/usr/bin/env bash
# Publishes flashd's executables into one folder (flashd finds flash-main, flash-helper and
# flash-cgi next to itself). NativeAOT when clang is available, else a framework-dependent
# Release publish into the same folder.
#
# usage: scripts/publish.sh [OUTDIR]      (default OUTDIR: out/bin, relative to the repo root)
# env:   FLASH_AOT=1|0   force NativeAOT on or off (default: on when clang is on PATH)
set -euo pipefail

readonly PROJECTS=(Flash.Supervisor Flash.Main Flash.Helper Flash.Cgi Flash.Ctl)
readonly EXECUTABLES=(flashd flash-main flash-helper flash-cgi flashctl)

usage() {
    echo "usage: $0 [OUTDIR]   (default: out/bin; env FLASH_AOT=1|0 forces NativeAOT on/off)"
}

main() {
    case "${1:-}" in
        -h | --help) usage; return 0 ;;
        -*) usage >&2; return 2 ;;
    esac

    local root
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    local outdir="${1:-$root/out/bin}"
    mkdir -p "$outdir"
    outdir=$(cd "$outdir" && pwd)

    local aot="${FLASH_AOT:-}"
    if [[ -z "$aot" ]]; then
        if command -v clang >/dev/null 2>&1; then aot=1; else aot=0; fi
    fi

    local mode_args
    if [[ "$aot" == 1 ]]; then
        echo "publish: NativeAOT into $outdir" >&2
        mode_args=(-p:PublishAot=true)
    else
        echo "publish: framework-dependent (no clang) into $outdir" >&2
        mode_args=(-p:PublishAot=false --self-contained false)
    fi

    # One project at a time: they share Flash.Protocol's obj/ folder, so parallel publishes collide.
    local project
    for project in "${PROJECTS[@]}"; do
        echo "publish: $project" >&2
        dotnet publish "$root/$project/$project.csproj" -c Release -r linux-x64 \
            "${mode_args[@]}" -o "$outdir" --nologo
    done

    local exe missing=0
    for exe in "${EXECUTABLES[@]}"; do
        if [[ ! -x "$outdir/$exe" ]]; then
            echo "publish: missing executable $outdir/$exe" >&2
            missing=1
        fi
    done
    [[ $missing -eq 0 ]] || return 1
    echo "publish: done: ${EXECUTABLES[*]} in $outdir" >&2
    echo "publish: run $outdir/flashd start DOCROOT, then $outdir/flashctl status (deploy/install.sh puts both on PATH)" >&2
}

main "$@"
