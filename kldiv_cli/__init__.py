"""kldiv: how different are these two distributions?

The Python API is the command line's core: every function takes probabilities or
counts (normalized along ``axis``) and returns bits, nats or bans. Two pandas Series
(or mappings of label to value) are aligned by label over the union of their labels,
as the command line aligns tables; a Series with a plain array is refused.

>>> from kldiv_cli import kl_divergence, js_divergence
>>> float(kl_divergence([0, 1], [0.5, 0.5]))
1.0
"""

from kldiv_cli.errors import InputMissingError, InvalidDataError, KldivError, UsageError
from kldiv_cli.maths.core import (
    MEASURES,
    UNITS,
    contributions,
    cross_entropy,
    entropy,
    js_distance,
    js_divergence,
    kl_divergence,
    measures,
    normalize,
)

__version__ = "0.1.0"

__all__ = [
    "MEASURES",
    "UNITS",
    "InputMissingError",
    "InvalidDataError",
    "KldivError",
    "UsageError",
    "__version__",
    "contributions",
    "cross_entropy",
    "entropy",
    "js_distance",
    "js_divergence",
    "kl_divergence",
    "measures",
    "normalize",
]
