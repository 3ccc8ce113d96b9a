"""Sphinx configuration of the course website; ``python docs/site/build.py`` builds it into build/site/.

The site is made from the repository as it is: README.md is the front page, docs/*.md are the pages,
notebooks/ gives the notebooks with their stored outputs (never executed here) and the exercises as
committed (unexecuted). Four things are added while building, none of them written twice:

* the sidebar is the path of docs/course.md (:func:`sidebar`): the notebooks of each session in the
  order the course shows them, then the reference pages, then the solutions (docs/site/solutions.md);
* each exercise page starts with a download link and the description of each checker it calls, taken
  from the checker's docstring (:func:`exercise_box`);
* each solution is titled and marked as one, with a link back to its exercise (:func:`solution_banner`);
* the course page links one archive of the notebooks, the exercises and the package they import
  (:func:`write_archive`, made at each build, never committed).

Nothing is fetched when a page opens: MathJax 3 is copied from the ``django-static-mathjax`` package
(a plain copy of MathJax, Apache-2.0, its LICENSE copied beside it) into ``_static/mathjax``.

Only the standard library is imported at the top: pytest imports this file (``--doctest-modules``)
where Sphinx is not installed.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ARCHIVE = "horq_ref-course.zip"
LINK = re.compile(r"\]\(\s*<?([^)\s>#]+)")  # a Markdown link's target, without its #fragment
CHECKER = re.compile(r"\b(check_\w+)\(")
API_MODULE = re.compile(r"^## `(horq_ref[\w.]*)`", re.MULTILINE)  # a module's heading in docs/api.md

# ---------------------------------------------------------------- Sphinx settings

project = "horq_ref"
author = "the horq_ref authors"
copyright = "the horq_ref authors, BSD-3-Clause"  # noqa: A001 (Sphinx's name)
root_doc = "README"
extensions = ["myst_nb", "sphinx.ext.mathjax"]
include_patterns = ["README.md", "docs/*.md", "docs/site/*.md", "notebooks/*.ipynb",
                    "notebooks/exercises/*.ipynb", "notebooks/exercises/solutions/*.ipynb"]
exclude_patterns = []
nb_execution_mode = "off"  # the notebooks are shown with the outputs committed with them
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 6  # GitHub's anchors: README.md links docs/paper.md#7-experiments
html_theme = "sphinx_book_theme"
html_title = "horq_ref"
html_theme_options = {
    "use_download_button": True,  # the .ipynb of every notebook page
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "navbar_persistent": [],  # no second search field in a top bar: the sidebar has one
    "secondary_sidebar_items": {"**": ["page-toc"]},  # none on pages with figures (has_figures)
}
html_context = {"default_mode": "light"}  # the theme's script logs an error when no mode is set
html_sourcelink_suffix = ""  # the download button gives name.ipynb, not name.ipynb.txt
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_js_files = ["site.js"]
html_last_updated_fmt = None
mathjax_path = "mathjax/tex-chtml-full.js"  # relative: under _static, loaded from the site itself
# what the site needs of the package's MathJax: {place under _static/mathjax: place in the package}
MATHJAX_FILES = {"tex-chtml-full.js": "es5/tex-chtml-full.js", "LICENSE": "LICENSE",
                 "output/chtml/fonts/woff-v2": "es5/output/chtml/fonts/woff-v2"}


# ---------------------------------------------------------------- the course path


def page_name(path):
    """The page (docname) of the site that a file is, or None.

    >>> page_name(ROOT / "docs" / "course.md"), page_name(ROOT / "setup.cfg")
    ('docs/course', None)
    """
    path = Path(path).resolve()
    if path.suffix not in (".md", ".ipynb") or not path.is_file() or ROOT not in path.parents:
        return None
    rel = path.relative_to(ROOT)
    if not any(rel.match(pattern) and len(rel.parts) == len(Path(pattern).parts)
               for pattern in include_patterns):
        return None
    return rel.with_suffix("").as_posix()


def all_pages():
    """Every page of the site, sorted by name (the numbered notebooks in their order)."""
    return sorted({page_name(p) for pattern in include_patterns for p in ROOT.glob(pattern)})


def linked_pages(text, base):
    """The pages that ``text`` (Markdown in folder ``base``) links, in order, each once."""
    pages = [page_name(base / target) for target in LINK.findall(text)]
    return list(dict.fromkeys(p for p in pages if p))


def course_sections(text):
    """``[(heading, text)]`` of docs/course.md, one per ``## `` heading (``None`` before the first)."""
    parts = re.split(r"^## +(.+)$", text, flags=re.MULTILINE)
    headings = [None] + [re.sub(r"[*`_]", "", h).strip() for h in parts[1::2]]
    return list(zip(headings, parts[0::2]))


