#!/usr/bin/env bash
# .ci/jupyter-notebooks.sh [--prepare-only | --no-prepare] [NOTEBOOK...]
# Runs notebooks/*.ipynb (or the NOTEBOOKs named) headless in real Jupyter with the stock .NET Interactive kernel and
# fails on any cell error. Prepares first: builds the notebook artifacts and installs the kernel spec under
# artifacts/ (not in the user's Jupyter directories), with the kernel's HTTP endpoint bound to local interfaces only.
# --prepare-only stops after that (it needs NuGet); --no-prepare skips it (inside tools/nested-kvm, which has no
# network and where a publish would take many minutes).
set -euo pipefail

prepare=1
execute=1
case "${1:-}" in
  --prepare-only) execute=0; shift ;;
  --no-prepare) prepare=0; shift ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# The notebooks' `#r "../artifacts/notebook/KvmLab.Interactive.dll"` resolves against the kernel's working
# directory, which Jupyter sets to the notebook's folder. RID-specific so that native libraries sit beside the dlls.
kernels="$root/artifacts/jupyter/kernels"
if [ $prepare = 1 ]; then
  dotnet publish src/KvmLab.Interactive/KvmLab.Interactive.csproj -c Release -r linux-x64 --self-contained false \
    -o artifacts/notebook -nologo -v quiet

  dotnet tool restore
  rm -rf "$kernels"
  mkdir -p "$kernels"
  dotnet interactive jupyter install --path "$kernels"
  python3 - "$kernels" <<'PY'
import json, pathlib, sys
for spec in pathlib.Path(sys.argv[1]).glob("*/kernel.json"):
    k = json.loads(spec.read_text())
    if "--http-local-only" not in k["argv"]:
        k["argv"].append("--http-local-only")
    spec.write_text(json.dumps(k, indent=2))
PY
fi
[ $execute = 1 ] || exit 0
[ -d "$kernels" ] || { echo "jupyter-notebooks: no kernel spec under $kernels: run without --no-prepare first" >&2; exit 2; }
export JUPYTER_PATH="$root/artifacts/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"

out="$root/artifacts/notebooks-executed"
mkdir -p "$out"
status=0
notebooks=("$@")
[ ${#notebooks[@]} -gt 0 ] || notebooks=(notebooks/*.ipynb)
for nb in "${notebooks[@]}"; do
  echo "== $nb"
  # nbconvert exits non-zero when a cell raises; the scan below also catches error outputs it let through.
  # KVMLAB_NOTEBOOK_CELL_TIMEOUT bounds each cell and the kernel's start (nbconvert waits 60 s for a kernel by default;
  # under tools/nested-kvm the .NET kernel takes minutes to come up).
  timeout=${KVMLAB_NOTEBOOK_CELL_TIMEOUT:-600}
  if ! jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout="$timeout" \
      --ExecutePreprocessor.startup_timeout="$timeout" --output-dir "$out" "$nb"; then
    status=1
    continue
  fi
  python3 - "$out/$(basename "$nb")" <<'PY' || status=1
import json, sys
nb = json.load(open(sys.argv[1]))
errors = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
for e in errors:
    print(f"{sys.argv[1]}: {e.get('ename')}: {e.get('evalue')}", file=sys.stderr)
# Charts must arrive as inline HTML that renders offline: plotly.js carried once, by the first chart output.
html = ["".join(o["data"]["text/html"]) for c in nb["cells"] if c["cell_type"] == "code"
        for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
charts = [h for h in html if 'class="kvmlab-chart"' in h]
loaders = [h for h in html if "window.kvmlabPlotly = window.kvmlabPlotly ||" in h]
bad_charts = charts and (len(loaders) != 1 or loaders[0] is not charts[0])
if bad_charts:
    print(f"{sys.argv[1]}: {len(charts)} chart outputs but {len(loaders)} carry plotly.js (expected the first only)", file=sys.stderr)
# Sequences must arrive as KvmLab tables, not the stock kernel's index/value tree.
trees = [h for h in html if "dni-treeview" in h]
if trees:
    print(f"{sys.argv[1]}: {len(trees)} outputs rendered as the stock tree view instead of a table (use .ToTable())", file=sys.stderr)
print(f"{sys.argv[1]}: {len(html)} HTML outputs, {len(charts)} charts, {len(errors)} errors")
sys.exit(1 if errors or bad_charts or trees else 0)
PY
done
exit $status
