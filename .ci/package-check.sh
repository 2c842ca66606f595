#!/usr/bin/env bash
# .ci/package-check.sh: what a user of the packages gets, checked from the repository root.
#   1. `dotnet pack Teaching.sln` into a temporary feed: exactly the shipped packages, each with its README and
#      symbols; KvmLab.Interactive with its kernel extension in interactive-extensions/dotnet and the KvmLab assemblies
#      it bundles; KvmLab.Cli a tool package whose command is kvmlab.
#   2. `dotnet tool install` of KvmLab.Cli from that feed into a temporary tool path, then `kvmlab --version`,
#      `kvmlab guests`, `kvmlab doctor` (0: KVM works, 3: it does not), `kvmlab run hello` (exit 33, the guest's
#      success, with its greeting on stdout) and `kvmlab run pci-scan` (edu found at 00:02.0) - natively, or through
#      tools/nested-kvm on a host without /dev/kvm.
#   3. tools/publish-native: the natively compiled kvmlab says "(native)", runs hello (natively or through the
#      harness) and hands `script` to the JIT-compiled build published beside it.
#   4. tests/packaging/nuget-setup.ipynb in real Jupyter (.ci/jupyter-notebooks.sh), its only set-up the two lines
#      `#i "nuget: FEED"` and `#r "nuget: KvmLab.Interactive, VERSION"`: the extension must load from the package and
#      the hello trace come out as KvmLab's HTML. It boots a guest, so without /dev/kvm it is skipped (say so).
# The packages get a version of their own (BASE-check.TIMESTAMP): the kernel restores into the global NuGet folder,
# where an earlier 0.1.0 would otherwise be used instead of the one just packed. That version is removed from the
# global folder at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

base=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
version="$base-check.$(date +%Y%m%d%H%M%S)"
# Under artifacts/, not /tmp: tools/nested-kvm sees this tree, and the tool must run there on a host without KVM.
mkdir -p artifacts
work=$(mktemp -d "$root/artifacts/package-check.XXXXXX")
feed=$work/feed
ids=(KvmLab KvmLab.Guests KvmLab.Charts KvmLab.Interactive KvmLab.Cli)
global=${NUGET_PACKAGES:-$HOME/.nuget/packages}
cleanup() {
  rm -rf "$work"
  for id in "${ids[@]}"; do
    rm -rf "$global/${id,,}/$version"
    rmdir "$global/${id,,}" 2>/dev/null || true
  done
}
trap cleanup EXIT

checks=0
ok() { checks=$((checks + 1)); echo "package-check: ok: $*"; }
fail() { echo "package-check: FAILED: $*" >&2; exit 1; }

