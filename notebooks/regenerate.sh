#!/usr/bin/env bash
# notebooks/regenerate.sh [NOTEBOOK...]
# Executes every chapter (or the NOTEBOOKs named) headless in real Jupyter, as CI does (.ci/jupyter-notebooks.sh:
# the stock .NET Interactive kernel, nbconvert, failing on any cell error), and stores the outputs in the chapters
# themselves (notebooks/tools/store_outputs.py), so that GitHub, nbviewer and the static site (notebooks/site.sh)
# show them. Run it on a machine with /dev/kvm (and QEMU for chapter 9, root for chapter 4b's tracepoints); each
# chapter's first output records the CPU, kernel, KVM backend and KvmLab version it was measured on.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
notebooks=("$@")
[ ${#notebooks[@]} -gt 0 ] || notebooks=(notebooks/*.ipynb)
rm -f artifacts/notebooks-executed/*.ipynb
.ci/jupyter-notebooks.sh "${notebooks[@]}"
python3 notebooks/tools/store_outputs.py artifacts/notebooks-executed notebooks "${notebooks[@]}"
