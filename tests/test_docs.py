"""The docs that describe the code cannot go stale silently.

* docs/reading-the-code.md lists every module of the package, each with a line count close to the
  file's and notebooks that really import from it;
* docs/api.md is exactly what ``python docs/gen_api.py`` writes from the docstrings.

Each check has a negative control.
"""

import importlib
import importlib.util
import re
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
READING_MAP = ROOT / "docs" / "reading-the-code.md"
NOTEBOOK = re.compile(r"notebooks/(\w+)\.ipynb")


def _doc_tool(name):
    """A script of docs/ as a module (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# the page's row format and the import analysis, shared with the script that refreshes the page
_MAP = _doc_tool("update_reading_map")
ROW, package_modules, _dotted, notebook_modules = (
    _MAP.ROW, _MAP.package_modules, _MAP.dotted, _MAP.notebook_modules)


def count_is_close(listed, actual):
    """A listed line count is current if within 15 % or 20 lines of the real one."""
    return abs(listed - actual) <= max(20, 0.15 * actual)


def reading_map_rows(text):
    """``{path: (lines, [notebook stems])}`` from the tables of docs/reading-the-code.md."""
    rows = {}
    for line in text.splitlines():
        m = ROW.match(line)
        if m:
            path, lines, _, notebooks = m.groups()
            assert path not in rows, f"{path} is listed twice"
            rows[path] = (int(lines), NOTEBOOK.findall(notebooks))
    return rows


def reading_map_problems(text, root=ROOT):
    rows, problems = reading_map_rows(text), []
    modules = package_modules(root)
    problems += [f"{m} is not listed" for m in modules if m not in rows]
    problems += [f"{m} is listed but does not exist" for m in rows if m not in modules]
    for path, (listed, notebooks) in rows.items():
        if path not in modules:
            continue
        actual = len((root / path).read_text(encoding="utf-8").splitlines())
        if not count_is_close(listed, actual):
            problems.append(f"{path}: listed {listed} lines, has {actual}")
        for stem in notebooks:
            nb = root / "notebooks" / f"{stem}.ipynb"
            if not nb.exists():
                problems.append(f"{path}: notebook {stem} does not exist")
            elif _dotted(path) not in notebook_modules(nb):
                problems.append(f"{path}: notebook {stem} does not import from {_dotted(path)}")
    return problems


def test_reading_map_is_current():
    problems = reading_map_problems(READING_MAP.read_text(encoding="utf-8"))
    assert not problems, "docs/reading-the-code.md is stale:\n" + "\n".join(problems)


def test_reading_map_is_linked_from_the_entry_points():
    import horq_ref

    for doc in (ROOT / "README.md", ROOT / "docs" / "index.md"):
        assert "reading-the-code.md" in doc.read_text(encoding="utf-8"), doc
    assert "reading-the-code.md" in horq_ref.__doc__


def test_reading_map_negative_controls():
    text = READING_MAP.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if "`horq_ref/quantize.py`" in line)
    n = reading_map_rows(text)["horq_ref/quantize.py"][0]
    missing = text.replace(row + "\n", "")
    assert reading_map_problems(missing) == ["horq_ref/quantize.py is not listed"]
    stale = text.replace(row, row.replace(f"| {n} |", f"| {2 * n} |"))
    assert [p.split(":")[0] for p in reading_map_problems(stale)] == ["horq_ref/quantize.py"]
    wrong_nb = text.replace(row, row.replace("01_residual_quantization", "06_cost_and_speed", 1))
    assert any("does not import" in p for p in reading_map_problems(wrong_nb))
    ghost = text + "| 99 | [`horq_ref/ghost.py`](../horq_ref/ghost.py) | 10 | none | — |\n"
    assert reading_map_problems(ghost) == ["horq_ref/ghost.py is listed but does not exist"]
    assert count_is_close(100, 118) and not count_is_close(100, 125) and count_is_close(10, 30)


def test_notebook_modules_follows_reexports():
    used = notebook_modules(ROOT / "notebooks" / "01_residual_quantization.ipynb")
    assert {"horq_ref", "horq_ref.quantize", "horq_ref.theory"} <= used


def _gen_api():
    return _doc_tool("gen_api")


def test_api_reference_is_generated_from_the_current_docstrings():
    expected = _gen_api().generate()
    committed = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert committed == expected, (
        "docs/api.md is stale: run `python docs/gen_api.py` and commit the result")


def test_api_reference_covers_every_public_name_and_command():
    gen = _gen_api()
    text = gen.generate()
    for name in gen.module_order():
        module = importlib.import_module(name)
        for public in module.__all__:
            home = getattr(getattr(module, public), "__module__", name)
            home = home if home.startswith("horq_ref") else name
            assert f"### `{home}.{public}`" in text, f"{name}.{public}"
    for command in ("bound", "speedup", "bench", "train", "reproduce", "export", "predict", "download"):
        assert f"### `horq-ref {command}`" in text
    assert ">>> " not in text.split("```\n", 2)[-1].replace("`>>>`", "")  # only the header doctests


def test_api_reference_negative_control(monkeypatch):
    gen = _gen_api()
    import horq_ref.quantize as quantize

    before = gen.generate()

    def sign(x, dtype=None, *, strict=True):
        """Binary sign with a new keyword."""

    sign.__module__ = "horq_ref.quantize"
    monkeypatch.setattr(quantize, "sign", sign)
    after = gen.generate()
    assert after != before
    assert "sign(x, dtype=None, *, strict=True)" in after
    assert gen.signature(sign, quantize) == "(x, dtype=None, *, strict=True)"


# The pages whose job is to say where each claim is tested: every test and test file they name exists.
CITING_PAGES = ("paper.md", "paper-vs-implementation.md", "theory.md")


def cited_test_problems(text, test_sources):
    """Test functions (`test_x`) and test files (tests/...py) named in ``text`` that do not exist."""
    names = set(re.findall(r"`(test_\w+)`", text))
    problems = [f"no test named {n}" for n in sorted(names)
                if not re.search(rf"def {n}\b", test_sources)]
    files = set(re.findall(r"\btests/[\w/]+\.py\b", text))
    return problems + [f"no file {f}" for f in sorted(files) if not (ROOT / f).exists()]


def _test_sources():
    return "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py"))


def test_cited_tests_exist():
    sources = _test_sources()
    problems = [f"docs/{page}: {p}" for page in CITING_PAGES
                for p in cited_test_problems((ROOT / "docs" / page).read_text(encoding="utf-8"), sources)]
    assert not problems, "\n".join(problems)


def test_cited_tests_negative_control():
    text = "checked by `test_energy_identity` in tests/test_theory.py"
    assert cited_test_problems(text, _test_sources()) == []
    bad = "checked by `test_no_such_thing` in tests/test_nowhere.py"
    assert cited_test_problems(bad, _test_sources()) == [
        "no test named test_no_such_thing", "no file tests/test_nowhere.py"]


def test_command_output_in_the_docs_is_current():
    """Every block that shows what a command prints is marked and is what the command prints now."""
    gen = _doc_tool("gen_outputs")
    for page in gen.pages():
        text = page.read_text(encoding="utf-8")
        assert not gen.unmarked_output(text), f"{page.name}: command output without a mark"
        assert gen.render(text) == text, (
            f"{page.name} shows stale command output: run `python docs/gen_outputs.py` and commit it")


def test_command_output_negative_controls():
    gen = _doc_tool("gen_outputs")
    stale = ("<!-- output of: horq-ref bound --law uniform --n 4 --orders 1 --groups 3 -->\n"
             "```console\n$ horq-ref bound --law uniform --n 4 --orders 1 --groups 3\nold\n```\n")
    fresh = gen.render(stale)
    assert fresh != stale and "law=uniform  n=4  groups=3  seed=0" in fresh and gen.render(fresh) == fresh
    assert gen.unmarked_output("Output:\n```text\nlaw=normal\n```\n") == ["law=normal"]
    assert gen.unmarked_output("Run:\n```console\n$ horq-ref bound\n```\n") == []  # commands only