if [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; then native_kvm=1; else native_kvm=0; fi

echo "package-check: dotnet pack Teaching.sln -c Release, version $version, into $feed"
dotnet pack Teaching.sln -c Release -o "$feed" -p:Version="$version" -nologo -v quiet
ls -l "$feed"

python3 - "$feed" "$version" "${ids[@]}" <<'PY' || fail "package contents (above)"
import re, sys, zipfile, pathlib
feed, version, ids = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
problems = []
def say(msg): problems.append(msg)

found = sorted(p.name for p in feed.glob("*.nupkg"))
expected = sorted(f"{i}.{version}.nupkg" for i in ids)
if found != expected:
    say(f"feed holds {found}, expected exactly {expected} (tests and helpers must not pack)")

for i in ids:
    nupkg, snupkg = feed / f"{i}.{version}.nupkg", feed / f"{i}.{version}.snupkg"
    if not nupkg.exists():
        continue
    z = zipfile.ZipFile(nupkg)
    names = set(z.namelist())
    nuspec = z.read(f"{i}.nuspec").decode("utf-8-sig")
    field = lambda tag: (re.search(f"<{tag}>(.*?)</{tag}>", nuspec, re.S) or [None, None])[1]
    if field("authors") != "KvmLab": say(f"{i}: authors {field('authors')!r}, expected 'KvmLab'")
    if not field("description"): say(f"{i}: no description")
    if field("readme") != "README.md" or "README.md" not in names: say(f"{i}: README.md not packed as its readme")
    if not snupkg.exists() or not any(n.endswith(".pdb") for n in zipfile.ZipFile(snupkg).namelist()):
        say(f"{i}: no symbol package with pdbs")
    summary = f"{i}: {len(names)} entries, {nupkg.stat().st_size / 1e6:.1f} MB"

    if i == "KvmLab.Cli":
        settings = z.read("tools/net10.0/any/DotnetToolSettings.xml").decode("utf-8-sig")
        if 'name="DotnetTool"' not in nuspec: say("KvmLab.Cli: not a DotnetTool package")
        if 'Name="kvmlab"' not in settings: say("KvmLab.Cli: the tool's command is not kvmlab")
        natives = sorted({n.split("/")[4] for n in names if n.startswith("tools/net10.0/any/runtimes/")})
        if natives != ["linux-musl-x64", "linux-x64"]: say(f"KvmLab.Cli: native assets for {natives}")
        summary += f", command kvmlab, native assets for {', '.join(natives)}"
    elif i == "KvmLab.Interactive":
        need = ["interactive-extensions/dotnet/KvmLab.Interactive.dll"] + [
            f"lib/net10.0/{a}.{ext}" for a in ("KvmLab", "KvmLab.Guests", "KvmLab.Charts", "KvmLab.Interactive") for ext in ("dll", "xml")]
        for n in need:
            if n not in names: say(f"KvmLab.Interactive: {n} missing")
        deps = re.findall(r'<dependency id="([^"]+)"', nuspec)
        wrong = [d for d in deps if d.startswith("KvmLab") or d.startswith("Microsoft.DotNet.Interactive")]
        if wrong: say(f"KvmLab.Interactive: depends on {wrong} (bundled or brought by the kernel)")
        pdbs = sorted(n.split("/")[-1] for n in zipfile.ZipFile(snupkg).namelist() if n.endswith(".pdb"))
        if len(pdbs) != 4: say(f"KvmLab.Interactive: symbol package holds {pdbs}")
        summary += f", extension in interactive-extensions/dotnet, bundles KvmLab, Guests, Charts (dll+xml), depends on {', '.join(deps)}"
    else:
        if f"lib/net10.0/{i}.dll" not in names or f"lib/net10.0/{i}.xml" not in names: say(f"{i}: lib/net10.0/{i}.dll or .xml missing")
    print(f"package-check: {summary}")

for p in problems:
    print(f"package-check: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
ok "feed holds exactly ${ids[*]} (+ snupkg each), READMEs, authors, descriptions, the tool and the notebook extension layout"

tools=$work/tools
dotnet tool install --tool-path "$tools" KvmLab.Cli --version "$version" --add-source "$feed"
kvmlab=$tools/kvmlab
[ -x "$kvmlab" ] || fail "dotnet tool install left no kvmlab in $tools"
reported=$("$kvmlab" --version)
[ "$reported" = "kvmlab $base.0 (jit)" ] || fail "kvmlab --version printed '$reported'"
ok "dotnet tool install KvmLab.Cli --add-source FEED gives kvmlab ($reported)"

"$kvmlab" guests >"$work/guests.txt" || fail "kvmlab guests exited $?"
for g in hello pci-scan pcie-scan virtio-rng; do
  grep -q "^ *$g " "$work/guests.txt" || fail "kvmlab guests does not list $g"
done
ok "kvmlab guests lists the library ($(grep -cE '^  [a-z][a-z0-9-]+ +(real|protected|long)' "$work/guests.txt") guests)"

set +e
"$kvmlab" doctor >"$work/doctor.txt" 2>&1
doctor=$?
set -e
case "$native_kvm:$doctor" in
  1:0) ok "kvmlab doctor: KVM works (exit 0)" ;;
  0:3) ok "kvmlab doctor: no usable KVM on this host, said so with exit 3" ;;
  *) cat "$work/doctor.txt"; fail "kvmlab doctor exited $doctor with native KVM=$native_kvm" ;;
esac

set +e
if [ $native_kvm = 1 ]; then
  how="on this host's KVM"
  "$kvmlab" run hello >"$work/hello.out" 2>"$work/hello.err"
  rc=$?
else
  how="on SVM through tools/nested-kvm (this host has no /dev/kvm)"
  KVMLAB_RUN_TIMEOUT=250 tools/nested-kvm "$kvmlab" run hello >"$work/hello.out" 2>"$work/hello.err"
  rc=$?
fi
set -e
[ $rc = 33 ] && grep -qx "hello: done" "$work/hello.out" \
  || { cat "$work/hello.out" "$work/hello.err"; fail "kvmlab run hello $how exited $rc (33 is the guest's success)"; }
ok "kvmlab run hello $how: exit 33, stdout '$(head -1 "$work/hello.out")'"

set +e
if [ $native_kvm = 1 ]; then
  "$kvmlab" run pci-scan >"$work/pci-scan.out" 2>"$work/pci-scan.err"
else
  KVMLAB_RUN_TIMEOUT=250 tools/nested-kvm "$kvmlab" run pci-scan >"$work/pci-scan.out" 2>"$work/pci-scan.err"
fi
rc=$?
set -e
[ $rc = 33 ] && grep -q "^00:02.0 1234:11E8" "$work/pci-scan.out" \
  || { cat "$work/pci-scan.out" "$work/pci-scan.err"; fail "kvmlab run pci-scan $how exited $rc or found no edu at 00:02.0"; }
