"""Write docs/api.md from the docstrings of ``horq_ref``: run ``python docs/gen_api.py``.

The reference is for readers of the method. It documents in full every name in the ``__all__`` of
the method's modules (the top level of the package, ``theory/`` and ``cost/``) and of ``nn/``, module
by module in the reading order of docs/reading-the-code.md (``READING_ORDER`` of
``update_reading_map.py``; a package comes before its first module, and a module that is not listed
is placed after its last listed sibling). The other parts of the package (:data:`SUMMARY_ONLY`) get
one line per module, the first paragraph of its docstring; then come the options of every
``horq-ref`` command. A name is documented once, where it is defined (for a constant: the module
whose source assigns it); re-exports point there. Each entry gives the signature and the numpydoc
sections of the docstring (Parameters with their shapes, Returns, Raises, Attributes, Notes); the
Examples are left out because they run as doctests in the modules themselves.

``tests/test_docs.py`` fails when the committed docs/api.md differs from what this script writes, so
after changing a docstring, a signature or an ``__all__``, run it again.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import inspect
import pkgutil
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
for folder in (DOCS.parent, DOCS):  # the checkout (run without installing) and the reading order
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import horq_ref  # noqa: E402
from horq_ref.commands import build_parser  # noqa: E402
from update_reading_map import READING_ORDER, dotted  # noqa: E402

# The modules documented in full, in the reading order of docs/reading-the-code.md.
MODULES = [dotted(f"horq_ref/{path}") for _, paths in READING_ORDER for path in paths]
# The parts of the package that get one line per module, in this order.
SUMMARY_ONLY = ("horq_ref.fast", "horq_ref.io", "horq_ref.data", "horq_ref.experiments",
                "horq_ref.interop", "horq_ref.commands")
SECTIONS = ("Parameters", "Returns", "Yields", "Raises", "Attributes", "Notes")
ALL_SECTIONS = SECTIONS + ("Examples", "See Also", "References", "Warns", "Other Parameters")

HEADER = """\
# API reference

<!-- Generated from the docstrings by `python docs/gen_api.py`; do not edit by hand. -->

**Regenerate with `python docs/gen_api.py`** (tests/test_docs.py fails when this file is not what the
script writes). Every public name of the method (the top level of `horq_ref`, `theory/`, `cost/`) and
of the networks (`nn/`), in the reading order of [reading-the-code.md](reading-the-code.md), with its
signature and docstring; one line for each module of the other parts of the package (kernels, files,
data, experiments, exercises, bridges, command line); and every option of the `horq-ref` commands.
The [tutorial](tutorial.md) shows the functions at work, [notation.md](notation.md) gives the symbols.

**Shapes** use one set of letters: N samples, C channels, H×W input size, F filters or output units,
kh×kw kernel size, Ho×Wo output size, P = Ho·Wo output positions, D = C·kh·kw entries of one im2col
row (or the input size of a dense layer), K the order (number of binary planes), n the entries of one
group (that share one scale), G = `np.mean(x, axis, keepdims=True).shape` the shape of one order's
scales.

**Errors**: bad input raises `ValueError` (a bad value) or `TypeError` (a bad type), with a message that
names the argument.

```pycon
>>> import numpy as np
>>> import horq_ref
>>> e = horq_ref.residual_quantize(np.arange(-3.0, 3.0).reshape(2, 3), order=2, axis=1)
>>> e.betas.shape, e.signs.shape, e.signs.dtype, e.residuals.shape
((2, 2, 1), (2, 2, 3), dtype('int8'), (3, 2, 3))
>>> bool(np.allclose(e.reconstruct() + e.residuals[-1], e.x))
True

```
"""


def _package_modules():
    """Every module of the package but ``__main__``, sorted by name."""
    return sorted(m.name for m in pkgutil.walk_packages(horq_ref.__path__, "horq_ref.")
                  if not m.name.endswith("__main__"))


def summary_only(name):
    """Whether module ``name`` belongs to a part of the package that gets one line per module."""
    return any(name == p or name.startswith(p + ".") for p in SUMMARY_ONLY)


def module_order():
    """The modules documented in full: :data:`MODULES` that exist, a package before its first
    module, any other module after its last sibling."""
    found = [n for n in _package_modules() if not summary_only(n)]
    order = [n for n in MODULES if n in found]
    for name in found:
        if name in order or not hasattr(importlib.import_module(name), "__all__"):
            continue
        children = [i for i, m in enumerate(order) if m.startswith(name + ".")]
        if children:
            order.insert(children[0], name)
            continue
        parent = name.rpartition(".")[0]
        kin = [i for i, m in enumerate(order) if m.rpartition(".")[0] == parent or m == parent]
        order.insert(kin[-1] + 1 if kin else len(order), name)
    return order


def summary_modules():
    """The modules of :data:`SUMMARY_ONLY`, part by part."""
    found = _package_modules()
    return [n for part in SUMMARY_ONLY for n in found if n == part or n.startswith(part + ".")]


def _top_level(statements):
    """The statements of a module's top level, including those inside ``try`` and ``if`` blocks."""
    for node in statements:
        yield node
        if isinstance(node, (ast.Try, ast.If)):
            yield from _top_level(node.body + node.orelse + getattr(node, "finalbody", []))
            for handler in getattr(node, "handlers", []):
                yield from _top_level(handler.body)


