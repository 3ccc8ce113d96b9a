"""The docs that describe the code cannot go stale silently.

* docs/reading-the-code.md numbers every module of the method in the order of the package docstring
  and gives every other module one folder line, with line counts close to the files' and notebooks
  that really import from each numbered module;
* docs/api.md is exactly what ``python docs/gen_api.py`` writes from the docstrings, documents each
  name once, and is the same on any machine (other memory, other cores).

Each check has a negative control.
"""

import importlib
import importlib.util
import os
import re
import subprocess
import sys
import textwrap
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


# the page's row formats and the import analysis, shared with the script that refreshes the page
_MAP = _doc_tool("update_reading_map")
ROW, REST_ROW, package_modules, _dotted, notebook_modules = (
    _MAP.ROW, _MAP.REST_ROW, _MAP.package_modules, _MAP.dotted, _MAP.notebook_modules)


def count_is_close(listed, actual):
    """A listed line count is current if within 15 % or 20 lines of the real one."""
    return abs(listed - actual) <= max(20, 0.15 * actual)


def reading_map_rows(text):
    """``({path: (lines, [notebook stems])}, {folder: (lines, [module paths])})`` of the page: the
    numbered modules and the folder lines."""
    rows, folders = {}, {}
    for line in text.splitlines():
        if m := ROW.match(line):
            path, lines, _, notebooks = m.groups()
            assert path not in rows, f"{path} is numbered twice"
            rows[path] = (int(lines), NOTEBOOK.findall(notebooks))
        elif m := REST_ROW.match(line):
            folder, lines, names, _ = m.groups()
            folders[folder] = (int(lines.replace(",", "")),
                               [f"{folder}{n}.py" for n in re.findall(r"`([\w/]+)`", names)])
    return rows, folders


def reading_map_problems(text, root=ROOT):
    (rows, folders), problems = reading_map_rows(text), []
    modules = package_modules(root)
    in_folders = [p for _, paths in folders.values() for p in paths]
    listed = list(rows) + in_folders
    required = {p for _, paths in _MAP.reading_order(root) for p in paths}  # the method, in order
    problems += [f"{m} is not numbered" for m in modules if m in required and m not in rows]
    problems += [f"{m} is not listed" for m in modules if m not in required and m not in listed]
    problems += [f"{m} is listed twice" for m in dict.fromkeys(listed) if listed.count(m) > 1]
    problems += [f"{m} is listed but does not exist" for m in listed if m not in modules]
    for path, (count, notebooks) in rows.items():
        if path not in modules:
            continue
        actual = _MAP.line_count(path, root)
        if not count_is_close(count, actual):
            problems.append(f"{path}: listed {count} lines, has {actual}")
        for stem in notebooks:
            nb = root / "notebooks" / f"{stem}.ipynb"
            if not nb.exists():
                problems.append(f"{path}: notebook {stem} does not exist")
            elif _dotted(path) not in notebook_modules(nb):
                problems.append(f"{path}: notebook {stem} does not import from {_dotted(path)}")
    for folder, (count, paths) in folders.items():
        actual = sum(_MAP.line_count(p, root) for p in paths if p in modules)
        if not count_is_close(count, actual):
            problems.append(f"{folder}: listed {count} lines, its modules have {actual}")
    order = [p for p in rows if p in required]
    if order != [p for _, paths in _MAP.reading_order(root) for p in paths]:
        problems.append("the numbered modules are not in the order of update_reading_map.READING_ORDER")
    return problems


README_COMMANDS = ('pip install -e . && horq-ref reproduce', 'pip install -e ".[test]" && pytest')


def readme_problems(text):
    """What keeps README.md from being a short front door: at most 110 lines, a "Start here" section,
    the two commands as code blocks of their own (.ci/run runs them as written), "Citing and reuse" last."""
    lines, problems = text.splitlines(), []
    headings = [line for line in lines if line.startswith("## ")]
    if len(lines) > 110:
        problems.append(f"README.md has {len(lines)} lines, more than 110")
    if "## Start here" not in headings:
        problems.append("no '## Start here' section")
    if headings[-1:] != ["## Citing and reuse"]:
        problems.append("the last section is not '## Citing and reuse'")
    problems += [f"{c!r} is not a code block of its own" for c in README_COMMANDS
                 if f"\n\n    {c}\n\n" not in text]
    return problems


def test_readme_is_a_short_front_door():
    assert readme_problems((ROOT / "README.md").read_text(encoding="utf-8")) == []


