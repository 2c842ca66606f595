#!/usr/bin/env python3
"""Stores the outputs of executed chapters in notebooks/: python3 store_outputs.py EXECUTED_DIR NOTEBOOKS_DIR [NAME...]

Copies each code cell's outputs and execution count from the executed copy into the chapter, by cell id, and keeps
everything else of the chapter as it was (sources, metadata), so that a re-run changes only what was measured.
Leaves out what carries no measurement and differs on every run: the stock kernel's bootstrap script (it names the
kernel's HTTP port) and nbclient's per-cell timestamps. Fails when a chart output has no static image part or a
cell that produces output has none."""
import json
import pathlib
import sys

KERNEL_BOOTSTRAP = "dotnet-interactive-this-cell-"


def text(value):
    return "".join(value) if isinstance(value, list) else value


def kept(output):
    html = text(output.get("data", {}).get("text/html", ""))
    return KERNEL_BOOTSTRAP not in html


def store(executed_path, chapter_path):
    executed = json.loads(executed_path.read_text())
    chapter = json.loads(chapter_path.read_text())
    by_id = {c.get("id"): c for c in executed["cells"]}
    problems = []
    for cell in chapter["cells"]:
        if cell["cell_type"] != "code":
            continue
        run = by_id.get(cell.get("id"))
        if run is None or text(run["source"]) != text(cell["source"]):
            problems.append(f"cell {cell.get('id')}: not in the executed copy, or its source differs: execute again")
            continue
        cell["outputs"] = [o for o in run.get("outputs", []) if kept(o)]
        cell["execution_count"] = run.get("execution_count")
        for o in cell["outputs"]:
            if o.get("output_type") == "error":
                problems.append(f"cell {cell['id']}: {o.get('ename')}: {o.get('evalue')}")
            data = o.get("data", {})
            if 'class="kvmlab-chart"' in text(data.get("text/html", "")) and not ({"image/svg+xml", "image/png"} & data.keys()):
                problems.append(f"cell {cell['id']}: a chart output without image/svg+xml or image/png")
    if problems:
        return [f"{chapter_path}: {p}" for p in problems]
    chapter_path.write_text(json.dumps(chapter, indent=1, ensure_ascii=False) + "\n")
    outputs = sum(len(c.get("outputs", [])) for c in chapter["cells"] if c["cell_type"] == "code")
    print(f"{chapter_path}: {outputs} outputs stored")
    return []


def main():
    executed_dir, chapters_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    names = sys.argv[3:] or sorted(p.name for p in chapters_dir.glob("*.ipynb"))
    # A chapter with a problem keeps its previous outputs; the others are stored, and the problems reported at the end.
    problems = [p for name in names for p in store(executed_dir / pathlib.Path(name).name, chapters_dir / pathlib.Path(name).name)]
    if problems:
        raise SystemExit("\n".join(problems))


if __name__ == "__main__":
    main()
