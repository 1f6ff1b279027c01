"""Commands: one module per command of the spec (compare, matrix, pairs, entropy, mi).

Each reads its sources through :mod:`kldiv_cli.readers`, computes with
:mod:`kldiv_cli.maths`, checks, and returns a dataclass of :mod:`.results`; what they
share is :mod:`.common`. A command never prints, never knows the output format and
never imports :mod:`kldiv_cli.render` or :mod:`kldiv_cli.cli`: long work reports to a
``progress(done, total)`` callback its caller gives it.
"""