def test_readme_check_negative_control():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_problems(text + "\n" * 120) == [f"README.md has {len(text.splitlines()) + 120} "
                                                    "lines, more than 110"]
    moved = text.replace("## Citing and reuse", "## Citing")
    assert readme_problems(moved) == ["the last section is not '## Citing and reuse'"]
    inline = text.replace("\n\n    pip install -e . && horq-ref reproduce\n", " `pip install -e .`\n")
    assert readme_problems(inline) == [f"{README_COMMANDS[0]!r} is not a code block of its own"]


def test_reading_map_is_current():
    problems = reading_map_problems(READING_MAP.read_text(encoding="utf-8"))
    assert not problems, ("docs/reading-the-code.md is stale (run python docs/update_reading_map.py):\n"
                          + "\n".join(problems))


def test_reading_map_is_linked_from_the_entry_points():
    import horq_ref

    for doc in (ROOT / "README.md", ROOT / "docs" / "index.md"):
        assert "reading-the-code.md" in doc.read_text(encoding="utf-8"), doc
    assert "reading-the-code.md" in horq_ref.__doc__


def docstring_order(doc):
    """The modules of the "Reading order" paragraph of a docstring, as paths, in order."""
    paragraph = doc.split("Reading order")[1].split("A first reading skips")[0]
    names = re.findall(r"``([\w.]+)``", paragraph)
    return [f"horq_ref/{n.replace('.', '/')}.py" for n in names]


def test_reading_order_is_the_package_docstrings():
    import horq_ref

    page = list(reading_map_rows(READING_MAP.read_text(encoding="utf-8"))[0])
    assert docstring_order(horq_ref.__doc__) == page
    swapped = horq_ref.__doc__.replace("``bits`` ->\n``im2col``", "``im2col`` ->\n``bits``")
    assert swapped != horq_ref.__doc__ and docstring_order(swapped) != page  # negative control


def test_reading_map_negative_controls():
    text = READING_MAP.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if "`horq_ref/quantize.py`" in line)
    n = reading_map_rows(text)[0]["horq_ref/quantize.py"][0]
    missing = text.replace(row + "\n", "")
    assert reading_map_problems(missing) == ["horq_ref/quantize.py is not numbered",
                                             "the numbered modules are not in the order of "
                                             "update_reading_map.READING_ORDER"]
    stale = text.replace(row, row.replace(f"| {n} |", f"| {2 * n} |"))
    assert [p.split(":")[0] for p in reading_map_problems(stale)] == ["horq_ref/quantize.py"]
    importers = reading_map_rows(text)[0]["horq_ref/quantize.py"][1]
    other = next(nb.stem for nb in sorted((ROOT / "notebooks").glob("*.ipynb"))
                 if "horq_ref.quantize" not in notebook_modules(nb))
    wrong_nb = text.replace(row, row.replace(importers[0], other))
    assert any("does not import" in p for p in reading_map_problems(wrong_nb))
    ghost = text.replace("| `__init__`, `blocks`,", "| `__init__`, `ghost`, `blocks`,")
    assert reading_map_problems(ghost) == ["horq_ref/nn/ghost.py is listed but does not exist"]
    folder = next(line for line in text.splitlines() if line.startswith("| [`horq_ref/io/`]"))
    lines = reading_map_rows(text)[1]["horq_ref/io/"][0]
    doubled = text.replace(folder, folder.replace(f"| {lines:,} |", f"| {2 * lines:,} |"))
    assert [p.split(":")[0] for p in reading_map_problems(doubled)] == ["horq_ref/io/"]
    both = text.replace("| `__init__`, `blocks`,", "| `__init__`, `layers`, `blocks`,")
    assert "horq_ref/nn/layers.py is listed twice" in reading_map_problems(both)
    dropped = text.replace(", `torch_quantizer` |", " |")
    assert "horq_ref/interop/torch_quantizer.py is not listed" in reading_map_problems(dropped)
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
        assert f"## `{name}`" in text, name
        for public in module.__all__:
            home = gen.home_of(module, public)
            home = name if gen.summary_only(home) else home  # defined in a summarised part
            assert f"### `{home}.{public}`" in text, f"{name}.{public}"
    for name in gen.summary_modules():  # one line each, no entries
        assert f"| [`{name}`](" in text and f"## `{name}`" not in text and f"### `{name}." not in text
    assert {n.split(".")[1] for n in gen.summary_modules()} == {
        "fast", "io", "data", "experiments", "interop", "commands"}
    for command in ("bound", "speedup", "bench", "train", "reproduce", "export", "predict", "download"):
        assert f"### `horq-ref {command}`" in text
    assert ">>> " not in text.split("```\n", 2)[-1].replace("`>>>`", "")  # only the header doctests


