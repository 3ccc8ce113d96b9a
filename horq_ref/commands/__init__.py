"""Subcommands of ``horq-ref``: one module each.

Every module here defines ``NAME`` (the subcommand), ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int`` (the exit status). :mod:`horq_ref.cli` finds them with :mod:`pkgutil`, so adding a
command means adding a module.
"""
