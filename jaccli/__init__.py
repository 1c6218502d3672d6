"""jaccli: a command-line Jacobian calculator.

The Python API mirrors the commands: ``jacobian``, ``gradient``, ``hessian``,
``derivative``, ``vjp``, ``jvp`` and ``chain`` take expressions and a point and
return a ``Result``; ``softmax_jac`` takes logits.
"""

from __future__ import annotations

__version__ = "0.1.0"

_API = {"jacobian", "gradient", "hessian", "derivative", "vjp", "jvp", "hvp", "chain"}


def __getattr__(name: str):
    # Lazy: ``import jaccli`` must not import sympy (start-up time of softmax-jac).
    if name == "softmax_jac":  # numpy only
        from .softmax_report import softmax_jac

        return softmax_jac
    if name in _API:
        from . import compute

        return getattr(compute, name)
    raise AttributeError(f"module 'jaccli' has no attribute {name!r}")
