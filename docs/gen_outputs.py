"""Write the command output shown in the docs: run ``python docs/gen_outputs.py``.

A page shows what a command prints only in a marked block: the line before the fence names the
command, and the fence is ``text`` (the output alone) or ``console`` (``$ command``, then the output)::

    <!-- output of: horq-ref bound --orders 4 -->
    ```text
    ...
    ```

The script runs every marked command in this process (``horq_ref.commands.main``; the commands it
is used for print the same text on every machine: seeded draws, no timings) and writes what it printed
into the block. ``tests/test_docs.py`` fails when a committed block differs from what this script
writes, and when a ``text`` or ``console`` block shows output without a mark; run it again after
changing what a command prints.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
if str(DOCS.parent) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(DOCS.parent))

from horq_ref.commands import main as horq_ref_main  # noqa: E402

MARK = re.compile(r"<!-- output of: (?P<cmd>[^\n]+?) -->\n```(?P<kind>text|console)\n(?P<body>.*?)```\n",
                  re.DOTALL)
FENCE = re.compile(r"(?P<before>[^\n]*)\n```(?P<kind>text|console)\n(?P<body>.*?)```\n", re.DOTALL)


def command_output(command):
    """What ``command`` (a ``horq-ref`` command line) prints, run in this process."""
    argv = shlex.split(command)
    if argv[0] != "horq-ref":
        raise ValueError(f"only horq-ref commands can be marked, got {command!r}")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = horq_ref_main(argv[1:])
    if status != 0:
        raise RuntimeError(f"{command!r} exited with status {status}")
    return out.getvalue()


def render(text):
    """``text`` with every marked block holding the current output of its command."""
    def block(m):
        cmd, kind = m["cmd"], m["kind"]
        body = (f"$ {cmd}\n" if kind == "console" else "") + command_output(cmd).strip("\n") + "\n"
        return f"<!-- output of: {cmd} -->\n```{kind}\n{body}```\n"
    return MARK.sub(block, text)


def unmarked_output(text):
    """The ``text``/``console`` blocks that show output (a line not starting with ``$ ``) unmarked."""
    return [m["body"].splitlines()[0] for m in FENCE.finditer(text)
            if not m["before"].startswith("<!-- output of:")
            and any(line and not line.startswith("$ ") for line in m["body"].splitlines())]


def pages():
    """The pages that may show command output: docs/*.md but the generated api.md, and the README."""
    return sorted(p for p in DOCS.glob("*.md") if p.name != "api.md") + [DOCS.parent / "README.md"]


if __name__ == "__main__":
    for page in pages():
        old = page.read_text(encoding="utf-8")
        new = render(old)
        if new != old:
            page.write_text(new, encoding="utf-8")
            print(f"wrote {page.relative_to(DOCS.parent)}")
