#!/usr/bin/env bash
# .ci/kvm-tests.sh FILTER: runs the built test assemblies (Debug, no build) with a vstest FILTER and prints one
# summary line per assembly and the KVM backend they ran on. .ci/run calls it inside tools/nested-kvm (SVM), where
# a build or an MSBuild evaluation would cost minutes, so it runs the assemblies directly.
set -uo pipefail
cd "$(dirname "$0")/.."
filter=${1:?usage: .ci/kvm-tests.sh FILTER}
backend=$(for m in kvm_intel kvm_amd kvm_pvm; do [ -d /sys/module/$m ] && printf '%s ' $m; done)
status=0
for dll in tests/*/bin/Debug/net10.0/KvmLab*.Tests.dll; do
  name=$(basename "$dll" .dll)
  # An assembly without a KVM fact would only cost a test-host start (half a minute under emulation).
  if ! grep -rqE '\[(Kvm|Compare|Qemu)(Fact|Theory)' --include='*.cs' "tests/$name"; then
    echo "kvm-tests: $name has no KVM tests"
    continue
  fi
  log=$(mktemp)
  started=$SECONDS
  dotnet test "$dll" --filter "$filter" --blame-hang-timeout 10m --blame-hang-dump-type none \
    --logger "console;verbosity=normal" >"$log" 2>&1
  rc=$?
  # Only what a reader needs: failures in full, passes as one line each.
  grep -E '^\s+(Failed|Skipped) |^\s+Error Message|^\s+Stack Trace|^\[xUnit.net .*\] +(at |/)|^(Passed|Failed)!|No test matches' "$log" | head -400
  if grep -q 'No test matches the given testcase filter' "$log"; then rc=0; fi
  echo "kvm-tests: $name on ${backend:-no KVM module}: exit $rc after $((SECONDS - started)) s"
  [ "$rc" -eq 0 ] || status=1
  rm -f "$log"
done
exit $status
