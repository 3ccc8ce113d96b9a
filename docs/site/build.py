"""Build the course website: ``python docs/site/build.py`` writes build/site/ (open build/site/index.html).

Needs ``pip install -e ".[site]"``. Sphinx runs with warnings as errors (``-W``): a broken link, a
missing image or a page left out of the sidebar stops the build. The notebooks are not executed: the
site shows the outputs committed with them. ``--out DIR`` writes elsewhere.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def build(out, quiet=True):
    """Build the site into ``out``; return Sphinx's exit status (0: built with no warning)."""
    from sphinx.cmd.build import build_main

    out = Path(out).resolve()
    images = out.parent / "jupyter_execute"  # myst-nb writes the notebooks' images here first
    leave_images = images.exists()
    try:
        with tempfile.TemporaryDirectory() as doctrees:
            args = ["-W", "--keep-going", "-b", "html", "-c", str(HERE), "-d", doctrees, "-E"]
            return build_main(args + ["-q"] * quiet + [str(ROOT), str(out)])
    finally:
        if not leave_images:
            shutil.rmtree(images, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site",
                        help="folder to write the site into (default build/site)")
    args = parser.parse_args(argv)
    status = build(args.out)
    if status == 0:
        print(f"site written to {args.out}; open {args.out / 'index.html'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
