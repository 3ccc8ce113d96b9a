"""Every relative link and image of the repository's Markdown files and notebooks leads somewhere.

Each tracked ``.md`` file and the Markdown cells of each tracked notebook (solutions and exercises
included) are read; every Markdown link or image ``[text](target)`` and HTML ``<a href>`` / ``<img src>``
with a relative target must name an existing file or folder, resolved from the folder of the file that
holds it, and an anchor into a Markdown file (``page.md#section``, ``#section``) must be one of its
headings as GitHub makes them (lower case, punctuation dropped, spaces to hyphens). Code spans and
fenced code blocks are skipped; web addresses are not fetched. A negative control plants each defect.
"""

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from test_repository_text import tracked_text_files

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML = re.compile(r"""<(?:img|a)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", re.M)
EXTERNAL = re.compile(r"^[A-Za-z][\w+.-]*:")  # https:, mailto:, ...


def markdown_of(path):
    """The Markdown of a ``.md`` file, or of the Markdown cells of a notebook."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        cells = json.loads(text)["cells"]
        text = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return text


def anchors(markdown):
    """The anchors of a page's headings as GitHub makes them, and explicit ``<a id=...>`` ones."""
    found, seen = set(), {}
    for title in HEADING.findall(FENCE.sub("", markdown)):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title.replace("`", "").replace("*", ""))
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        found.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return found | set(re.findall(r"""<a\s+(?:id|name)=["']([^"']+)""", markdown))


def broken_links(markdown, where, root=ROOT):
    """``[(target, why)]`` for each relative link of ``markdown`` (held by ``root / where``) that leads
    nowhere."""
    text, problems = CODE_SPAN.sub("", FENCE.sub("", markdown)), []
    for target in LINK.findall(text) + HTML.findall(text):
        if EXTERNAL.match(target):
            continue
        path, _, anchor = unquote(target).partition("#")
        dest = (root / where).parent / path if path else root / where
        if not dest.exists():
            problems.append((target, "no such file"))
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest.read_text(encoding="utf-8")):
            problems.append((target, "no such heading"))
    return problems


def documents():
    return [f for f in tracked_text_files() if f.endswith((".md", ".ipynb"))]


def test_every_relative_link_and_image_resolves():
    files = documents()
    assert "README.md" in files and any(f.startswith("notebooks/exercises/solutions/") for f in files)
    problems = [f"{f}: {target} ({why})" for f in files
                for target, why in broken_links(markdown_of(ROOT / f), f)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("markdown, expected", [
    ("see [the theory](theory.md)", []),
    ("see [the theory](theory-typo.md)", [("theory-typo.md", "no such file")]),
    ("![a figure](figures/missing.png)", [("figures/missing.png", "no such file")]),
    ('<img src="nowhere.png" width="700">', [("nowhere.png", "no such file")]),
    ("[§2](theory.md#no-such-section)", [("theory.md#no-such-section", "no such heading")]),
    ("[up](../README.md#start-here) and [web](https://example.org/x.md)", []),
    ("`[not a link](missing.md)` in code", []),
    ("```\n[not a link](missing.md)\n```", []),
])
def test_the_link_check_finds_what_it_looks_for(markdown, expected):
    assert broken_links(markdown, "docs/page.md") == expected


def test_anchors_are_made_as_github_makes_them():
    page = "# `horq_ref.checks`\n## 7. Experiments\n## Threads and reproducibility\n## 7. Experiments"
    assert anchors(page) == {"horq_refchecks", "7-experiments", "threads-and-reproducibility",
                             "7-experiments-1"}


def test_a_notebook_is_read_by_its_markdown_cells():
    nb = ROOT / "notebooks" / "exercises" / "solutions" / "01_sign_and_binarization.ipynb"
    text, up3, up2 = markdown_of(nb), "../" * 3, "../" * 2  # (built: this file names no climbing path)
    assert f"]({up3}docs/theory.md)" in text and "import numpy" not in text
    assert broken_links(text.replace(f"{up3}docs", f"{up2}docs"), str(nb.relative_to(ROOT)))
