#!/usr/bin/env bash
# .ci/kvm-tests.sh FILTER: runs the built test assemblies (no build) with a vstest FILTER and prints each failure in
# full, one summary line per assembly in dotnet test's own format, and the KVM backend they ran on. .ci/run calls it
# inside tools/nested-kvm (SVM), where a build or an MSBuild evaluation would cost minutes, so it runs the assemblies
# directly: from KVMLAB_TEST_ASSEMBLIES/<name>/<name>.dll when that is set (ReadyToRun copies), else from each test
# project's Debug output. KVMLAB_TEST_PROJECTS (names, space-separated) limits it to those projects: .ci/run runs two
# harness guests side by side, one per share of the projects, one host core each.
set -uo pipefail
cd "$(dirname "$0")/.."
filter=${1:?usage: .ci/kvm-tests.sh FILTER}
backend=$(for m in kvm_intel kvm_amd kvm_pvm; do [ -d /sys/module/$m ] && printf '%s ' $m; done)
status=0
for project in tests/KvmLab*.Tests; do
  name=$(basename "$project")
  if [ -n "${KVMLAB_TEST_PROJECTS:-}" ]; then
    case " $KVMLAB_TEST_PROJECTS " in *" $name "*) ;; *) continue ;; esac
  fi
  if [ -n "${KVMLAB_TEST_ASSEMBLIES:-}" ]; then dll=$KVMLAB_TEST_ASSEMBLIES/$name/$name.dll; else dll=$project/bin/Debug/net10.0/$name.dll; fi
  # An assembly without a KVM fact would only cost a test-host start (half a minute under emulation).
  if ! grep -rqE '\[(Kvm|Compare|Qemu)(Fact|Theory)' --include='*.cs' "tests/$name"; then
    echo "kvm-tests: $name has no KVM tests"
    continue
  fi
  # Left out when the filter excludes the whole assembly (not only a namespace of it).
  case "$filter&" in *"FullyQualifiedName!~$name&"*) echo "kvm-tests: $name is left out by the filter"; continue ;; esac
  [ -f "$dll" ] || { echo "kvm-tests: $dll is missing: build (or publish) the tests first"; status=1; continue; }
  log=$(mktemp)
  started=$SECONDS
  echo "kvm-tests: $name ..."
  dotnet test "$dll" --filter "$filter" --blame-hang-timeout 15m --blame-hang-dump-type none \
    --logger "console;verbosity=normal" >"$log" 2>&1
  rc=$?
  # Failures in full; passes only counted.
  grep -vE '^\s+Passed |^\[xUnit.net [^]]*\] +(Discover|Start|Finish)|^\s*$' "$log" | grep -vE '^(VSTest|Starting test|A total of|Test run for)' | head -600
  # The slowest tests, so that the budget under emulation can be seen and kept.
  grep -E '^\s+(Passed|Failed) .*\]$' "$log" | sed -E 's/^\s+(Passed|Failed) (.*) \[([^]]*)\]$/\3|\2/' |
    awk -F'|' '{ n = split($1, a, " "); s = 0
                 for (i = 1; i < n; i += 2) { u = a[i + 1]; if (u == "h") s += a[i] * 3600; else if (u == "m") s += a[i] * 60; else if (u == "s") s += a[i]; else if (u == "ms") s += a[i] / 1000 }
                 printf "%8.1f s  %s\n", s, substr($2, 1, 150) }' | sort -rn | head -8 | sed 's/^/kvm-tests:   slowest /'
  passed=$(grep -cE '^\s+Passed ' "$log")
  failed=$(grep -cE '^\s+Failed ' "$log")
  skipped=$(grep -cE '^\s+Skipped ' "$log")
  if grep -q 'No test matches the given testcase filter' "$log"; then rc=0; fi
  [ "$rc" -eq 0 ] && verdict='Passed!' || verdict='Failed!'
  echo "$verdict  - Failed: $failed, Passed: $passed, Skipped: $skipped, Total: $((passed + failed + skipped)) - $name on ${backend:-no KVM module}, $((SECONDS - started)) s"
  [ "$rc" -eq 0 ] || status=1
  rm -f "$log"
done
exit $status
