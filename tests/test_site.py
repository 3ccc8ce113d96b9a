"""The course website (``python docs/site/build.py``), built and opened in headless Chromium.

Every page is loaded from a local HTTP server under a sub-path (``/course/horq/``), with every request
that would leave the machine blocked and recorded; a few pages are also opened from the folder
(``file://``). Each page must: request nothing outside the site, log no console error, load every
image, show no raw TeX and render every formula. Every link between pages must resolve, the search
must find the glossary's "residual", and figures must stay large enough for a projector at 1280 x 800.
Negative controls plant an external script, a formula left as TeX and a missing image in copies of a
page and show that the checks catch each.

Needs ``pip install -e ".[site]"`` and Chromium (Debian's ``chromium``; another one with
``HORQ_CHROMIUM``). Without them the test is skipped with a one-line reason, except in CI, where it
fails. ``HORQ_SITE=build/site`` checks a site already built with the README's command instead of
building one; ``HORQ_SITE_SCREENSHOTS=DIR`` keeps the three screenshots.
"""

import contextlib
import functools
import importlib.util
import io
import os
import re
import sys
import shutil
import warnings
from html import unescape
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from support import http_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def _site_script(name):
    """A script of docs/site/ as a module (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location(f"site_{name}", ROOT / "docs" / "site" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONF = _site_script("conf")
FIRST_NOTEBOOK = next(p for p in CONF.site_pages() if p.startswith("notebooks/"))
CHROMIUM = os.environ.get("HORQ_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
SUB_PATH = "course/horq"
VIEWPORT = {"width": 1280, "height": 800}
# TeX that MathJax should have turned into math: a control word, a math delimiter, a sub/superscript group
RAW_TEX = re.compile(r"\\[A-Za-z]+|\\[()\[\]]|\$\$|\$[^$\s][^$\n]*\$|[_^]\{")
# A figure's smallest text is the style's 10 pt floor (tests/test_notebooks.py, experiments/style.py),
# 10 / 72 * dpi pixels in the PNG. At 1280 x 800 it must stay at least half of the page's 16 px body text.
FLOOR_PT, MIN_TEXT_PX = 10, 8


def _missing():
    """Why the site cannot be built and opened here, or None."""
    for module in ("sphinx", "myst_nb", "sphinx_book_theme", "mathjax", "playwright"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed: pip install -e '.[site]'"
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM}: apt-get install chromium"
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    reason = _missing()
    if reason:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)
    if os.environ.get("HORQ_SITE"):
        return Path(os.environ["HORQ_SITE"]).resolve()
    out = tmp_path_factory.mktemp("site") / "site"
    with warnings.catch_warnings():  # the theme's and MyST's notices of Sphinx 11 API changes
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        assert _site_script("build").build(out) == 0, "the site build failed (warnings are errors)"
    return out


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(site, tmp_path_factory):
    """The site under http://127.0.0.1:PORT/course/horq/, and a folder ``neg`` served beside it."""
    root = tmp_path_factory.mktemp("www")
    (root / SUB_PATH).parent.mkdir(parents=True)
    (root / SUB_PATH).symlink_to(site, target_is_directory=True)
    (root / "neg" / "docs").mkdir(parents=True)  # the site again, its pages of docs/ to be planted
    for entry in [*site.iterdir(), *(site / "docs").iterdir()]:
        if entry != site / "docs":
            (root / "neg" / entry.relative_to(site)).symlink_to(entry)
    with http_server(functools.partial(_Quiet, directory=str(root))) as httpd:
        yield httpd.url, root


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """A browser context that blocks and records every request leaving ``allowed`` (a URL prefix),
    and records console errors, uncaught exceptions and failed loads of the page it opens."""

    def __init__(self, browser, allowed):
        self.external, self.errors, self.allowed = [], [], allowed
        self.context = browser.new_context(viewport=VIEWPORT)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: r.url not in self.external and self.errors.append(
            f"failed: {r.url}"))
        self.page.on("response", lambda r: r.status >= 400 and self.errors.append(f"{r.status}: {r.url}"))

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:", self.allowed)):
            return route.continue_()
        self.external.append(url)
        return route.abort()

    def open(self, url):
        """The page at ``url`` once loaded, its formulas typeset and its images loaded or failed."""
        self.page.goto("about:blank")  # what the last page still loads is cut off here, not below
        self.external.clear()
        self.errors.clear()
        self.page.goto(url, wait_until="load")
        self.page.evaluate(WAIT_FOR_MATH_AND_IMAGES)
        return self.page


@contextlib.contextmanager
def visiting(browser, allowed):
    visit = Visit(browser, allowed)
    try:
        yield visit
    finally:
        visit.context.close()


