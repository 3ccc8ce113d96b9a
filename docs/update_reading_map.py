"""Refresh the tables of docs/reading-the-code.md from the package: ``python docs/update_reading_map.py``.

The page numbers the method's modules in reading order (:data:`READING_ORDER`, which follows the
course) and gives every other part of the package one line per folder. The script keeps the
description of every row already on the page, takes a new row's description from the first paragraph
of its docstring (edit it in the page if it reads poorly), and recomputes the line counts, the
modules of each folder and the notebooks that import each module. A module of the method (the top
level of the package, ``theory/``, ``cost/``) that :data:`READING_ORDER` does not name is numbered
after the others and reported, so that it can be given its place; a module named there that no
longer exists is dropped and reported. The text above the first table and the "Paths through the
code" section are kept as they are. tests/test_docs.py fails when the page is stale.
"""

import ast
import importlib
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "reading-the-code.md"

# The method in reading order, session by session of the course (docs/course.md); paths below horq_ref/.
READING_ORDER = (
    ("### Session 1: residual quantization and its guarantee (notebooks 00-02b)",
     ("checks.py", "quantize.py", "theory/bounds.py", "theory/laws.py")),
    ("### Session 2: binary convolution and its cost (notebooks 03-04b)",
     ("bits.py", "im2col.py", "conv.py", "cost/forward.py")),
    ("### Session 3: training through the quantizer (notebooks 05-06b)",
     ("ste.py", "nn/layers.py", "nn/conv_layers.py")),
    ("### Extensions: the backward pass on bits (notebook 08), the scale family (notebook 07)",
     ("binary_backward.py", "cost/backward.py", "scales.py", "theory/family.py", "nn/refit.py")),
)
UNPLACED = "### Not yet placed in the reading order"
METHOD_FOLDERS = ("theory", "cost")  # with the top level: the method
# The other parts, one line per folder, in this order; "horq_ref/" holds the package files.
FOLDERS = ("nn", "fast", "io", "data", "experiments", "interop", "commands", "")
METHOD_TITLE = "## 1. The method, in reading order"
REST_TITLE = "## 2. The rest of the package, one line per folder"
HEADER = ("| step | module | lines | what it holds | notebooks |", "|---|---|---|---|---|")
REST_HEADER = ("| folder | lines | modules | what it holds |", "|---|---|---|---|")

# A method row: | step | [`horq_ref/x.py`](../horq_ref/x.py) | lines | what | notebooks |
ROW = re.compile(r"^\|\s*\d+\s*\|\s*\[`(horq_ref/[\w/]+\.py)`\]\([^)]*\)\s*\|\s*(\d+)\s*\|(.*)\|(.*)\|\s*$")
# A folder row: | [`horq_ref/nn/`](../horq_ref/nn/) | 1,234 | `a`, `b` | what |
REST_ROW = re.compile(r"^\|\s*\[`(horq_ref/[\w/]*)`\]\([^)]*\)\s*\|\s*([\d,]+)\s*\|([^|]*)\|(.*)\|\s*$")


def package_modules(root=ROOT):
    """Every module of the package, as paths relative to ``root``."""
    return sorted(p.relative_to(root).as_posix() for p in (root / "horq_ref").rglob("*.py"))


def is_method(path):
    """A module of the method: a file of the top level, ``theory/`` or ``cost/``, not a package file."""
    parts = Path(path).parts[1:]
    if parts[-1] in ("__init__.py", "__main__.py"):
        return False
    return len(parts) == 1 or (len(parts) == 2 and parts[0] in METHOD_FOLDERS)


def folder_of(path):
    """The folder row a module that is not numbered belongs to (``horq_ref/`` for package files)."""
    parts = Path(path).parts[1:]
    return "horq_ref/" if len(parts) == 1 or parts[0] in METHOD_FOLDERS else f"horq_ref/{parts[0]}/"


def reading_order(root=ROOT):
    """``[(title, [paths])]``: :data:`READING_ORDER` without missing modules, then unplaced ones."""
    modules = set(package_modules(root))
    sections = [(title, [f"horq_ref/{m}" for m in names if f"horq_ref/{m}" in modules])
                for title, names in READING_ORDER]
    placed = {p for _, paths in sections for p in paths}
    unplaced = [m for m in sorted(modules) if is_method(m) and m not in placed]
    return sections + ([(UNPLACED, unplaced)] if unplaced else [])


