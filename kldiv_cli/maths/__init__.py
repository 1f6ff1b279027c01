"""Maths: how each number is computed, in pure NumPy (SciPy only where NumPy lacks a
special function, imported inside the function that needs it).

Arrays in, arrays out; natural logs inside, one conversion to the chosen unit at the
end; vectorised along an ``axis``. No files, no labels, no printing: :mod:`.core`
(the measures of a pair, the zero rule, units), :mod:`.counts` (the rules of counts),
:mod:`.pairwise`, :mod:`.information`, :mod:`.estimators`, :mod:`.significance` and
:mod:`.bootstrap`. Named ``maths``, not ``measures``: ``kldiv_cli.measures`` is the
public function.
"""
