"""The shape of the package, measured with ``ast``: few top-level modules, small modules and functions,
thin commands, notebooks that do not import the command line.

Limits: at most 12 modules directly in ``horq_ref/`` (the method, flat); no module over 300 lines; no
function over 40 lines of code (its docstring, blank lines and comment lines not counted). Command
modules hold only ``add_arguments``, ``run`` (at most 15 lines of code) and argparse ``type=``
functions, and import no NumPy: the work is done in the library. Every argument is checked by a
``type=`` function of ``horq_ref/commands/_types.py`` and nowhere else: no command passes another
``type=`` or compares an ``args.*`` value with a number. Each measuring function is shown to flag a
planted violation (negative controls at the end).
"""

import ast
import json
import pathlib

import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "horq_ref"
MAX_TOP_LEVEL, MAX_MODULE_LINES, MAX_FUNCTION_LINES, MAX_RUN_LINES = 12, 300, 40, 15
COMMANDS = sorted(p for p in (PACKAGE / "commands").glob("*.py")
                  if not p.name.startswith("_"))  # _types.py holds the argparse type= functions
ARGUMENT_USERS = COMMANDS + [PACKAGE / "commands" / "__init__.py"]  # every parser but _types.py
CLI_MODULES = ("commands", "cli")  # horq_ref.<these>: the command line, never imported by a notebook


def code_lines(node, lines):
    """Lines of code in the body of a function: not blank, not a comment, not its docstring."""
    body = node.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(
            body[0].value.value, str):
        body = body[1:]
    if not body:
        return 0
    text = lines[body[0].lineno - 1:node.end_lineno]
    return sum(1 for line in text if line.strip() and not line.strip().startswith("#"))


def function_sizes(source):
    """``{qualified name: lines of code}`` of every function (methods and nested ones too)."""
    lines, sizes = source.splitlines(), {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}."
                if not isinstance(child, ast.ClassDef):
                    sizes[name[:-1]] = code_lines(child, lines)
            visit(child, name)

    visit(ast.parse(source), "")
    return sizes


def size_problems(source, where):
    """Every violation of the module and function limits in ``source``, as readable strings."""
    problems = []
    n = len(source.splitlines())
    if n > MAX_MODULE_LINES:
        problems.append(f"{where}: {n} lines > {MAX_MODULE_LINES}")
    for name, size in function_sizes(source).items():
        if size > MAX_FUNCTION_LINES:
            problems.append(f"{where}:{name}: {size} lines of code > {MAX_FUNCTION_LINES}")
    return problems


def command_problems(source, where):
    """Ways in which a command module does more than parse arguments and call the library."""
    tree, lines, problems = ast.parse(source), source.splitlines(), []
    type_helpers = {kw.value.id for node in ast.walk(tree) if isinstance(node, ast.Call)
                    for kw in node.keywords if kw.arg == "type" and isinstance(kw.value, ast.Name)}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name not in {"add_arguments", "run"} | type_helpers:
                problems.append(f"{where}: {node.name}() is neither add_arguments, run nor a type=")
            if node.name == "run" and code_lines(node, lines) > MAX_RUN_LINES:
                problems.append(f"{where}: run() has {code_lines(node, lines)} lines > {MAX_RUN_LINES}")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(n.split(".")[0] == "numpy" for n in names):
                problems.append(f"{where}: imports numpy (the work belongs in the library)")
    return problems


def _is_number(node):
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool))


def _is_args_value(node):
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "args"


