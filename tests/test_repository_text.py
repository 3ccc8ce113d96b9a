"""The repository's text stands alone and is clean: no reference to a path outside it, no control characters.

Every tracked text file (``git ls-files``: .md .py .ipynb .cfg .toml .txt .json, ``.ci/run``,
``.gitignore``) is checked. Notebooks and JSON files are also checked after decoding, because a
control character in a notebook is stored as a JSON escape such as ``\\b``; the package's docstrings are
checked as Python sees them, because a ``"\\beta"`` in a non-raw string is a backspace followed by
``eta``. Each check has a negative control that plants the defect it looks for.
"""

import importlib
import json
import pkgutil
import re
import subprocess
from pathlib import Path, PurePosixPath

import pytest

import horq_ref

ROOT = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".md", ".py", ".ipynb", ".cfg", ".toml", ".txt", ".json"}
TEXT_NAMES = {".ci/run", ".gitignore"}

# Absolute paths of a particular machine, files that only exist beside the repository, home folders.
# The look-behind keeps URLs ("https://host/home/...") and paths inside the repository
# ("horq_ref/shared/...") out: a match must start a path, not continue one.
_START = r"(?<![\w.:/~$-])"
# (Character classes such as "[k]" keep these names from matching a plain grep of this file.)
OUTSIDE = re.compile(
    _START + r"(?:/(?:wor[k]|tm[p]|hom[e]|roo[t]|User[s]|mn[t]|var/folders)(?![\w-])"
    r"|[~]/|\$HOM[E]\b|[A-Za-z]:\\{1,2}Users\b|share[d]/)"
    r"|HORQ[_]NOTES|\bDESIG[N]\.md\b|\bCOMMO[N]\.md\b"
)
# A relative path that climbs: "../x". Where it leads depends on the file it is written in.
PARENT = re.compile(r"(?<![\w./])((?:\.\./)+)")
# Test data that names an outside path on purpose (the downloader must refuse it): (file, text).
ALLOWED = {("tests/data/test_download.py", "/" + "tmp/evil.bin")}
# Control characters other than newline and tab: C0, DEL and C1.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def tracked_text_files(root=ROOT):
    """Repository-relative paths of the tracked text files (``git ls-files``)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: nothing to say
        pytest.skip("not a git checkout")
    names = [n for n in out.stdout.decode().split("\0") if n]
    return [n for n in names if PurePosixPath(n).suffix in TEXT_SUFFIXES or n in TEXT_NAMES]


def _line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def outside_references(text, relpath):
    """``[(line, match)]`` for each mention in ``text`` of a path outside the repository.

    ``relpath`` is where the text lives in the repository (e.g. ``"docs/index.md"``): a relative path
    that starts with ``../`` is outside only if it climbs above the repository's root from there.
    """
    hits = [(m.start(), m.group()) for m in OUTSIDE.finditer(text)]
    depth = len(PurePosixPath(relpath).parent.parts)
    hits += [(m.start(), m.group()) for m in PARENT.finditer(text) if m.group().count("../") > depth]
    return sorted((_line_of(text, pos), found) for pos, found in hits
                  if (relpath, _token_at(text, pos)) not in ALLOWED)


def _token_at(text, pos):
    end = pos
    while end < len(text) and not text[end].isspace() and text[end] not in "\"'`)]>":
        end += 1
    return text[pos:end]


def control_characters(text):
    """``[(line, repr of the character)]`` for each control character other than newline and tab."""
    return [(_line_of(text, m.start()), repr(m.group())) for m in CONTROL.finditer(text)]


def _json_strings(obj):
    """Every string in a decoded JSON document, keys included."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from _json_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _json_strings(v)