def home_of(module, name):
    """The module that defines ``module.name``: a function's or class's ``__module__``; for a value,
    which does not carry one, ``module`` itself unless its top level imports the name from another
    module of the package (followed to where it is assigned)."""
    obj = getattr(module, name)
    if inspect.isfunction(obj) or inspect.isclass(obj):
        return obj.__module__
    for node in _top_level(ast.parse(inspect.getsource(module)).body):
        if not isinstance(node, ast.ImportFrom):
            continue
        source = importlib.util.resolve_name("." * node.level + (node.module or ""),
                                             module.__package__)
        if not source.startswith("horq_ref"):
            continue
        for alias in node.names:
            star = alias.name == "*" and name in getattr(importlib.import_module(source), "__all__", ())
            if star or (alias.asname or alias.name) == name:
                return home_of(importlib.import_module(source), name if star else alias.name)
    return module.__name__


def anchor(qualname):
    """The GitHub anchor of a heading that is the code span ``qualname``."""
    return re.sub(r"[^\w\- ]", "", qualname.lower()).replace(" ", "-")


def rst_to_md(text):
    """Inline reStructuredText of the docstrings as Markdown: roles and double backticks."""
    text = re.sub(r":(?:func|class|mod|meth|attr|data|exc):`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def _default(value, module):
    """How a default value reads: a module constant or function by its name, a NumPy type as np.x."""
    literal = value is None or isinstance(value, (int, float, str, bytes, tuple, frozenset))
    for name, obj in vars(module).items():
        if obj is value and not name.startswith("_") and (name.isupper() or not literal):
            return name
    if isinstance(value, type):
        return f"np.{value.__name__}" if value.__module__ == "numpy" else value.__name__
    if callable(value):
        return getattr(value, "__name__", repr(value))
    return repr(value)


class _Shown:
    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def signature(obj, module):
    """``(a, b=DEFAULT, *, c=...)`` without annotations, defaults shown by name where they have one."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    empty = inspect.Parameter.empty
    params = [p.replace(annotation=empty, default=p.default if p.default is empty
                        else _Shown(_default(p.default, module))) for p in sig.parameters.values()]
    return str(sig.replace(parameters=params, return_annotation=empty))


def split_docstring(doc):
    """``(summary lines, {section: lines})`` of a numpydoc docstring."""
    lines = inspect.cleandoc(doc or "").splitlines()
    summary, sections, current = [], {}, None
    i = 0
    while i < len(lines):
        if (lines[i].strip() in ALL_SECTIONS and i + 1 < len(lines)
                and set(lines[i + 1].strip()) == {"-"}):
            current = lines[i].strip()
            sections[current] = []
            i += 2
            continue
        (summary if current is None else sections[current]).append(lines[i])
        i += 1
    return summary, sections


def prose(lines):
    """Free text as Markdown: an indented block (or one after ``::``) becomes a fenced block."""
    out, block = [], []
    for line in lines + [""]:
        if block and (line.startswith(" ") or not line.strip()):
            block.append(line)
            continue
        if block:
            while block and not block[-1].strip():
                block.pop()
            out += ["```text", *[b[4:] if b.startswith("    ") else b.lstrip() for b in block],
                    "```", ""]
            block = []
        if line.startswith("    ") and (not out or not out[-1].strip()):
            block = [line]
            continue
        text = rst_to_md(line.rstrip())
        out.append(text[:-1] if text.endswith("::") else text)
    while out and not out[-1].strip():
        out.pop()
    return [ln.replace(">>>", "`>>>`") for ln in out]  # no doctest prompts: api.md is doctested


def entries(lines):
    """A Parameters-like section as bullets: ``name : type`` — then its indented description.

    An unindented line that is neither ``name : type`` nor a bare name, after an unindented line that
    stops mid-sentence (ends with a comma or a word), continues that line.
    """
    items, described, previous = [], False, ""
    for line in lines:
        if not line.strip():
            continue
        m = re.match(r"^([\w*][\w, *]*?) : (.*)$", line)
        bare = re.fullmatch(r"[\w.]+(, [\w.]+)*", line)  # a name, or names sharing a description
        if line.startswith(" ") or (items and not m and not bare and previous
                                    and not previous.startswith(" ")
                                    and previous.rstrip()[-1] not in ".)]}`:;"):
            if items:
                items[-1] += (" " if described or not line.startswith(" ") else " — ")
                items[-1] += rst_to_md(line.strip())
                described = described or line.startswith(" ")
        else:
            head = (f"`{m.group(1)}` : {rst_to_md(m.group(2))}" if m else
                    f"`{line}`" if bare else rst_to_md(line))
            items.append(f"* {head}")
            described = False
        previous = line
    return items


def render_doc(doc):
    summary, sections = split_docstring(doc)
    out = prose(summary)
    for name in SECTIONS:
        if sections.get(name) and any(s.strip() for s in sections[name]):
            body = prose(sections[name]) if name == "Notes" else entries(sections[name])
            out += ["", f"**{name}**", "", *body]
    return out


def render_members(cls, module):
    """Public methods and properties defined on ``cls`` itself."""
    out = []
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            out += ["", f"#### `{cls.__name__}.{name}` (property)", "", *render_doc(member.__doc__)]
        elif inspect.isfunction(inspect.unwrap(getattr(member, "__func__", member))):
            fn = getattr(member, "__func__", member)
            out += ["", f"#### `{cls.__name__}.{name}`", "", "```python",
                    f"{name}{signature(fn, module) or '(...)'}", "```", "", *render_doc(fn.__doc__)]
    return out


def render_name(module, name):
    """``(is_reexport, lines)``: the entry of one name of ``module.__all__``."""
    obj, qual = getattr(module, name), f"{module.__name__}.{name}"
    home = home_of(module, name)
    if home != module.__name__ and not summary_only(home):
        target = f"{home}.{name}"
        return True, [f"* `{name}`: see [`{target}`](#{anchor(target)})"]
    out = ["", f"### `{qual}`", ""]
    if inspect.isfunction(obj) or inspect.isclass(obj):
        kind = "class " if inspect.isclass(obj) else ""
        sig = signature(obj, module)
        if sig is None:  # e.g. an exception class
            sig = "(" + ", ".join(b.__name__ for b in obj.__bases__) + ")"
        out += ["```python", f"{kind}{name}{sig}", "```", "", *render_doc(obj.__doc__)]
        if inspect.isclass(obj):
            out += render_members(obj, module)
        return False, out
    text = repr(obj)
    if hasattr(obj, "_fields"):  # a named tuple: fields by name, functions by their names
        text = f"{type(obj).__name__}(" + ", ".join(
            f"{f}={_default(getattr(obj, f), module)}" for f in obj._fields) + ")"
    if isinstance(obj, str) and len(text) > 160:
        return False, out + ["```text", *obj.splitlines(), "```"]
    if len(text) <= 160 and "\n" not in text and " at 0x" not in text:
        return False, out + [f"`{text}`"]
    keys = f" with keys {', '.join(map(repr, obj))}" if isinstance(obj, dict) else ""
    return False, out + [f"A `{type(obj).__name__}`{keys}."]


def render_module(name):
    """The section of one module: its first paragraph, re-exports, then each name it defines."""
    module = importlib.import_module(name)
    path = Path(module.__file__).relative_to(DOCS.parent).as_posix()
    first = prose(split_docstring(module.__doc__)[0])
    intro = first[:first.index("")] if "" in first else first
    out = ["", "---", "", f"## `{name}`", "", f"[source](../{path})", "", *intro]
    rendered = [render_name(module, n) for n in module.__all__]
    reexports = [line for again, lines in rendered if again for line in lines]
    if reexports:
        out += ["", "Names defined in other modules:", "", *reexports]
    return out + [line for again, lines in rendered if not again for line in lines]


def _cell(text):
    return text.replace("|", "\\|")


def render_contract():
    """The public contract: the names of ``horq_ref.__all__``, one table row each."""
    out = ["", "## The public contract", "",
           "Stable names that other code, the notebooks and the checks rely on; everything else "
           "below may change.", "", "| name | signature | what |", "|---|---|---|"]
    for name in horq_ref.__all__:
        obj = getattr(horq_ref, name)
        home = getattr(obj, "__module__", "horq_ref")
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            out.append(f"| `horq_ref.{name}` | | `{obj!r}` |")
            continue
        summary = split_docstring(obj.__doc__)[0]
        first = rst_to_md(summary[0]) if summary else ""
        link = f"[`{name}`](#{anchor(f'{home}.{name}')})"
        out.append(f"| {link} | `{_cell(signature(obj, importlib.import_module(home)) or '')}` | "
                   f"{_cell(first)} |")
    return out + ["", "`python -m horq_ref ...` and `horq-ref ...` are the same program "
                  "([commands](#the-horq-ref-commands))."]


def _option(action):
    if action.option_strings:
        flag = ", ".join(action.option_strings)
        if action.nargs == 0:
            return flag
    else:
        flag = ""
    value = "{" + ",".join(map(str, action.choices)) + "}" if action.choices else (
        action.metavar or action.dest.upper())
    if action.nargs in ("+", "*"):
        value += " ..."
    return f"{flag} {value}".strip()


def render_commands():
    """Every ``horq-ref`` command with its options, defaults and help, read from the parser."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = ["", "---", "", "## The `horq-ref` commands", "",
           "Read from the argument parser (`horq_ref.commands.build_parser`); each command is a module of "
           "`horq_ref.commands` with `NAME`, `HELP`, `add_arguments(parser)` and `run(args)`."]
    for name, cmd in sub.choices.items():
        out += ["", f"### `horq-ref {name}`", "", rst_to_md(cmd.description or ""), "",
                "| option | default | meaning |", "|---|---|---|"]
        for action in cmd._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
                continue
            default = action.default
            shown = ("" if default is None or default is False or default is argparse.SUPPRESS else
                     " ".join(map(str, default)) if isinstance(default, (list, tuple)) else str(default))
            helptext = cmd._get_formatter()._expand_help(action) if action.help else ""
            out.append(f"| `{_cell(_option(action))}` | {_cell(shown)} | {_cell(helptext)} |")
    return out