def sidebar(course_text, index_text):
    """``[(caption, [page, ...])]``: the course path of docs/course.md, then the reference pages.

    Each course section lists the notebooks it links first, in the order it links them; the other
    pages course.md links are the reference, followed by the pages docs/index.md links, then any
    page left over (sorted by name, like the numbered notebooks), then the solutions.
    """
    seen, reference, captions = {root_doc, "docs/course"}, [], [("Course", ["docs/course"])]
    for heading, block in course_sections(course_text):
        notebooks = []
        for page in linked_pages(block, ROOT / "docs"):
            if page not in seen:
                seen.add(page)
                (notebooks if page.startswith("notebooks/") else reference).append(page)
        if notebooks:
            captions.append((heading or "Course", notebooks))
    reference += [p for p in linked_pages(index_text, ROOT / "docs") if p not in seen]
    rest = [p for p in all_pages() if p not in seen and p not in reference
            and not p.startswith(("notebooks/exercises/solutions/", "docs/site/"))]
    more = [p for p in rest if p.startswith("notebooks/")]
    captions += [("More notebooks", more)] if more else []
    captions.append(("Reference", reference + [p for p in rest if p not in more]))
    captions.append(("For teachers", ["docs/site/solutions"]))
    return captions


def folder_page(folder, pages):
    """``(page, anchor)`` that a link to a repository folder opens on the site, or None.

    A folder with pages opens its first page in the sidebar's order (``pages``); a folder of the
    package opens its first module on the API page, or the page's table of the rest of the package
    when the module has no section there. On GitHub the same link shows the folder.
    """
    rel = Path(folder).resolve().relative_to(ROOT).as_posix()
    inside = [p for p in pages if p.startswith(rel + "/")]
    if inside:
        return inside[0], None
    dotted = rel.replace("/", ".")
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    modules = [m for m in API_MODULE.findall(api) if m == dotted or m.startswith(dotted + ".")]
    if modules:
        return "docs/api", modules[0].replace(".", "")  # GitHub's anchor
    return ("docs/api", "the-rest-of-the-package") if f"`{dotted}`" in api else None


def has_figures(page):
    """Whether a page shows figures (a notebook's image outputs, a Markdown image).

    Such a page gives the width of its table of contents to its figures, so that they are large
    enough for a projector at 1280 x 800 (tests/test_site.py measures them).
    """
    path = next(ROOT.glob(f"{page}.*"))
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        return '"image/png"' in text
    return re.search(r"!\[[^\]]*\]\(", text) is not None


def toctree_markdown(captions):
    """The hidden toctrees (MyST) that make the sidebar, appended to the front page."""
    return "".join(f"\n\n```{{toctree}}\n:hidden:\n:caption: {caption}\n\n" + "\n".join(pages)
                   + "\n```\n" for caption, pages in captions)


# ---------------------------------------------------------------- exercises and the archive


def rst_to_markdown(text):
    """A docstring's first paragraph with its reST literals and roles as Markdown code.

    >>> rst_to_markdown("Check ``f(x)`` against :func:`horq_ref.sign`; print.\\n\\nMore.")
    'Check `f(x)` against `horq_ref.sign`; print.'
    """
    first = " ".join(text.strip().split("\n\n")[0].split())
    first = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", first)
    return first.replace("``", "`")


def exercise_box(notebook_json, stem):
    """The notebook with a first-cell note: its download link and the checkers it calls."""
    sys.path.insert(0, str(ROOT / "notebooks" / "exercises"))  # the checkers, beside the exercises
    import checkers as exercises

    nb = json.loads(notebook_json)
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    names = [n for n in dict.fromkeys(CHECKER.findall(code)) if n in exercises.__all__]
    lines = [":::{admonition} Download this exercise and run it in Jupyter", ":class: tip",
             f"{{download}}`{stem}.ipynb <{stem}.ipynb>` (without outputs). Each checker below runs "
             "your function on fixed, random and adversarial cases and names the likely mistake:", ""]
    for name in names:
        lines.append(f"* `{name}`: {rst_to_markdown(getattr(exercises, name).__doc__)}")
    nb["cells"].insert(1, {"cell_type": "markdown", "id": "site-download-and-checkers", "metadata": {},
                           "source": "\n".join(lines + [":::"])})
    return json.dumps(nb)


def solution_banner(notebook_json, stem):
    """A solution notebook titled as one, with a warning that sends students to the exercise first."""
    nb = json.loads(notebook_json)
    first = nb["cells"][0]
    source = "".join(first["source"])
    first["source"] = re.sub(r"\A# ", "# Solution \N{EM DASH} ", source)
    warning = (":::{warning}\nThe solution, for teachers. Students: write the functions of "
               f"[the exercise](../{stem}.ipynb) first and let its checkers judge them.\n:::")
    nb["cells"].insert(1, {"cell_type": "markdown", "id": "site-solution-warning", "metadata": {},
                           "source": warning})
    return json.dumps(nb)