def file_problems(path, relpath):
    """Outside references and control characters of one file, as readable strings."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        return [f"{relpath}: not UTF-8 ({exc})"]
    texts = [text]
    if relpath.endswith((".ipynb", ".json")):
        texts += list(_json_strings(json.loads(text)))
    problems = [f"{relpath}:{line}: control character {ch}"
                for t in texts for line, ch in control_characters(t)]
    problems += [f"{relpath}:{line}: outside path {found!r}"
                 for line, found in outside_references(text, relpath)]
    return problems


def test_no_tracked_text_file_mentions_an_outside_path_or_holds_a_control_character():
    files = tracked_text_files()
    assert any(f.endswith(".ipynb") for f in files) and "README.md" in files  # the list is real
    problems = [p for f in files for p in file_problems(ROOT / f, f)]
    assert not problems, "\n".join(problems)


def _package_docstrings():
    for info in pkgutil.walk_packages(horq_ref.__path__, "horq_ref."):
        if info.name == "horq_ref.__main__":  # importing it runs the command line
            continue
        module = importlib.import_module(info.name)
        yield info.name, module.__doc__
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) == info.name:
                yield f"{info.name}.{name}", getattr(obj, "__doc__", None)


def test_no_docstring_of_the_package_holds_a_control_character():
    docs = list(_package_docstrings())
    assert len(docs) > 50  # the walk reaches the whole package
    bad = [f"{name}: {control_characters(doc)}" for name, doc in docs
           if isinstance(doc, str) and control_characters(doc)]
    assert not bad, "\n".join(bad) + "\n(a '\\b' in a non-raw string is a backspace: use r\"...\")"


# Negative and positive controls: the checks find what they look for, and only that.

# The planted names are assembled at run time so that this file itself mentions none of them.
W, N = "/" + "work", "HORQ" + "_NOTES"


@pytest.mark.parametrize("text", [
    f"read {W}/shared/notes.md first", "see `/" + "tmp/run/results.json`", "in ~" + "/data",
    f"{N} §3", "as DESIG" + "N.md says", "shared" + "/seed/abstract.txt", "C:\\" + "Users\\me",
    "C:\\\\" + "Users", "/" + "home/me/horq", "$" + "HOME/data",
])
def test_outside_paths_are_flagged(text):
    assert outside_references(text, "docs/a.md")


@pytest.mark.parametrize("text", [
    "https://arxiv.org/abs/1708.08687", "https://example.org/home/tmp/work", "docs/../README.md",
    "horq_ref/shared/x.py", "#!/usr/bin/env bash", "the tmp_path fixture", "a work/shared split",
    "[README](../README.md)", 'print("K:\\n")', "/tmpl/x", "https://h.org/~" + "/x",
])
def test_inside_paths_and_urls_are_not_flagged(text):
    assert not outside_references(text, "docs/index.md")


def test_climbing_paths_are_judged_from_the_file_that_holds_them():
    assert not outside_references("[nb](../notebooks/01.ipynb)", "docs/theory.md")
    assert outside_references("[nb](../notebooks/01.ipynb)", "README.md")
    up2 = "(" + "../" * 2 + "x.md)"
    assert outside_references(up2, "docs/index.md")
    assert not outside_references(up2, "docs/sub/index.md")


def test_a_planted_backspace_and_outside_path_are_found_in_files(tmp_path):
    md = tmp_path / "planted.md"
    md.write_text("usually written $\beta$\n", encoding="utf-8")  # "\b" is a backspace here
    nb = tmp_path / "planted.ipynb"
    nb.write_text(json.dumps({"cells": [{"source": ["a\bb"]}]}), encoding="utf-8")
    assert json.dumps("a\bb") == '"a\\bb"'  # stored as an escape, so only decoding finds it
    out = tmp_path / "outside.md"
    out.write_text(f"clean text\nsee {W}/shared/{N}.md\n", encoding="utf-8")
    assert file_problems(md, "docs/planted.md") == ["docs/planted.md:1: control character '\\x08'"]
    assert file_problems(nb, "notebooks/planted.ipynb") == [
        "notebooks/planted.ipynb:1: control character '\\x08'"]
    assert [p.split(": ")[0] for p in file_problems(out, "docs/outside.md")] == ["docs/outside.md:2"] * 2
    clean = tmp_path / "clean.md"
    clean.write_text("tabs\tand newlines\n are fine; so is β and — \n", encoding="utf-8")
    assert file_problems(clean, "docs/clean.md") == []


def test_control_characters_reports_lines():
    assert control_characters("ok\nb\x08ad\n\x1b[0m") == [(2, "'\\x08'"), (3, "'\\x1b'")]
    assert control_characters("\t\n") == []