def argument_check_problems(source, where):
    """Argument checks outside ``commands/_types.py``: a ``type=`` that is not one of its functions
    (or a call of one, such as ``comma_list(MODELS)``), and a comparison of ``args.x`` with a number."""
    tree, problems = ast.parse(source), []
    from_types = {a.asname or a.name for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module == "_types"
                  for a in node.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in (k for k in node.keywords if k.arg == "type"):
                fn = kw.value.func if isinstance(kw.value, ast.Call) else kw.value
                if not (isinstance(fn, ast.Name) and fn.id in from_types):
                    problems.append(f"{where}:{kw.lineno}: type={ast.unparse(kw.value)} is not "
                                    "a function of commands/_types.py")
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(map(_is_args_value, operands)) and any(map(_is_number, operands)):
                problems.append(f"{where}:{node.lineno}: {ast.unparse(node)} checks a value outside "
                                "commands/_types.py")
    return problems


def imports_the_command_line(tree):
    """Whether the parsed code ``tree`` imports ``horq_ref.commands`` (or ``horq_ref.cli``), a
    submodule of it, or either name from ``horq_ref``."""
    cli = {("horq_ref", m) for m in CLI_MODULES}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        if any(tuple(m.split(".")[:2]) in cli for m in modules):
            return True
    return False


def notebook_cli_imports(nb_json):
    """Code cells of a notebook (its JSON text) that import from horq_ref.commands or horq_ref.cli.

    Each cell is parsed as IPython runs it: its magics (``%matplotlib inline``) become calls first."""
    cells = json.loads(nb_json)["cells"]
    to_python = TransformerManager().transform_cell
    return [i for i, c in enumerate(cells) if c["cell_type"] == "code"
            and imports_the_command_line(ast.parse(to_python("".join(c["source"]))))]


def test_few_modules_at_the_top_level():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, f"{len(top)} top-level modules: {top}"


def test_modules_and_functions_are_small():
    problems = [p for path in sorted(PACKAGE.rglob("*.py"))
                for p in size_problems(path.read_text(encoding="utf-8"), path.relative_to(ROOT))]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: p.name)
def test_commands_only_parse_and_call(path):
    problems = command_problems(path.read_text(encoding="utf-8"), path.relative_to(ROOT))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ARGUMENT_USERS, ids=lambda p: p.name)
def test_arguments_are_checked_only_by_the_types_module(path):
    problems = argument_check_problems(path.read_text(encoding="utf-8"), path.relative_to(ROOT))
    assert not problems, "\n".join(problems)


def test_no_notebook_imports_the_command_line():
    notebooks = sorted((ROOT / "notebooks").rglob("*.ipynb"))
    assert notebooks
    bad = {str(p.relative_to(ROOT)): cells for p in notebooks
           if (cells := notebook_cli_imports(p.read_text(encoding="utf-8")))}
    assert not bad, f"notebooks import horq_ref.commands (cells): {bad}"


# ---------------------------------------------------------------- size budgets and the teaching path

MAX_PACKAGE_LINES, MAX_METHOD_LINES = 10_000, 2_600


def method_files(root=PACKAGE):
    """The method: the top-level modules and the theory/ and cost/ packages."""
    return sorted(root.glob("*.py")) + sorted((root / "theory").glob("*.py")) + sorted(
        (root / "cost").glob("*.py"))


def line_total(paths):
    return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in paths)


def test_the_package_and_the_method_stay_within_their_budgets():
    package, method = line_total(PACKAGE.rglob("*.py")), line_total(method_files())
    assert package <= MAX_PACKAGE_LINES, f"horq_ref has {package} lines > {MAX_PACKAGE_LINES}"
    assert method <= MAX_METHOD_LINES, f"the method has {method} lines > {MAX_METHOD_LINES}"


def _module_of(path):
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _resolve(module, level, name):
    """Absolute module name of ``from <level dots><name> import ...`` inside ``module``."""
    parts = module.split(".")[:-level] if level else []
    return ".".join(parts + ([name] if name else []))