ok "kvmlab run pci-scan $how: exit 33, $(grep -c '^[0-9a-f][0-9a-f]:' "$work/pci-scan.out") functions found, edu at 00:02.0"

native_dir=$work/native
tools/publish-native "$native_dir" >"$work/native.log" 2>&1 || { cat "$work/native.log"; fail "tools/publish-native failed (above)"; }
native_version=$("$native_dir/kvmlab" --version)
[[ "$native_version" == *" (native)" ]] || fail "the natively compiled kvmlab --version printed '$native_version'"
ok "tools/publish-native: $native_version, $(($(stat -c %s "$native_dir/kvmlab") / 1024 / 1024)) MiB, every command but script and bench compiled ahead of time"
set +e
if [ $native_kvm = 1 ]; then
  "$native_dir/kvmlab" run hello >"$work/native-hello.out" 2>"$work/native-hello.err"
else
  KVMLAB_RUN_TIMEOUT=250 tools/nested-kvm "$native_dir/kvmlab" run hello >"$work/native-hello.out" 2>"$work/native-hello.err"
fi
rc=$?
set -e
[ $rc = 33 ] && grep -qx "hello: done" "$work/native-hello.out" \
  || { cat "$work/native-hello.out" "$work/native-hello.err"; fail "the natively compiled kvmlab run hello $how exited $rc"; }
ok "the natively compiled kvmlab run hello $how: exit 33"
echo 'Console.WriteLine($"script ran: {KvmLab.Guests.GuestLibrary.All.Count} guests");' >"$work/count.csx"
"$native_dir/kvmlab" script "$work/count.csx" >"$work/script.out" 2>&1 || { cat "$work/script.out"; fail "the natively compiled kvmlab script exited $?"; }
grep -qE '^script ran: [0-9]+ guests$' "$work/script.out" || { cat "$work/script.out"; fail "kvmlab script through the native kvmlab printed no count"; }
ok "the natively compiled kvmlab hands script to the JIT-compiled build: '$(cat "$work/script.out")'"

if [ $native_kvm = 0 ]; then
  echo "package-check: skipped: tests/packaging/nuget-setup.ipynb boots a guest and this host has no /dev/kvm"
  echo "package-check: all $checks checks held (the notebook skipped)"
  exit 0
fi

# The notebook as a user would write it: the feed's absolute path and the version just packed.
notebook=$work/nuget-setup.ipynb
python3 - tests/packaging/nuget-setup.ipynb "$notebook" "$feed" "$version" <<'PY'
import json, re, sys
source, target, feed, version = sys.argv[1:]
nb = json.load(open(source))
setup = nb["cells"][1]
text = "".join(setup["source"])
text = re.sub(r'#i "nuget: [^"]*"', f'#i "nuget: {feed}"', text)
text = re.sub(r'#r "nuget: KvmLab.Interactive, [^"]*"', f'#r "nuget: KvmLab.Interactive, {version}"', text)
setup["source"] = text.splitlines(True)
json.dump(nb, open(target, "w"), indent=1)
PY
[ -d artifacts/jupyter/kernels ] || .ci/jupyter-notebooks.sh --prepare-only
.ci/jupyter-notebooks.sh --no-prepare "$notebook" || fail "the notebook did not run cleanly (above)"
python3 - artifacts/notebooks-executed/nuget-setup.ipynb "$version" <<'PY' || fail "the notebook's outputs (above)"
import json, sys
nb = json.load(open(sys.argv[1]))
version = sys.argv[2].lower()
outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
text = "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", "")) for o in outputs)
html = ["".join(o["data"]["text/html"]) for o in outputs if "text/html" in o.get("data", {})]
checks = {
    "the kernel loaded the extension from the package": f"kvmlab.interactive/{version}/interactive-extensions/dotnet/KvmLab.Interactive.dll" in text,
    "the formatters were registered before any display": "package-setup: extension loaded" in text,
    "hello printed its greeting": "hello: done" in text,
    "the trace came out as KvmLab's HTML": any('class="kvmlab-trace"' in h for h in html),
    "a chart came out": any('class="kvmlab-chart"' in h for h in html),
    "Iced's assembler was usable": "package-setup: Iced assembled 'out dx,al'" in text,
}
for claim, held in checks.items():
    print(f"package-check: notebook: {'ok' if held else 'FAILED'}: {claim}")
sys.exit(0 if all(checks.values()) else 1)
PY
ok "tests/packaging/nuget-setup.ipynb in Jupyter, set up by two nuget lines only: extension loaded, trace as KvmLab HTML, chart, guests and Iced"
echo "package-check: all $checks checks held"
