#!/usr/bin/env bash
# Runs every test of flashd: installs what the tests need (apt), builds, runs all test projects,
# and ends with one summary line "N passed, N failed".
#
# usage: scripts/test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# The crash tests SIGKILL real processes, hundreds a run, and a JIT-run .NET process killed that way leaves its
# debugger FIFOs and diagnostics socket behind in /tmp (clr-debug-pipe-*, dotnet-diagnostic-*: three files each).
# No test uses the debugger or the diagnostics IPC, so no process of the run opens them.
export DOTNET_EnableDiagnostics=0

scripts/install-deps.sh
dotnet build FlashSupervisor.sln -nologo -clp:ErrorsOnly

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# Everything once with the default architecture (amped), then the real-process tests again in sped.
dotnet test FlashSupervisor.sln --no-build -nologo "$@" 2>&1 | tee "$log" || status=$?
FLASHD_TEST_ARCHITECTURE=sped dotnet test tests/Flash.IntegrationTests --no-build -nologo "$@" 2>&1 | tee -a "$log" || status=$?
# And the static-HTTP suite in mp (prefork processes of one connection each; the harness runs 8 of them).
FLASHD_TEST_ARCHITECTURE=mp dotnet test tests/Flash.IntegrationTests --no-build -nologo --filter "FullyQualifiedName~Flash.IntegrationTests.Static" "$@" 2>&1 |
    tee -a "$log" || status=$?

# One line for humans and CI: the totals over every test assembly.
awk '/^(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) {
         if ($i == "Failed:") failed += $(i + 1) + 0
         if ($i == "Passed:") passed += $(i + 1) + 0
       }
     }
     END { printf "%d passed, %d failed\n", passed, failed }' "$log"
exit "$status"
