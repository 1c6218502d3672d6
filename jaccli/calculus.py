"""Symbolic derivatives of object arrays of sympy expressions.

One primitive, ``partial``, differentiates an expression with respect to one
symbol, touching only the terms, factors and arguments that contain it (sympy's
own ``diff`` visits every factor of a product for every factor: ``prod(x)`` of 300
entries took minutes); ``jacobian`` applies it to each output and only the
symbols that output contains, so an elementwise function of n values costs n
derivatives, not n².
"""

from __future__ import annotations

import numpy as np
import sympy
from sympy.core.function import ArgumentIndexError

from .errors import LimitError
from .parsing import check_order

MAX_DENSE_ENTRIES = 1_000_000  # m*n of a Jacobian or n*n of a Hessian built as sympy objects
MAX_WORK = 300_000  # expression nodes times the symbols they are differentiated by
ATOM_ARGUMENTS_PER_NODE = 8  # bare-symbol arguments of a function that count as one node of work
MAX_ORDER_WORK = 15_000  # expression nodes before each further step of a high-order derivative


def partial(expr: sympy.Expr, symbol: sympy.Symbol, memo: dict | None = None) -> sympy.Expr:
    """d expr / d symbol, by sum, product and chain rule over only the parts that contain ``symbol``."""
    memo = {} if memo is None else memo
    key = (expr, symbol)
    if key in memo:
        return memo[key]
    if symbol not in _free(expr, memo):
        out = sympy.S.Zero
    elif expr == symbol:
        out = sympy.S.One
    elif expr.is_Add:
        out = sympy.Add(*(partial(a, symbol, memo) for a in expr.args if symbol in _free(a, memo)))
    elif expr.is_Mul:
        args = expr.args
        out = sympy.Add(*(sympy.Mul(*args[:i], partial(a, symbol, memo), *args[i + 1:])
                          for i, a in enumerate(args) if symbol in _free(a, memo)))
    elif expr.is_Pow:
        base, exponent = expr.args
        out = expr * (partial(exponent, symbol, memo) * sympy.log(base)
                      + partial(base, symbol, memo) * exponent / base)
    elif isinstance(expr, (sympy.Abs, sympy.sign)):  # real arguments only: |a|' = sign(a) a', sign' = 2δ(a) a'
        (arg,) = expr.args
        outer = sympy.sign(arg) if isinstance(expr, sympy.Abs) else 2 * sympy.DiracDelta(arg)
        out = outer * partial(arg, symbol, memo)
    elif isinstance(expr, sympy.Piecewise):  # where() and comparisons: the derivative of the chosen branch
        out = sympy.Piecewise(*((partial(e, symbol, memo), c) for e, c in expr.args))
    elif isinstance(expr, sympy.Function):
        try:  # chain rule over the arguments that contain the symbol
            places = _places(expr, memo)
            if places is not None:  # softmax(x[0], …, x[79])[i]: find the symbol's places, not scan every argument
                outer = [(expr.fdiff(i + 1), symbol) for i in places[symbol]]
            else:
                outer = [(expr.fdiff(i + 1), a) for i, a in enumerate(expr.args) if symbol in _free(a, memo)]
        except (ArgumentIndexError, NotImplementedError):
            outer = None
        if outer is None or not getattr(expr, "closed_fdiff", False) and any(
                d.has(sympy.Derivative, sympy.Subs) for d, _ in outer):  # jaccli's own functions: closed forms
            out = expr.diff(symbol)  # no fdiff rule (e.g. sign): sympy's own derivative
        else:
            out = _sum([_times(d, partial(a, symbol, memo)) for d, a in outer])
    else:
        out = expr.diff(symbol)
    memo[key] = out
    return out


def _free(expr, memo: dict) -> set:
    """expr.free_symbols, computed once per expression (sympy walks every argument each time: a softmax entry of
    n logits is asked n times, once for each logit)."""
    key = ("free", expr)
    if key not in memo:
        memo[key] = expr.free_symbols
    return memo[key]


def _sum(terms: list):
    """sympy.Add of the terms, without its machinery for one term (the chain rule through one argument)."""
    return terms[0] if len(terms) == 1 else sympy.Add(*terms)


def _times(a, b):
    """a*b, without sympy's product machinery when b is 1 (the chain rule at a bare symbol)."""
    return a if b is sympy.S.One else a * b


def _of_atoms(expr) -> bool:
    return len(expr.args) > 2 and all(a.is_Atom for a in expr.args)


def _apart(expr) -> bool:
    """Whether each argument of ``expr`` holds at most one symbol, and no two arguments the same one."""
    seen: set = set()
    for a in expr.args:
        symbols = a.free_symbols
        if len(symbols) > 1 or symbols & seen:
            return False
        seen |= symbols
    return True


def _places(expr, memo: dict) -> dict | None:
    """symbol -> the argument positions where it stands, for a function of atoms; None for any other function
    (computed once per function)."""
    key = ("places", expr)
    if key not in memo:
        places: dict | None = None
        if _of_atoms(expr):
            places = {}
            for i, a in enumerate(expr.args):
                places.setdefault(a, []).append(i)
        memo[key] = places
    return memo[key]


def check_dense(rows: int, columns: int, what: str) -> None:
    """Refuse, before building it, a dense result too large for the symbolic path."""
    if rows * columns > MAX_DENSE_ENTRIES:
        raise LimitError(f"the {what} would have {rows}×{columns} = {rows * columns} entries; the limit is "
                         f"{MAX_DENSE_ENTRIES}. Use fewer inputs, or products with a vector (vjp/jvp)")