def archive_members():
    """``{name in the archive: file}``: the notebooks, the exercises with their checkers, the
    notebooks' figures module and the package they import."""
    files = [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("notebooks/*.py"),
             *ROOT.glob("notebooks/exercises/*.ipynb"), *ROOT.glob("notebooks/exercises/checkers/*.py"),
             *ROOT.glob("horq_ref/**/*.py"), *ROOT.glob("horq_ref/data/*.npz"),
             *(ROOT / name for name in ("README.md", "LICENSE", "setup.cfg", "pyproject.toml"))]
    return {f"horq_ref-course/{f.relative_to(ROOT).as_posix()}": f for f in sorted(files)}


def write_archive(path):
    """One zip of :func:`archive_members`, the same bytes for the same files (fixed dates)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, file in archive_members().items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, file.read_bytes(), zipfile.ZIP_DEFLATED)


def archive_note(course_text, depth):
    """course.md with a note under its title linking the archive (``depth``: folders below the root)."""
    href = "../" * depth + ARCHIVE
    note = (":::{note}\n**For the classroom:** "
            f'<a href="{href}" download>{ARCHIVE}</a>, one archive of every notebook and exercise with '
            "the package they import: unpack it, then `pip install -e \".[notebooks]\"` and "
            "`jupyter lab notebooks/` in its folder.\n:::\n")
    title, _, rest = course_text.partition("\n")
    return f"{title}\n\n{note}{rest}"


# ---------------------------------------------------------------- Sphinx hooks


def on_source_read(app, docname, source):
    if docname == root_doc:
        course, index = (ROOT / "docs" / name for name in ("course.md", "index.md"))
        source[0] += toctree_markdown(sidebar(course.read_text(encoding="utf-8"),
                                              index.read_text(encoding="utf-8")))
    elif docname == "docs/course":
        source[0] = archive_note(source[0], docname.count("/"))
    elif re.fullmatch(r"notebooks/exercises/[^/]+", docname):
        source[0] = exercise_box(source[0], docname.rsplit("/", 1)[1])
    elif docname.startswith("notebooks/exercises/solutions/"):
        source[0] = solution_banner(source[0], docname.rsplit("/", 1)[1])


def on_build_finished(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    import mathjax  # the django-static-mathjax package: MathJax's files, no Django needed

    source, target = Path(mathjax.__path__[0]) / "static" / "mathjax", Path(app.outdir)
    for place, name in MATHJAX_FILES.items():
        destination = target / "_static" / "mathjax" / place
        destination.parent.mkdir(parents=True, exist_ok=True)
        if (source / name).is_dir():
            shutil.copytree(source / name, destination, dirs_exist_ok=True)
        else:
            shutil.copyfile(source / name, destination)
    write_archive(target / ARCHIVE)
    (target / "index.html").write_text(
        f'<!DOCTYPE html><meta charset="utf-8"><title>{project}</title>'
        f'<meta http-equiv="refresh" content="0; url={root_doc}.html">'
        f'<a href="{root_doc}.html">{project}</a>\n', encoding="utf-8")


def site_pages():
    """Every page in the sidebar's order: the front page, the course path, the solutions."""
    course, index = (ROOT / "docs" / name for name in ("course.md", "index.md"))
    captions = sidebar(course.read_text(encoding="utf-8"), index.read_text(encoding="utf-8"))
    solutions = [p for p in all_pages() if p.startswith("notebooks/exercises/solutions/")]
    return [root_doc] + [page for _, pages in captions for page in pages] + solutions


def setup(app):
    from sphinx import addnodes
    from sphinx.transforms.post_transforms import SphinxPostTransform

    class FolderLinks(SphinxPostTransform):
        """Links to a folder of the repository (``notebooks/exercises/``) go to :func:`folder_page`."""

        default_priority = 8  # before MyST resolves its links (9), which would warn

        def run(self, **kwargs):
            pages = site_pages()
            for node in self.document.findall(addnodes.pending_xref):
                if node.get("reftype") != "myst" or node.get("refdomain"):
                    continue
                source = Path(self.env.doc2path(node["refdoc"])).parent
                folder = (source / node["reftarget"].split("#")[0]).resolve()
                found = folder.is_dir() and ROOT in [folder, *folder.parents] and folder_page(folder, pages)
                if found:
                    node["refdomain"], node["reftarget"], node["reftargetid"] = "doc", *found

    def figures_wide(app, config):
        wide = {page: [] for page in site_pages() if has_figures(page)}
        config.html_theme_options["secondary_sidebar_items"].update(wide)

    app.add_post_transform(FolderLinks)
    app.connect("config-inited", figures_wide)
    app.connect("source-read", on_source_read)
    app.connect("build-finished", on_build_finished)
