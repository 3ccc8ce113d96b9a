"""``python -m horq_ref`` is the ``horq-ref`` command line."""

import sys

from .commands import main

sys.exit(main())
