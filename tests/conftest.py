"""Shared test configuration: Hypothesis profiles, plotting backend, BLAS threads restored.

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


@pytest.fixture(scope="session")
def _blas_threads_at_start():
    from horq_ref.experiments.blas import blas_threads

    return blas_threads()


@pytest.fixture(autouse=True)
def _blas_threads_restored(_blas_threads_at_start):
    """A command run in this process sets the BLAS threads (environment and loaded library, see
    horq_ref.experiments.blas); the tests after it, and the notebook kernels started from this
    process, must not inherit that setting, or their numbers would depend on the order of the tests."""
    from horq_ref.experiments.blas import ENV_VARS, set_blas_threads

    saved = {var: os.environ.get(var) for var in ENV_VARS}
    yield
    if {var: os.environ.get(var) for var in ENV_VARS} != saved:
        if _blas_threads_at_start is not None:
            set_blas_threads(_blas_threads_at_start)
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
