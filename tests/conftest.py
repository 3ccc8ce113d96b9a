"""Shared test configuration: Hypothesis profiles and plotting backend.

Profiles (select with ``HORQ_HYPOTHESIS_PROFILE``):

* ``ci``       quick: 40 examples per property, no deadline (the default when ``CI`` is set);
* ``dev``      the default locally: 150 examples per property;
* ``thorough`` 3,000 examples per property, for a long hunt before a release.
"""

import os

import matplotlib
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=40, derandomize=True, print_blob=True, **_COMMON)
settings.register_profile("dev", max_examples=150, print_blob=True, **_COMMON)
settings.register_profile("thorough", max_examples=3000, print_blob=True, **_COMMON)
settings.load_profile(
    os.environ.get("HORQ_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture
def rng():
    """A fixed-seed generator: every test that draws random numbers is reproducible."""
    return np.random.default_rng(20171022)