WAIT_FOR_MATH_AND_IMAGES = """async () => {
  if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
  await Promise.all(Array.from(document.images, (img) => img.complete ? null :
    new Promise((done) => { img.onload = img.onerror = done; })));
}"""

PAGE_FACTS = """() => {
  const skip = 'pre, code, script, style, mjx-container, .highlight, textarea';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const text = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el.closest(skip) && el.checkVisibility()) text.push(n.data);
  }
  return {
    text: text.join(' '),
    broken: Array.from(document.images).filter((i) => !(i.naturalWidth > 0)).map((i) => i.src),
    math: document.querySelectorAll('.math').length,
    rendered: document.querySelectorAll('.math mjx-container').length,
    texErrors: Array.from(document.querySelectorAll('mjx-merror'), (e) => e.textContent),
  };
}"""


def page_problems(visit, facts):
    """Every way a page (its ``facts``, opened by ``visit``) breaks the site's rules, readably."""
    problems = [f"external request: {u}" for u in visit.external]
    problems += [f"console: {e}" for e in visit.errors]
    problems += [f"image not loaded: {src}" for src in facts["broken"]]
    problems += [f"raw TeX: {m!r}" for m in sorted(set(RAW_TEX.findall(facts["text"])))[:5]]
    problems += [f"TeX error: {e}" for e in facts["texErrors"]]
    if facts["rendered"] != facts["math"]:
        problems.append(f"{facts['math'] - facts['rendered']} of {facts['math']} formulas not rendered")
    return problems


def html_pages(site):
    """Every page of the site but index.html, which only sends the browser to the front page."""
    return sorted(p.relative_to(site).as_posix() for p in site.glob("**/*.html")
                  if not p.relative_to(site).parts[0].startswith("_") and p != site / "index.html")


SCREENSHOTS = ("README.html", "docs/theory.html", f"{FIRST_NOTEBOOK}.html")


@pytest.fixture(scope="module")
def opened(site, served, browser):
    """Every page opened once from the server: ``{page: (problems, facts, figures, screenshot)}``."""
    base, _ = served
    pages = {}
    with visiting(browser, base) as visit:
        for name in html_pages(site):
            page = visit.open(f"{base}/{SUB_PATH}/{name}")
            facts = page.evaluate(PAGE_FACTS)
            pages[name] = (page_problems(visit, facts), facts, page.evaluate(FIGURES),
                           page.screenshot() if name in SCREENSHOTS else None)
    return pages


def test_every_page_loads_offline_with_its_math_and_images(opened):
    problems = {name: found for name, (found, *_) in opened.items() if found}
    assert not problems, problems


def test_the_theory_page_renders_its_math(opened):
    _, facts, *_ = opened["docs/theory.html"]
    assert facts["math"] > 100 and facts["rendered"] == facts["math"], facts["math"]


def test_pages_open_from_the_folder(site, browser):
    with visiting(browser, "file:") as visit:
        for name in ["README.html", "docs/theory.html", f"{FIRST_NOTEBOOK}.html", "search.html"]:
            facts = visit.open((site / name).as_uri()).evaluate(PAGE_FACTS)
            assert page_problems(visit, facts) == [], name


def test_the_download_button_saves_the_notebook(site, served, browser):
    base, _ = served
    with visiting(browser, base) as visit:
        page = visit.open(f"{base}/{SUB_PATH}/{FIRST_NOTEBOOK}.html")
        page.click(".dropdown-download-buttons button")
        with page.expect_download() as download:
            page.click("a.btn-download-source-button")
        assert download.value.suggested_filename == Path(FIRST_NOTEBOOK).name + ".ipynb"


def test_the_folder_and_the_server_open_on_the_front_page(site, served, browser):
    base, _ = served
    with visiting(browser, base) as visit:
        for url in ((site / "index.html").as_uri(), f"{base}/{SUB_PATH}/"):
            visit.page.goto(url)
            visit.page.wait_for_url(re.compile(r"/README\.html$"))
            assert visit.errors == [] and visit.external == []


# ---------------------------------------------------------------- links, search, sidebar


class _Anchors(HTMLParser):
    """The ids of a page and the local targets of its links and resources."""

    def __init__(self):
        super().__init__()
        self.ids, self.targets = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.ids.update(attrs[k] for k in ("id", "name") if attrs.get(k))
        for key in ("href", "src"):
            value = attrs.get(key)
            if value and not re.match(r"[a-z][a-z0-9+.-]*:", value):  # no scheme: a local target
                self.targets.append(value)