def first_paragraph(module):
    """The first paragraph of a module's docstring, on one line, as Markdown."""
    doc = inspect.cleandoc(module.__doc__ or "")
    return rst_to_md(" ".join(doc.split("\n\n")[0].split()))


def render_contents(order):
    out = ["", "## Contents", "", "* [The public contract](#the-public-contract)"]
    for name in order:
        first = first_paragraph(importlib.import_module(name)).rstrip(".")
        out.append(f"* [`{name}`](#{anchor(name)}): {first}")
    return out + ["* [The rest of the package](#the-rest-of-the-package): one line per module",
                  "* [The `horq-ref` commands](#the-horq-ref-commands)"]


def render_rest():
    """One line per module of the parts of :data:`SUMMARY_ONLY`: its docstring's first paragraph."""
    out = ["", "---", "", "## The rest of the package", "",
           "Optimized kernels, files, data, experiments, exercise checkers, bridges to other "
           "frameworks and the command line, one line per module (the first paragraph of its "
           "docstring): none of them is needed to follow the method, and their names are documented "
           "in their modules.", "", "| module | what it holds |", "|---|---|"]
    for name in summary_modules():
        module = importlib.import_module(name)
        path = Path(module.__file__).relative_to(DOCS.parent).as_posix()
        out.append(f"| [`{name}`](../{path}) | {_cell(first_paragraph(module))} |")
    return out


def generate():
    """The text of docs/api.md."""
    order = module_order()
    lines = HEADER.splitlines() + render_contents(order) + render_contract()
    for name in order:
        lines += render_module(name)
    lines += render_rest() + render_commands()
    return "\n".join(line.rstrip() for line in lines) + "\n"


def main(argv=None):
    """Write docs/api.md, or with ``--check`` only report whether it is current (exit status 1 if not)."""
    ap = argparse.ArgumentParser(description="Write docs/api.md from the docstrings of horq_ref.")
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if api.md is stale")
    args = ap.parse_args(argv)
    text, path = generate(), DOCS / "api.md"
    if args.check:
        current = path.exists() and path.read_text(encoding="utf-8") == text
        print("docs/api.md is current" if current else "docs/api.md is stale: run python docs/gen_api.py")
        return 0 if current else 1
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path.relative_to(DOCS.parent)} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
