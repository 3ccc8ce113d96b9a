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
def _blas_settings_at_start():
    """The BLAS environment variables and library threads before any test ran."""
    from horq_ref.experiments.blas import ENV_VARS, blas_threads

    return {var: os.environ.get(var) for var in ENV_VARS}, blas_threads()


@pytest.fixture(autouse=True)
def _blas_threads_restored(_blas_settings_at_start):
    """A command run in this process sets the BLAS threads (environment and loaded library, see
    horq_ref.experiments.blas), in a test or in a module's fixture; the tests after it, and the
    notebook kernels started from this process, must not inherit that setting, or their numbers
    would depend on the order of the tests. So after every test both are put back as they were
    before the first one."""
    from horq_ref.experiments.blas import ENV_VARS, blas_threads, set_blas_threads

    yield
    env, threads = _blas_settings_at_start
    if {var: os.environ.get(var) for var in ENV_VARS} != env or blas_threads() != threads:
        if threads is not None:
            set_blas_threads(threads)
        for var, value in env.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