def _parsed(path, cache):
    if path not in cache:
        cache[path] = _Anchors()
        cache[path].feed(path.read_text(encoding="utf-8"))
    return cache[path]


def link_problems(site):
    """Local links of every page that are absolute or lead to no file or to no anchor of their page."""
    problems, cache = [], {}
    for page in sorted(p for p in site.glob("**/*.html") if not p.relative_to(site).parts[0][0] == "_"):
        for target in _parsed(page, cache).targets:
            parts = urlsplit(target)
            path, anchor = unquote(parts.path), unquote(parts.fragment)
            file = (page.parent / path).resolve() if path else page
            if path.startswith("/"):
                problems.append(f"{page.relative_to(site)}: {target} is absolute (breaks a sub-path)")
            elif site not in file.parents or not file.is_file():
                problems.append(f"{page.relative_to(site)}: {target} leads nowhere")
            elif anchor and file.suffix == ".html" and anchor not in _parsed(file, cache).ids:
                problems.append(f"{page.relative_to(site)}: no anchor #{anchor} in {path or 'itself'}")
    return problems


def test_every_local_link_resolves(site):
    assert link_problems(site) == []


def glossary_entry(word):
    """The first words of the glossary's entry for ``word`` (``**Word.** Text...``), as plain text."""
    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    body = re.search(rf"^\*\*{word}\.\*\*\s+(.+)$", text, re.MULTILINE | re.IGNORECASE).group(1)
    return " ".join(re.sub(r"[`*]", "", body).split()[:5])


SEARCH_RESULTS = """() => Array.from(document.querySelectorAll('#search-results li'),
  (li) => [li.querySelector('a').getAttribute('href'), li.textContent])"""
SEARCH_DONE = "/finished/i.test(document.querySelector('#search-results')?.textContent ?? '')"
EXCERPTS_DONE = """() => Array.from(document.querySelectorAll('#search-results li'))
  .every((li) => li.querySelector('span, p.context'))"""


def search(visit, url, word, excerpts):
    """The results of the site's search for ``word``: ``[(href, text)]``, excerpts included."""
    page = visit.open(f"{url}?q={word}")
    page.wait_for_function(SEARCH_DONE)
    if excerpts:  # fetched page by page after the list is shown
        page.wait_for_function(EXCERPTS_DONE)
    return page.evaluate(SEARCH_RESULTS)


def test_search_finds_the_glossary_entry_for_residual(site, served, browser):
    base, _ = served
    entry = glossary_entry("residual")
    for url in (f"{base}/{SUB_PATH}/search.html", (site / "search.html").as_uri()):
        with visiting(browser, base) as visit:
            results = search(visit, url, "residual", excerpts=url.startswith("http"))
            assert visit.errors == [] and visit.external == [], (visit.errors, visit.external)
        glossary = [text for href, text in results if href.split("#")[0].endswith("docs/glossary.html")]
        assert glossary, results
        if url.startswith("http"):  # from a folder the browser lets no page fetch the excerpts
            assert entry in " ".join(glossary[0].split()), (entry, glossary[0])


def sidebar_links(site):
    """The pages the front page's sidebar links, in order (without the front page itself)."""
    nav = (site / "README.html").read_text(encoding="utf-8").split('bd-docs-nav', 1)[1]
    nav = nav.split("</nav>", 1)[0]
    hrefs = re.findall(r'<a class="reference internal" href="([^"#]+)', nav)
    return [h.removesuffix(".html") for h in hrefs if h != "#"]


def course_notebooks(text):
    """The notebooks docs/course.md links, in the order it first links them."""
    found = re.findall(r"\]\(\.\./(notebooks/[\w/]+)\.ipynb", text)
    return [p for p in dict.fromkeys(found) if "/solutions/" not in p]


def test_the_sidebar_is_the_course_path(site):
    course = (ROOT / "docs" / "course.md").read_text(encoding="utf-8")
    links = sidebar_links(site)
    in_sidebar = [p for p in links if p in course_notebooks(course)]
    assert in_sidebar == course_notebooks(course)
    assert links[0] == "docs/course"
    pages = {p.removesuffix(".html") for p in html_pages(site)}
    solutions = {p for p in pages if "/solutions/" in p}
    assert pages - solutions - {"README", "search", "genindex"} == set(links) - solutions


