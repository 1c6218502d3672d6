"""jaccli: a command-line Jacobian calculator.

The Python API mirrors the commands: ``jacobian``, ``gradient``, ``hessian`` and
``derivative`` take an expression and a point and return a ``Result``.
"""

from __future__ import annotations

__version__ = "0.1.0"

_API = {"jacobian", "gradient", "hessian", "derivative"}


def __getattr__(name: str):
    # Lazy: ``import jaccli`` must not import sympy (start-up time of softmax-jac).
    if name in _API:
        from . import compute

        return getattr(compute, name)
    raise AttributeError(f"module 'jaccli' has no attribute {name!r}")