def line_count(path, root=ROOT):
    return len((root / path).read_text(encoding="utf-8").splitlines())


def dotted(path):
    """``horq_ref/nn/train.py`` -> ``horq_ref.nn.train`` (a package's ``__init__`` -> the package)."""
    parts = list(Path(path).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def notebook_modules(path):
    """Modules a notebook imports from: ``from horq_ref.x import y`` counts for ``horq_ref.x`` and for
    the module that defines ``y`` (so ``from horq_ref import sign`` counts for ``horq_ref.quantize``)."""
    used = set()
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]).splitlines()
        source = "\n".join("#" + s if s.lstrip().startswith(("%", "!")) else s for s in source)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("horq_ref"):
                used.add(node.module)
                module = importlib.import_module(node.module)
                used.update(getattr(getattr(module, a.name, None), "__module__", None) or ""
                            for a in node.names)
    return used


def _description(path, known):
    if path in known:
        return known[path]
    source = ROOT / path / "__init__.py" if path.endswith("/") else ROOT / path
    doc = ast.get_docstring(ast.parse(source.read_text(encoding="utf-8"))) if source.exists() else ""
    first = " ".join((doc or "").strip().split("\n\n")[0].split()).rstrip(".")
    return (first[:1].lower() + first[1:]) if first else "what the folder holds"


def method_tables(known):
    """The Markdown of the numbered tables, one per section of the reading order."""
    notebooks = {nb.stem: notebook_modules(nb) for nb in sorted((ROOT / "notebooks").glob("*.ipynb"))}
    out, step = [], 1
    for title, paths in reading_order():
        out += ["", title, "", *HEADER]
        for path in paths:
            users = [s for s, mods in notebooks.items() if dotted(path) in mods]
            cell = ", ".join(f"[{s.split('_')[0]}](../notebooks/{s}.ipynb)" for s in users) or "—"
            out.append(f"| {step} | [`{path}`](../{path}) | {line_count(path)} | "
                       f"{_description(path, known)} | {cell} |")
            step += 1
    return out


def rest_table(known):
    """The Markdown of the folder table: every module that is not numbered, one row per folder."""
    numbered = {p for _, paths in reading_order() for p in paths}
    by_folder = {}
    for path in package_modules():
        if path not in numbered:
            by_folder.setdefault(folder_of(path), []).append(path)
    out = ["", *REST_HEADER]
    for folder in [f"horq_ref/{f}/" if f else "horq_ref/" for f in FOLDERS]:
        paths = by_folder.pop(folder, [])
        if not paths:
            continue
        names = ", ".join(f"`{Path(p).relative_to(folder).with_suffix('').as_posix()}`" for p in paths)
        lines = sum(line_count(p) for p in paths)
        out.append(f"| [`{folder}`](../{folder}) | {lines:,} | {names} | {_description(folder, known)} |")
    assert not by_folder, f"folders missing from FOLDERS: {sorted(by_folder)}"
    return out


def main():
    text = PAGE.read_text(encoding="utf-8")
    known = {m.group(1): m.group(3).strip() for m in map(ROW.match, text.splitlines()) if m}
    known.update({m.group(1): m.group(4).strip() for m in map(REST_ROW.match, text.splitlines()) if m})
    head = text.split("\n## 1.")[0].rstrip()
    tail = "\n## Paths through the code" + text.split("\n## Paths through the code")[1]
    body = ["", METHOD_TITLE, *method_tables(known), "", REST_TITLE, *rest_table(known)]
    PAGE.write_text(head + "\n" + "\n".join(body) + "\n" + tail, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
    for title, paths in reading_order():
        if title == UNPLACED:
            print(f"not in READING_ORDER (numbered last): {', '.join(paths)}")
    missing = [m for _, names in READING_ORDER for m in names if not (ROOT / "horq_ref" / m).exists()]
    if missing:
        print(f"in READING_ORDER but missing (dropped): {', '.join(missing)}")


if __name__ == "__main__":
    main()