def test_the_sidebar_follows_course_md_and_no_page_list_is_kept_by_hand():
    course = (ROOT / "docs" / "course.md").read_text(encoding="utf-8")
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    sessions = course.split("\n## ")
    swapped = "\n## ".join([sessions[0], sessions[2], sessions[1], *sessions[3:]])
    first = [p for _, pages in CONF.sidebar(course, index)[1:3] for p in pages]
    after = [p for _, pages in CONF.sidebar(swapped, index)[1:3] for p in pages]
    assert sorted(first) == sorted(after) and first != after  # the order follows course.md
    names = {p.stem for p in ROOT.glob("notebooks/**/*.ipynb")}  # what renames change
    for file in (ROOT / "docs" / "site").rglob("*.*"):
        text = file.read_text(encoding="utf-8")
        assert not [n for n in names if re.search(rf"\b{n}\b", text)], file


# ---------------------------------------------------------------- the classroom: screenshots, figures


def blank_reason(png):
    """Why a screenshot looks blank (one colour over 97 % of it, or fewer than 16 colours), or None."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    counts = sorted(image.histogram(), reverse=True)
    if counts[0] > 0.97 * sum(counts):
        return f"{counts[0] / sum(counts):.0%} of the pixels have one colour"
    if sum(c > 0 for c in counts) < 16:
        return f"{sum(c > 0 for c in counts)} colours"
    return None


def test_three_pages_are_not_blank_at_1280_by_800(opened, tmp_path):
    keep = Path(os.environ.get("HORQ_SITE_SCREENSHOTS") or tmp_path)
    keep.mkdir(parents=True, exist_ok=True)
    for name in SCREENSHOTS:
        png = opened[name][3]
        (keep / name.replace("/", "_").replace(".html", ".png")).write_bytes(png)
        assert blank_reason(png) is None, (name, blank_reason(png))


FIGURES = """() => Array.from(document.querySelectorAll('.bd-article img'), (img) => {
  const column = img.closest('.bd-article');
  const style = getComputedStyle(column);
  return {src: img.getAttribute('src'), natural: img.naturalWidth,
          shown: img.getBoundingClientRect().width,
          column: column.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)};
})"""


def figure_problems(figures, page_file):
    """Figures shrunk below their column, or whose 10-pt text is shown under MIN_TEXT_PX pixels."""
    from PIL import Image

    problems = []
    for f in figures:
        dpi = Image.open(page_file.parent / unquote(f["src"])).info.get("dpi", (72,))[0]
        text_px = FLOOR_PT / 72 * dpi * f["shown"] / f["natural"]
        if f["shown"] < min(f["natural"], f["column"]) - 1:
            problems.append(f"{f['src']}: shown {f['shown']:.0f} px in a {f['column']:.0f} px column")
        if text_px < MIN_TEXT_PX:
            problems.append(f"{f['src']}: its 10-pt text is {text_px:.1f} px on screen")
    return problems


def test_figures_are_readable_on_a_projector(site, opened):
    pages = [f"{p}.html" for p in CONF.site_pages() if CONF.has_figures(p)]
    assert f"{FIRST_NOTEBOOK}.html" in pages and "docs/results.html" in pages
    problems = {}
    for name in pages:
        figures = opened[name][2]
        assert figures, f"{name}: no figure shown"
        problems.update({name: p for p in [figure_problems(figures, site / name)] if p})
    assert not problems, problems


DOWNLOAD_BUTTON = re.compile(r'<a href="([^"]+\.ipynb)"[^>]*\n?[^>]*btn-download-source-button')


def test_notebook_pages_download_their_notebook_and_the_course_page_the_archive(site):
    import json
    import zipfile

    for name in [p for p in CONF.site_pages() if p.startswith("notebooks/")]:
        button = DOWNLOAD_BUTTON.search((site / f"{name}.html").read_text(encoding="utf-8"))
        assert button, f"{name}: no download button for its .ipynb"
        notebook = (site / name).parent / button.group(1)
        assert notebook.name == Path(name).name + ".ipynb", (name, notebook)
        assert json.loads(notebook.read_text(encoding="utf-8"))["cells"], name
    course = (site / "docs" / "course.html").read_text(encoding="utf-8")
    assert f'href="../{CONF.ARCHIVE}"' in course
    with zipfile.ZipFile(site / CONF.ARCHIVE) as archive:
        names = set(archive.namelist())
    expected = {f"horq_ref-course/{p.relative_to(ROOT).as_posix()}"
                for p in [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("notebooks/exercises/*.ipynb"),
                          ROOT / "notebooks" / "figures.py",  # what the notebooks import beside them
                          *ROOT.glob("notebooks/exercises/checkers/*.py")]}
    assert expected <= names and "horq_ref-course/horq_ref/__init__.py" in names
    assert not [n for n in names if "/solutions/" in n]


def test_exercises_describe_their_checkers_and_solutions_are_marked(site):
    sys.path.insert(0, str(ROOT / "notebooks" / "exercises"))  # the checkers, beside the exercises
    import checkers as exercises

    for path in sorted((ROOT / "notebooks" / "exercises").glob("*.ipynb")):
        html = (site / "notebooks" / "exercises" / f"{path.stem}.html").read_text(encoding="utf-8")
        text = " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())
        called = set(CONF.CHECKER.findall(path.read_text(encoding="utf-8")))
        assert called, path.name
        for name in called:
            summary = CONF.rst_to_markdown(getattr(exercises, name).__doc__).replace("`", "")
            assert f"{name}: {summary}" in text, (path.name, name, summary)
        assert re.search(rf'download="" href="[./]*_downloads/\w+/{path.stem}\.ipynb"', html), path.name
        solution = (site / "notebooks" / "exercises" / "solutions" / f"{path.stem}.html")
        text = solution.read_text(encoding="utf-8")
        assert "<h1>Solution" in text and "admonition warning" in text, solution
        assert f'href="../{path.stem}.html"' in text, "the solution links back to its exercise"


# ---------------------------------------------------------------- negative controls


def planted(site, served, change):
    """docs/theory.html changed by ``change`` (text -> text), served from the folder ``neg``."""
    base, root = served
    html = (site / "docs" / "theory.html").read_text(encoding="utf-8")
    changed = change(html)
    assert changed != html
    planted = root / "neg" / "docs" / "theory.html"
    planted.unlink()
    planted.write_text(changed, encoding="utf-8")
    return f"{base}/neg/docs/theory.html"


@pytest.mark.parametrize("change, expected", [
    (lambda h: h.replace("</head>", '<script src="https://cdn.jsdelivr.net/npm/x/x.js"></script></head>'),
     "external request: https://cdn.jsdelivr.net/npm/x/x.js"),
    (lambda h: re.sub(r'<script[^>]*mathjax/tex-chtml-full.js[^>]*></script>', "", h), "raw TeX"),
    (lambda h: h.replace("<p>", '<p><img src="../_images/no-such-figure.png" alt="">', 1),
     "image not loaded"),
], ids=["cdn-script", "tex-left-raw", "missing-image"])
def test_the_page_checks_catch_a_planted_fault(site, served, browser, change, expected):
    base, _ = served
    with visiting(browser, base) as visit:
        facts = visit.open(planted(site, served, change)).evaluate(PAGE_FACTS)
        problems = page_problems(visit, facts)
    assert any(p.startswith(expected) for p in problems), problems


def test_the_other_checks_catch_a_planted_fault(site, tmp_path):
    from PIL import Image

    copy = tmp_path / "site"
    (copy / "docs").mkdir(parents=True)
    shutil.copy(site / "docs" / "glossary.html", copy / "docs" / "glossary.html")
    (copy / "docs" / "gone.html").write_text('<a href="glossary.html#no-such-entry">x</a>'
                                             '<a href="/docs/glossary.html">y</a>', encoding="utf-8")
    problems = " ".join(link_problems(copy))
    assert "no anchor #no-such-entry" in problems and "is absolute" in problems
    assert "leads nowhere" in problems  # the glossary's links to other pages of the full site
    assert blank_reason(_png(Image.new("RGB", (1280, 800), "white"))) is not None
    assert blank_reason(_png(Image.linear_gradient("L").resize((1280, 800)))) is None
    assert figure_problems([{"src": "bound.png", "natural": 1367, "shown": 300, "column": 960}],
                           ROOT / "docs" / "results" / "x.html")


def _png(image):
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# ---------------------------------------------------------------- license and citation


def _setup_cfg(key):
    return re.search(rf"^{key} = (.+)$", (ROOT / "setup.cfg").read_text(encoding="utf-8"), re.M).group(1)


def test_license_and_citation_match_the_package():
    assert _setup_cfg("license") == "BSD-3-Clause"
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("BSD 3-Clause License") and "Neither the name of" in license_text
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(r"^cff-version: 1\.2\.0$", cff, re.M)
    assert re.search(rf"^version: {re.escape(_setup_cfg('version'))}$", cff, re.M)
    assert re.search(rf"^license: {_setup_cfg('license')}$", cff, re.M)
    assert "High-Order Residual Quantization" in cff.split("references:", 1)[1]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    citing = readme.split("\n## Citing and reuse", 1)[1]
    assert "CITATION.cff" in citing and "LICENSE" in citing


def test_the_readme_gives_the_build_command_and_its_folder():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'pip install -e ".[site]" && python docs/site/build.py' in readme and "build/site/" in readme
    assert "site =" in (ROOT / "setup.cfg").read_text(encoding="utf-8")
