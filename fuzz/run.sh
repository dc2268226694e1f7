#!/usr/bin/env bash
# fuzz/run.sh TARGET SECONDS: builds flash-fuzz (Release), instruments the assemblies under test with
# sharpfuzz, fuzzes TARGET under afl++ for SECONDS from the seed corpus fuzz/corpus/TARGET/, then prints
# afl's figures and replays each crash. Findings stay in fuzz/findings/TARGET/ (not committed).
# MINIMIZE=1 also writes an afl-cmin set of the queue to fuzz/findings/TARGET/cmin/ (to add to the corpus).
set -euo pipefail

if [[ $# -ne 2 || ! $2 =~ ^[0-9]+$ ]]; then
    echo "usage: fuzz/run.sh TARGET SECONDS   (targets: ls fuzz/corpus)" >&2
    exit 2
fi
target=$1
duration=$2
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=$root/fuzz/corpus/$target
if [[ ! -d $corpus ]]; then
    echo "no corpus for target '$target' (fuzz/corpus/$target)" >&2
    exit 2
fi

work=$root/fuzz/findings/$target
bin=$work/bin
out=$work/out
mkdir -p "$work"

if ! command -v afl-fuzz >/dev/null; then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq afl++ >/dev/null
fi

cd "$root"
dotnet tool restore >/dev/null

# A fresh output folder each time: sharpfuzz rewrites the assemblies in place, so they must never be
# the ones a normal build (or an earlier run) left there.
rm -rf "$bin"
dotnet build fuzz/Flash.Fuzz -c Release -o "$bin" -v quiet -nologo -clp:ErrorsOnly
instrument() { dotnet sharpfuzz "$bin/$1" "${@:2}" >/dev/null; echo "instrumented $1 ${*:2}"; }
instrument Flash.Http.dll
instrument Flash.Protocol.dll
# Only the CGI code of main: the rest of it never runs here and would only add noise.
instrument flash-main.dll Flash.Main.Cgi
[[ $target != frame ]] || instrument MessagePack.dll

afl_pid=""
cleanup() {
    # afl-fuzz runs in its own process group (setsid): end that group, the harness processes included.
    if [[ -n $afl_pid ]] && kill -0 "$afl_pid" 2>/dev/null; then
        kill -TERM -- "-$afl_pid" 2>/dev/null || true
        sleep 1
        kill -KILL -- "-$afl_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT INT TERM

# dotnet is not an afl-instrumented binary (the assemblies are); the machine's CPU governor and
# core_pattern are not ours to change, and cores are shared, so afl binds to none.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1
rm -rf "$out"
echo "fuzzing $target for ${duration}s; log: $work/afl.log"
setsid afl-fuzz -V "$duration" -i "$corpus" -o "$out" -t 5000 -m none -- \
    dotnet "$bin/flash-fuzz.dll" "$target" >"$work/afl.log" 2>&1 &
afl_pid=$!
# afl stops itself after -V seconds; the bound below is for a campaign that does not stop.
deadline=$((SECONDS + duration + 120))
while kill -0 "$afl_pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 5
done
cleanup
wait "$afl_pid" 2>/dev/null || true
afl_pid=""

stats=$out/default/fuzzer_stats
if [[ ! -f $stats ]]; then
    echo "afl-fuzz did not start; the end of its log:" >&2
    tail -20 "$work/afl.log" >&2
    exit 1
fi
stat() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
echo "target:        $target"
echo "run time:      $(stat run_time)s"
echo "execs/s:       $(stat execs_per_sec)"
echo "total execs:   $(stat execs_done)"
echo "corpus count:  $(stat corpus_count) (from $(ls "$corpus" | wc -l) seeds)"
echo "crashes:       $(stat saved_crashes)"
echo "hangs:         $(stat saved_hangs)"
shopt -s nullglob
for crash in "$out"/default/crashes/id:*; do
    dotnet "$bin/flash-fuzz.dll" "$target" "$crash" | head -3 || true
done

if [[ ${MINIMIZE:-0} == 1 ]]; then
    rm -rf "$work/cmin"
    # afl-cmin wants the target program by its full path.
    setsid afl-cmin -i "$out/default/queue" -o "$work/cmin" -t 5000 -m none -- \
        "$(command -v dotnet)" "$bin/flash-fuzz.dll" "$target" >"$work/cmin.log" 2>&1 &
    afl_pid=$!
    wait "$afl_pid" || { echo "afl-cmin failed; see $work/cmin.log" >&2; exit 1; }
    afl_pid=""
    echo "minimized:     $(ls "$work/cmin" | wc -l) files, $(du -sh "$work/cmin" | cut -f1) in $work/cmin"
fi
