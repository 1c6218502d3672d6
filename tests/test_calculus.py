"""The symbolic layer: sparse differentiation and the shape rules."""

import numpy as np
import sympy

from jaccli import calculus, compute


def test_elementwise_jacobian_differentiates_each_output_once(monkeypatch):
    calls = []
    original = calculus.partial

    def counting(expr, symbol, memo=None):
        calls.append(expr)
        return original(expr, symbol, memo)

    monkeypatch.setattr(calculus, "partial", counting)
    result = compute.jacobian("sin(x)", [",".join(["0.5"] * 200)])
    assert result.shape == (200, 200)
    assert len(calls) <= 2 * 200  # sin(x_i) by x_i only: linear, not 200 * 200
    np.testing.assert_array_equal(np.diag(result.value), np.full(200, np.cos(0.5)))
    assert np.count_nonzero(result.value - np.diag(np.diag(result.value))) == 0


def test_gradient_of_a_sum_touches_each_term_once(monkeypatch):
    calls = []
    original = calculus.partial
    monkeypatch.setattr(calculus, "partial", lambda e, s, memo=None: calls.append(1) or original(e, s, memo))
    compute.gradient("sum(x**2 + sin(x))", [",".join(["1"] * 300)])
    assert len(calls) <= 10 * 300  # a few nested calls per term, never 300 per term


def test_hessian_is_symmetric_by_construction():
    x, y = sympy.symbols("x y", real=True)
    hess = calculus.hessian(sympy.sin(x * y) + x**3 * y, [x, y])
    assert hess[0, 1] is hess[1, 0]
    assert sympy.simplify(hess[0, 0] - (-y**2 * sympy.sin(x * y) + 6 * x * y)) == 0


def test_abs_of_custom_functions_differentiates_without_re_and_im(run):
    # Found by the fuzz test: re()/im() in the derivative had no numeric rule (internal error, exit 3).
    from jaccli.registry import OPS
    from jaccli.special import LogSumExp, Softmax

    sigmoid, softplus, relu = (OPS[name].sympy(sympy) for name in ("sigmoid", "softplus", "relu"))
    z0, z1 = sympy.symbols("z0 z1", real=True)
    for f in (sigmoid(z0), softplus(z0), relu(z0), LogSumExp(z0, z1), Softmax(sympy.Integer(0), z0, z1)):
        assert f.is_extended_real
        assert not sympy.Abs(f).diff(z0).atoms(sympy.re, sympy.im), f
    code, out, err = run("jacobian", "max(x, abs(sum(softmax(z))))", "--at", "z=[0.5,0.1]", "--at", "x=0",
                         "--vars", "x,z", "--format", "plain")
    assert code == 0, err
    assert out.split() == ["0", "0", "0"]  # |s0 + s1| = 1 > x, and the sum of softmax is constant


def test_softmax_derivatives_are_the_products_sympy_itself_builds():
    # fdiff builds s_i s_j without Mul's flattening: the result must be sympy's own canonical product (same args in
    # the same order), or equal entries would compare unequal and print differently
    from jaccli.special import LogSoftmax, Softmax, SoftmaxRest, rewrite_elementary

    z = sympy.symbols("z0:12", real=True)
    for kind in (Softmax, SoftmaxRest, LogSoftmax):
        for i in range(len(z)):
            entry = kind(sympy.Integer(i), *z)
            for j in range(len(z)):
                d = entry.fdiff(j + 2)
                canonical = sympy.Mul(*d.args) if d.is_Mul else d
                assert d.args == canonical.args and d == canonical, (kind, i, j)
                if i < 2 and j < 3:  # and the derivative of the definition in exp (sympy's diff), at a point
                    point = {v: sympy.Rational(k - 5, 3) for k, v in enumerate(z)}
                    by_sympy = rewrite_elementary(entry).diff(z[j])
                    assert abs(sympy.N((rewrite_elementary(d) - by_sympy).subs(point), 30)) < 1e-25