SCALARS = (int, float, complex, str, bytes, bool, type(None))


def documented_twice(text):
    """Headings of api.md that repeat, and pairs of headings that document the same object (a value
    re-exported under a second name; scalars are skipped, as equal ones may share an object)."""
    headings = re.findall(r"^### `([^`]+)`$", text, re.M)
    problems = sorted({f"{h} appears twice" for h in headings if headings.count(h) > 1})
    seen = {}
    for qual in dict.fromkeys(h for h in headings if h.startswith("horq_ref.")):
        module, _, name = qual.rpartition(".")
        obj = getattr(importlib.import_module(module), name)
        if isinstance(obj, SCALARS):
            continue
        if id(obj) in seen:
            problems.append(f"{qual} is {seen[id(obj)]} again")
        seen.setdefault(id(obj), qual)
    return problems


def test_api_reference_documents_each_name_once():
    assert documented_twice(_gen_api().generate()) == []


def test_api_reference_documents_each_name_once_negative_control(monkeypatch):
    gen = _gen_api()
    monkeypatch.setattr(gen, "home_of", lambda module, name: module.__name__)  # re-exports in full
    problems = documented_twice(gen.generate())
    assert "horq_ref.theory.laws.LAWS is horq_ref.theory.LAWS again" in problems  # values, too
    assert "horq_ref.cost.forward.speedup is horq_ref.cost.speedup again" in problems  # functions
    assert documented_twice("### `horq_ref.sign`\n### `horq_ref.sign`\n") == [
        "horq_ref.sign appears twice"]


# api.md generated in a fresh process on another machine: 1/8 of the memory or so, 97 cores, other
# thread settings, another working folder, another clock. Patched before horq_ref is imported, so a
# value computed at import time from the machine shows up as a difference.
OTHER_MACHINE = textwrap.dedent("""
    import os, sys, time
    real_sysconf, codes = os.sysconf, {code: name for name, code in os.sysconf_names.items()}
    other = {"SC_PHYS_PAGES": 12345, "SC_PAGE_SIZE": 65536, "SC_NPROCESSORS_ONLN": 97,
             "SC_NPROCESSORS_CONF": 97}
    os.sysconf = lambda name: other.get(codes.get(name, name)) or real_sysconf(name)
    os.cpu_count = lambda: 97
    os.sched_getaffinity = lambda pid: set(range(97))
    time.time = lambda: 4102444800.0  # 2100-01-01
    sys.path.insert(0, sys.argv[1])
    exec(sys.argv[2])  # the negative control plants a machine-dependent value here
    import gen_api
    sys.stdout.write(gen_api.generate())
""")


def _api_on_another_machine(tmp_path, plant=""):
    env = dict(os.environ, HORQ_THREADS="3", OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2",
               MPLBACKEND="Agg")
    out = subprocess.run([sys.executable, "-c", OTHER_MACHINE, str(ROOT / "docs"), plant],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
                         check=True)
    return out.stdout


def test_api_reference_does_not_depend_on_the_machine(tmp_path):
    assert _api_on_another_machine(tmp_path) == _gen_api().generate()


def test_api_reference_machine_check_negative_control(tmp_path):
    """A documented value read from the machine at import time (as the bench's memory limit once
    was) makes the two texts differ."""
    plant = ("import horq_ref.nn.train as t; t.CHECKPOINT_KIND = f'checkpoint-{os.cpu_count()}'")
    other = _api_on_another_machine(tmp_path, plant)
    assert other != _gen_api().generate() and "checkpoint-97" in other


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
    text = "checked by `test_energy_identity` in tests/theory/test_bounds.py"
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


def test_results_page_is_the_report_of_the_committed_run():
    """docs/results.md is what the report code renders from docs/results/results.json, figure links
    into results/, every figure the run lists is there."""
    gen = _doc_tool("gen_results")
    committed = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    assert committed == gen.generate(), (
        "docs/results.md is stale: run `python docs/gen_results.py` and commit the result")
    for name in gen.json.loads(gen.RESULTS.read_text(encoding="utf-8"))["info"]["figures"]:
        assert (ROOT / "docs" / "results" / name).is_file() and f"](results/{name})" in committed


def test_results_page_check_negative_control():
    gen = _doc_tool("gen_results")
    results = gen.json.loads(gen.RESULTS.read_text(encoding="utf-8"))
    results["runs"][0]["test_accuracy"] += 0.01  # one number changed in the JSON: another page
    assert gen.generate(results) != (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