def call_graph(root=PACKAGE):
    """``{(module, function): {(module, function) it calls by name}}`` for horq_ref, from ``ast``.

    Calls are resolved through ``from ... import name`` and the module's own definitions; calls of
    attributes (``np.mean``, ``sign_fn.fn``) are not followed.
    """
    defs, graph = {}, {}
    for path in sorted(root.rglob("*.py")):
        module = _module_of(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.name: (module, n.name) for n in tree.body if isinstance(n, ast.FunctionDef)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                source = _resolve(module if path.name != "__init__.py" else module + ".x",
                                  node.level, node.module)
                names.update({a.asname or a.name: (source, a.name) for a in node.names})
        defs[module] = names
        for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
            graph[(module, fn.name)] = {names[c.func.id] for c in ast.walk(fn)
                                        if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
                                        and c.func.id in names}
    return graph


def reading_path(graph, start, skip=lambda key: False):
    """``(depth, modules)``: how many modules deep a reader follows ``start``'s calls (a call into
    the same module adds no depth: the reader is already in that file), and every module opened.
    Functions for which ``skip`` is true (argument checks) are not followed."""
    best, seen, opened = 0, set(), set()

    def visit(key, depth):
        nonlocal best
        best = max(best, depth)
        opened.add(key[0])
        for callee in graph.get(key, ()):
            if callee in graph and not skip(callee) and (callee, depth) not in seen:
                seen.add((callee, depth))
                visit(callee, depth + (callee[0] != key[0]))

    visit(start, 1)
    return best, opened


def is_a_check(key):
    module, name = key
    return module == "horq_ref.checks" or name.startswith(("check_", "_check"))


@pytest.mark.parametrize("layer, other_modules", [
    ("horq_ref.nn.layers.horq_dense_forward", {"horq_ref.ste", "horq_ref.quantize"}),
    ("horq_ref.nn.layers.horq_dense_backward", {"horq_ref.ste", "horq_ref.quantize"}),
    ("horq_ref.nn.conv_layers.horq_conv2d_forward", {"horq_ref.ste", "horq_ref.quantize", "horq_ref.im2col"}),
    ("horq_ref.nn.conv_layers.horq_conv2d_backward", {"horq_ref.ste", "horq_ref.quantize", "horq_ref.im2col"}),
])
def test_the_training_layer_reads_in_three_frames(layer, other_modules):
    """The HORQ layer -> the quantizer (ste) -> the expansion (quantize): at most three modules deep,
    and besides the layer's own file only the quantizer's and the expansion's (and im2col for a
    convolution)."""
    module, name = layer.rsplit(".", 1)
    depth, opened = reading_path(call_graph(), (module, name), skip=is_a_check)
    assert depth <= 3, f"{layer} is read {depth} modules deep: {sorted(opened)}"
    assert opened - {module} <= other_modules, f"{layer} opens {sorted(opened - {module})}"


def module_imports(source, module):
    """Absolute names of the horq_ref modules ``source`` (module ``module``) imports at module level
    (``from .ste import x`` -> ``horq_ref.ste``; ``from . import ste`` -> ``horq_ref.ste``)."""
    out = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = _resolve(module, node.level, node.module)
            out |= {base} if node.module else {f"{base}.{a.name}" for a in node.names}
    return out


def import_cycles(graph):
    """Modules that import themselves through a chain of module-level imports."""
    def reaches(start, seen):
        for nxt in graph.get(start, ()):
            if nxt not in seen:
                seen.add(nxt)
                reaches(nxt, seen)
        return seen
    return sorted(m for m in graph if m in reaches(m, set()))


def method_import_graph(root=PACKAGE):
    modules = {_module_of(p): p for p in method_files(root)}
    return {m: {i for i in module_imports(p.read_text(encoding="utf-8"), m) if i in modules}
            for m, p in modules.items()}


def test_the_method_imports_one_way():
    """No import cycle among the method's modules (scales builds on quantize, never the reverse),
    and the method's forward (conv.py) imports neither the backward (ste) nor the fast kernels at
    module level: those are the training layers' and the "bits-fast" backend's to bring in."""
    assert import_cycles(method_import_graph()) == []
    conv = module_imports((PACKAGE / "conv.py").read_text(encoding="utf-8"), "horq_ref.conv")
    assert not {m for m in conv if m == "horq_ref.ste" or m.startswith("horq_ref.fast")}, conv


# ---------------------------------------------------------------- negative controls

def _function(name, n_code, docstring_lines=0):
    doc = ['    """Doc.'] + ["    more"] * docstring_lines + ['    """'] if docstring_lines else []
    body = [f"    x{i} = {i}  # a comment" for i in range(n_code)]
    return "\n".join([f"def {name}():"] + doc + body + ["", "# only a comment", ""]) + "\n"


def test_size_measure_flags_a_long_function_and_a_long_module():
    assert size_problems(_function("ok", 40, docstring_lines=100), "m.py") == []  # docstring free
    assert size_problems(_function("long", 41), "m.py") == ["m.py:long: 41 lines of code > 40"]
    nested = "class A:\n    def f(self):\n" + "".join(f"        y = {i}\n" for i in range(41))
    assert size_problems(nested, "m.py") == ["m.py:A.f: 41 lines of code > 40"]
    long_module = "".join(_function(f"f{i}", 30) for i in range(9))  # 9 x 34 lines
    assert size_problems(long_module, "m.py") == ["m.py: 306 lines > 300"]


def test_command_measure_flags_logic_in_a_command():
    good = ("def _positive(s):\n    return int(s)\n\n"
            "def add_arguments(p):\n    p.add_argument('--n', type=_positive)\n\n"
            "def run(args):\n    return 0\n")
    assert command_problems(good, "c.py") == []
    bad = good + "import numpy as np\n\ndef helper():\n    pass\n" + _function("run", 16)
    problems = command_problems(bad, "c.py")
    assert any("helper()" in p for p in problems) and any("numpy" in p for p in problems)
    assert any("run() has 16 lines" in p for p in problems)


def test_argument_check_measure_flags_checks_outside_the_types_module():
    good = ("from ._types import comma_list, positive_int as pos\n\n"
            "def add_arguments(p):\n    p.add_argument('--n', type=pos)\n"
            "    p.add_argument('--models', type=comma_list(('mlp', 'cnn')))\n\n"
            "def run(args):\n    if args.data != 'mnist' and args.data_dir is None:\n"
            "        raise ValueError('--data needs --data-dir')\n    return 0\n")
    assert argument_check_problems(good, "c.py") == []
    bad = good.replace("type=pos", "type=int").replace("type=comma_list", "type=_my_list") + (
        "\ndef run(args):\n    if args.epochs < 1:\n        raise ValueError('must be >= 1')\n"
        "    return -1 <= args.seed\n")
    problems = argument_check_problems(bad, "c.py")
    assert [p.split(": ", 1)[1] for p in problems] == [
        "type=int is not a function of commands/_types.py",
        "type=_my_list(('mlp', 'cnn')) is not a function of commands/_types.py",
        "args.epochs < 1 checks a value outside commands/_types.py",
        "-1 <= args.seed checks a value outside commands/_types.py"]


def test_notebook_measure_flags_a_cli_import():
    def nb(*sources):
        return json.dumps({"cells": [{"cell_type": "code", "source": [s]} for s in sources]})

    assert notebook_cli_imports(nb("import numpy as np", "from horq_ref.commands.x import y")) == [1]
    assert notebook_cli_imports(nb("from horq_ref import commands as cli, conv")) == [0]
    assert notebook_cli_imports(nb("from horq_ref.experiments.reproduce import reproduce")) == []
    magic_and_parentheses = "%matplotlib inline\nfrom horq_ref import (\n    conv,\n    commands,\n)"
    not_imports = "# from horq_ref.commands import main\ns = 'import horq_ref.cli'"
    assert notebook_cli_imports(nb(magic_and_parentheses, "import horq_ref.commands.train as t",
                                   "import horq_ref.commandsx", not_imports)) == [0, 1]


def test_reading_path_measures_depth_across_modules():
    graph = {("a", "f"): {("a", "g"), ("b", "h")}, ("a", "g"): {("a", "k")}, ("a", "k"): set(),
             ("b", "h"): {("c", "i"), ("checks", "check_x")}, ("c", "i"): {("d", "j")},
             ("d", "j"): set(), ("checks", "check_x"): {("e", "z")}, ("e", "z"): set()}
    assert reading_path(graph, ("a", "f")) == (4, {"a", "b", "c", "d", "checks", "e"})
    assert reading_path(graph, ("a", "f"), skip=lambda k: k[0] == "checks") == (4, {"a", "b", "c", "d"})
    assert reading_path(graph, ("a", "g")) == (1, {"a"})  # calls within one module add no depth
    # the real graph resolves relative imports: the old five-module chain would have failed
    assert ("horq_ref.ste", "quantizer_forward") in call_graph()[("horq_ref.nn.layers", "horq_dense_forward")]


def test_import_measures_flag_a_cycle_and_a_forbidden_import():
    assert module_imports("from .ste import a\nfrom . import fast\ndef f():\n    from .x import y\n",
                          "horq_ref.conv") == {"horq_ref.ste", "horq_ref.fast"}  # module level only
    assert import_cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == ["a", "b"]
    assert import_cycles({"a": {"b"}, "b": set()}) == []
