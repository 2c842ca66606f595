#!/usr/bin/env bash
# notebooks/site.sh [OUT_DIR]
# Renders the executed chapters (as stored in notebooks/ by notebooks/regenerate.sh) to a static site, one HTML page
# per chapter with its figures inline (nbconvert's HTML exporter) and an index, in OUT_DIR (artifacts/site by default).
# Then checks that a reader whose browser runs no scripts sees every figure: each chart's static SVG is on its page
# in the DOM headless Chromium builds under a policy that forbids every script, and paints its data there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${1:-artifacts/site}
mkdir -p "$out"
chapters=(notebooks/*.ipynb)
jupyter nbconvert --to html --output-dir "$out" "${chapters[@]}"
python3 notebooks/tools/site.py index "$out" "${chapters[@]}"
python3 notebooks/tools/site.py check "$out" "${chapters[@]}"
echo "site: open $out/index.html"
