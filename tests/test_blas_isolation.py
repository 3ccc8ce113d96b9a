"""A test that sets the BLAS threads (as every in-process ``horq-ref train/reproduce/bench`` does)
does not leak them into the tests after it or into the notebook kernels (tests/conftest.py restores
them). The two tests run in this order; the second fails if the first one's setting survives."""

import os

from horq_ref.experiments.blas import ENV_VARS, blas_threads, set_blas_threads

BEFORE = {}


def test_a_command_sets_the_blas_threads_of_this_process():
    BEFORE.update({var: os.environ.get(var) for var in ENV_VARS}, library=blas_threads())
    other = 3 if BEFORE["library"] != 3 else 2
    set_blas_threads(other)
    assert all(os.environ[var] == str(other) for var in ENV_VARS)
    assert blas_threads() in (other, None)  # None: no readable BLAS library here


def test_the_next_test_has_the_settings_of_before():
    assert BEFORE, "runs after the test above"
    assert {var: os.environ.get(var) for var in ENV_VARS} == {var: BEFORE[var] for var in ENV_VARS}
    assert blas_threads() == BEFORE["library"]