def check_work(outputs, inputs, limit: int = MAX_WORK) -> None:
    """Refuse expressions whose symbolic derivatives would take minutes (e.g. softmax of 1000 logits)."""
    wanted = set(inputs)
    work = 0
    for f in outputs:
        for term in f.args if f.is_Add else (f,):  # the terms of a sum are differentiated apart
            used = len(term.free_symbols & wanted)
            if not used:
                continue
            work += used * _count_nodes(term, (limit - work) // used + 1)
            if work > limit:
                order = ", or a lower --order" if limit == MAX_ORDER_WORK else ""  # only derivative has --order
                raise LimitError(f"the expression is too large to differentiate symbolically (its size times the "
                                 f"number of inputs exceeds {limit}); use fewer or smaller variables{order}")


def _count_nodes(expr, budget: int) -> int:
    """Nodes of the expression tree, counting shared subtrees each time; stops counting past ``budget``."""
    count = 0
    traversal = sympy.preorder_traversal(expr)
    for node in traversal:
        count += 1
        if isinstance(node, sympy.Function) and _of_atoms(node):
            # softmax(x[0], …, x[n-1])[i]: partial() finds a symbol's place once and copies the n arguments into
            # each derivative, cheap next to differentiating n nodes: counted as n/8
            count += len(node.args) // ATOM_ARGUMENTS_PER_NODE
            traversal.skip()
        elif isinstance(node, sympy.Function) and len(node.args) > 2 and _apart(node):
            # softmax(2*x[0] + 1, …)[i]: each argument holds one symbol, so a partial differentiates only that
            # argument (an average one), beside copying the n arguments
            count += len(node.args) // ATOM_ARGUMENTS_PER_NODE + sum(
                _count_nodes(a, budget) for a in node.args) // len(node.args)
            traversal.skip()
        if count > budget:
            break
    return count


def _terms_by_symbol(expr: sympy.Expr, wanted: set) -> dict:
    """For a sum, the terms that contain each wanted symbol; otherwise the whole expression."""
    terms = expr.args if expr.is_Add else (expr,)
    groups: dict = {}
    for term in terms:
        for symbol in term.free_symbols & wanted:
            groups.setdefault(symbol, []).append(term)
    return groups


def jacobian(outputs: np.ndarray, inputs: list[sympy.Symbol]) -> np.ndarray:
    """m×n: rows are the m outputs (flattened row-major), columns the n inputs."""
    flat = list(outputs.flat)
    check_dense(len(flat), len(inputs), "Jacobian")
    check_work(flat, inputs)
    wanted = set(inputs)
    column = {symbol: j for j, symbol in enumerate(inputs)}
    memo: dict = {}
    out = np.full((len(flat), len(inputs)), sympy.S.Zero, dtype=object)
    for i, f in enumerate(flat):
        for symbol, terms in _terms_by_symbol(f, wanted).items():
            out[i, column[symbol]] = _sum([partial(t, symbol, memo) for t in terms])
    return out


def gradient(output: sympy.Expr, inputs: list[sympy.Symbol]) -> np.ndarray:
    """n entries: d output / d input_j."""
    return jacobian(np.array([output], dtype=object), inputs)[0]


def hessian(output: sympy.Expr, inputs: list[sympy.Symbol]) -> np.ndarray:
    """n×n, symmetric: the Jacobian of the gradient (upper triangle computed, then mirrored)."""
    n = len(inputs)
    check_dense(n, n, "Hessian")
    grad = gradient(output, inputs)
    check_work(list(grad), inputs)
    out = np.full((n, n), sympy.S.Zero, dtype=object)
    for i in range(n):
        if grad[i] == 0:
            continue
        rest = inputs[i:]
        row = jacobian(np.array([grad[i]], dtype=object), rest)[0]
        out[i, i:] = row
        out[i:, i] = row
    return out


def derivative(outputs: np.ndarray, symbol: sympy.Symbol, order: int = 1) -> np.ndarray:
    """d^k f / d symbol^k for every entry of f; same shape as f.

    From the second order on, each step is collected: the derivative of a polynomial in tanh(x) is again
    one (of one degree more), so the k-th derivative of tanh stays k + 2 terms instead of growing ×1.8 per
    order as products of the rules do.
    """
    check_order(order)
    out = outputs
    collecting = True  # until a step where expanding shrinks no entry: from then on it never does (measured)
    for k in range(order):  # high orders grow the expression fast: check its size before each step
        check_work(list(out.flat), [symbol], MAX_ORDER_WORK)
        memo: dict = {}
        out = np.vectorize(lambda e, memo=memo: partial(e, symbol, memo), otypes=[object])(out)
        if k and collecting:
            tried = [collected(e) for e in out.flat]
            collecting = any(shrunk for _, shrunk in tried)
            out = np.empty(out.shape, dtype=object)
            out.flat[:] = [e for e, _ in tried]
    return out


def collected(expr: sympy.Expr) -> tuple[sympy.Expr, bool]:
    """``expr`` expanded into a sum of products (a polynomial in its functions: tanh(x), exp(x), …), its
    like terms combined, and True, when that is no larger than it; else ``expr`` as it is and False.

    Where expanding does not pay (a quotient such as exp(sin(x))/(1 + x**2), or atan(x)), it does not pay at
    any later order either, and its cost grows with the expression's: ``derivative`` stops trying.
    """
    if expr.is_Atom or len(expr.free_symbols) != 1:  # several variables: (x + y)**k expands to k + 1 terms
        return expr, False
    try:
        expanded = sympy.expand(expr, power_base=False, power_exp=False, log=False)
    except (RecursionError, MemoryError):
        return expr, False
    size = _count_nodes(expr, 1 << 62)
    if _count_nodes(expanded, size + 1) <= size:
        return expanded, True
    return expr, False

