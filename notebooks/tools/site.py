#!/usr/bin/env python3
"""The static site of the executed chapters, and its check that every figure shows without scripts.

  site.py index SITE_DIR NOTEBOOK...   writes SITE_DIR/index.html linking each chapter's page (nbconvert made them)
  site.py check SITE_DIR NOTEBOOK...   for each chapter: every chart output of the notebook is on its page as a static
                                       SVG in the DOM Chromium builds when a policy forbids every script, and each
                                       such SVG, drawn alone under that policy, paints its data in colour
"""
import html
import json
import pathlib
import re
import struct
import subprocess
import sys
import tempfile
import zlib

NO_SCRIPTS = "<meta http-equiv=\"Content-Security-Policy\" content=\"script-src 'none'\">"
CHART = re.compile(r'<div id="(kvmlab-chart-[0-9a-f]+-[0-9]+)" class="kvmlab-chart"[^>]*>(<svg .*?</svg>)\s*</div>', re.S)


def text(value):
    return "".join(value) if isinstance(value, list) else value


def title(notebook):
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            for line in text(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def index(site, notebooks):
    items = "".join(
        f'<li><a href="{html.escape(p.stem)}.html">{html.escape(title(json.loads(p.read_text())) or p.stem)}</a></li>\n'
        for p in notebooks)
    (site / "index.html").write_text(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>KvmLab chapters</title>\n</head>\n<body>\n"
        "<h1>KvmLab chapters</h1>\n<p>Executed with their outputs; each chapter's first output says on what it was measured.</p>\n"
        f"<ol>\n{items}</ol>\n</body>\n</html>\n")
    print(f"{site / 'index.html'}: {len(notebooks)} chapters")


def chromium(*args):
    return subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=180)


def png_pixels(path):
    """(width, height, rows of (r, g, b)) of an 8-bit, non-interlaced RGB or RGBA PNG, as Chromium writes them."""
    data = pathlib.Path(path).read_bytes()
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour not in (2, 6):
                raise SystemExit(f"{path}: PNG colour type {colour}, depth {depth} not handled")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, previous = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b, c = previous[x], previous[x - channels] if x >= channels else 0
            if kind == 1: line[x] = (line[x] + a) & 0xFF
            elif kind == 2: line[x] = (line[x] + b) & 0xFF
            elif kind == 3: line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, channels)])
        previous = line
    return width, height, rows


def coloured(rows):
    """Pixels of a saturated colour: bars, markers and heatmap cells, not text, axes or grid lines (greys)."""
    return sum(1 for row in rows for (r, g, b) in row if max(r, g, b) - min(r, g, b) > 60)


def check(site, notebooks):
    failures, total = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for nb_path in notebooks:
            nb = json.loads(nb_path.read_text())
            charts = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
                      if 'class="kvmlab-chart"' in text(o.get("data", {}).get("text/html", ""))]
            static = [o for o in charts if {"image/svg+xml", "image/png"} & o["data"].keys()]
            page = site / f"{nb_path.stem}.html"
            locked = pathlib.Path(tmp) / page.name
            locked.write_text(page.read_text().replace("<head>", "<head>\n" + NO_SCRIPTS, 1))
            dom = chromium("--virtual-time-budget=5000", "--dump-dom", locked.as_uri()).stdout
            shown = CHART.findall(dom)
            if len(static) != len(charts):
                failures.append(f"{nb_path.name}: {len(charts) - len(static)} of {len(charts)} chart outputs have no static image part")
            if len(shown) != len(charts):
                failures.append(f"{page.name}: {len(charts)} charts in the notebook, {len(shown)} static SVGs on the page without scripts")
            for chart_id, svg in shown:
                alone = pathlib.Path(tmp) / f"{chart_id}.html"
                alone.write_text(f"<!DOCTYPE html><html><head>{NO_SCRIPTS}</head><body style=\"margin:0\">"
                                 f"<div style=\"width:900px\">{svg}</div></body></html>")
                shot = pathlib.Path(tmp) / f"{chart_id}.png"
                chromium("--window-size=900,520", f"--screenshot={shot}", alone.as_uri())
                width, height, rows = png_pixels(shot)
                paint = coloured(rows)
                total += 1
                print(f"  {page.name} {chart_id}: {paint} coloured pixels without scripts")
                if paint < 300:
                    failures.append(f"{page.name}: chart {chart_id} paints {paint} coloured pixels without scripts")
            print(f"{page.name}: {len(charts)} charts, {len(static)} with a static image part, {len(shown)} shown without scripts")
    print(f"no-script check: {total} figures drawn, {len(failures)} problems")
    if failures:
        raise SystemExit("\n".join(failures))


def main():
    command, site, notebooks = sys.argv[1], pathlib.Path(sys.argv[2]), [pathlib.Path(p) for p in sys.argv[3:]]
    {"index": index, "check": check}[command](site, notebooks)


if __name__ == "__main__":
    main()
