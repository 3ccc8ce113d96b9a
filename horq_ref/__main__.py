"""``python -m horq_ref`` is the ``horq-ref`` command line."""

import sys

from .cli import main

sys.exit(main())
