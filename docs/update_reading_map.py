"""Refresh the tables of docs/reading-the-code.md from the package: ``python docs/update_reading_map.py``.

Keeps the description of every module already listed, takes a new module's description from the first
paragraph of its docstring (edit it in the page if it reads poorly), and recomputes the line counts and
the notebooks that import each module. The text above the first table and the "Paths through the code"
section are kept as they are. tests/test_docs.py fails when the page is stale.
"""

import ast
import importlib
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "reading-the-code.md"

# Reading order of the method's own modules (the top level of the package).
TOP_ORDER = ("__init__", "checks", "quantize", "scales", "theory", "bits", "im2col", "conv", "ste",
             "binary_backward", "cost")
SECTIONS = (
    ("## 1. The method (read these first, in this order)", ("horq_ref/",)),
    ("## 2. The theory and the cost model: `horq_ref/theory/`, `horq_ref/cost/`",
     ("horq_ref/theory/", "horq_ref/cost/")),
    ("## 3. Optimized kernels: `horq_ref/fast/`", ("horq_ref/fast/",)),
    ("## 4. Networks: `horq_ref/nn/`", ("horq_ref/nn/",)),
    ("## 5. Files: `horq_ref/io/`", ("horq_ref/io/",)),
    ("## 6. Data: `horq_ref/data/`", ("horq_ref/data/",)),
    ("## 7. Experiments: `horq_ref/experiments/`", ("horq_ref/experiments/",)),
    ("## 8. Exercises: `horq_ref/exercises/`", ("horq_ref/exercises/",)),
    ("## 9. Bridges to other frameworks: `horq_ref/interop/`", ("horq_ref/interop/",)),
    ("## 10. The command line: `horq_ref/commands/`", ("horq_ref/commands/", "horq_ref/__main__.py")),
)
HEADER = ("| step | module | lines | what it holds | notebooks |", "|---|---|---|---|---|")


# A row: | step | [`horq_ref/x.py`](../horq_ref/x.py) | lines | what | notebooks |
ROW = re.compile(r"^\|\s*\d+\s*\|\s*\[`(horq_ref/[\w/]+\.py)`\]\([^)]*\)\s*\|\s*(\d+)\s*\|(.*)\|(.*)\|\s*$")


def package_modules(root=ROOT):
    """Every module of the package, as paths relative to ``root``."""
    return sorted(p.relative_to(root).as_posix() for p in (root / "horq_ref").rglob("*.py"))


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


def _section(path):
    """Index into SECTIONS of a module path (the top level: files directly in horq_ref/)."""
    if path.count("/") == 1 and path != "horq_ref/__main__.py":
        return 0
    return next(i for i, (_, prefixes) in enumerate(SECTIONS)
                if i > 0 and any(path.startswith(p) for p in prefixes))


def _order(path):
    stem = Path(path).stem
    if path.count("/") == 1 and stem in TOP_ORDER:
        return (TOP_ORDER.index(stem), path)
    return (0 if stem == "__init__" else 1, path)


def _description(path, known):
    if path in known:
        return known[path]
    doc = ast.get_docstring(ast.parse((ROOT / path).read_text(encoding="utf-8"))) or ""
    first = " ".join(doc.strip().split("\n\n")[0].split()).rstrip(".")
    return (first[:1].lower() + first[1:]) if first else "what the subpackage holds"


def tables(known):
    """The Markdown of every section's table, steps numbered through the whole page."""
    notebooks = {nb.stem: notebook_modules(nb) for nb in sorted((ROOT / "notebooks").glob("*.ipynb"))}
    by_section = {}
    for path in package_modules(ROOT):
        by_section.setdefault(_section(path), []).append(path)
    out, step = [], 1
    for i, (title, _) in enumerate(SECTIONS):
        if i not in by_section:
            continue
        out += ["", title, "", *HEADER]
        for path in sorted(by_section[i], key=_order):
            lines = len((ROOT / path).read_text(encoding="utf-8").splitlines())
            users = [s for s, mods in notebooks.items() if dotted(path) in mods]
            cell = ", ".join(f"[{s.split('_')[0]}](../notebooks/{s}.ipynb)" for s in users) or "—"
            out.append(f"| {step} | [`{path}`](../{path}) | {lines} | {_description(path, known)} | {cell} |")
            step += 1
    return out


def main():
    text = PAGE.read_text(encoding="utf-8")
    known = {m.group(1): m.group(3).strip() for m in map(ROW.match, text.splitlines()) if m}
    head = text.split("\n## 1.")[0].rstrip()
    tail = "\n## Paths through the code" + text.split("\n## Paths through the code")[1]
    PAGE.write_text(head + "\n" + "\n".join(tables(known)) + "\n" + tail, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
