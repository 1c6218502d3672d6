"""The README's list of functions is the registry's, and the parser knows every name in it."""

import re
from pathlib import Path

import pytest

from jaccli import compute
from jaccli.registry import FUNCTIONS, function_table, public_ops

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_lists_the_registry():
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- functions: generated from jaccli/registry.py -->\n(.*?)<!-- /functions -->", text,
                      re.DOTALL)
    assert block is not None
    assert block.group(1) == function_table()


# the examples' names: x and y vectors, A and B matrices (any other name a scalar)
EXAMPLE_SHAPES = {"x": (2,), "y": (2,), "A": (2, 2), "B": (2, 2)}


@pytest.mark.parametrize("op", public_ops(), ids=lambda op: op.name)
def test_every_example_runs(op):
    for call in op.example.split(";"):
        result = compute.jacobian(call.strip(), None, shapes=EXAMPLE_SHAPES)
        assert result.symbolic is not None


def test_every_name_is_callable():
    for name, op in FUNCTIONS.items():
        assert op.summary and op.example, name
        least = op.arity[0]
        if op.kind == "constant":  # built from constant numbers: arange(2), eye(2)
            args = ", ".join(["2"] * least)
        elif op.takes_list:  # concatenate([x])
            args = ", ".join(["[x]"] + ["0"] * (least - 1))
        elif name in ("det", "logdet", "inv", "trace", "solve"):  # a square matrix first
            args = ", ".join(["A"] + ["x"] * (least - 1))
        elif name == "polygamma":  # the order first: a whole number
            args = "1, x"
        else:
            args = ", ".join(["x"] + ["2" if name == "reshape" else "x"] * (least - 1))
        compute.jacobian(f"{name}({args})", None, shapes=EXAMPLE_SHAPES)


def test_the_python_api_softmax_jac_is_the_function():
    from jaccli import softmax_jac

    assert callable(softmax_jac) and not hasattr(softmax_jac, "__path__")
    result = softmax_jac(["-1.3", "0.5", "2.1"])
    assert abs(result.value[0, 0] - 0.02628707106576669) < 1e-15  # the refresher's cell [1]


@pytest.mark.parametrize("expression", ["x + max(acosh(0))", "x + acos(2)", "x*sqrt(-1)", "x + log(-1)"])
def test_a_constant_without_a_real_value_is_bad_input(run, expression):
    code, out, err = run("gradient", expression, "--at", "1")
    assert code == 2 and out == ""
    assert err.startswith("Error: the expression is undefined") and "Traceback" not in err


@pytest.mark.parametrize("expression, at", [
    ("acos(sinh(clip(acos(z[1]), 0, 1)))", ["z=[-1,2]"]),  # max(acos(2), 0): not comparable
    ("hypot(y, cos(2 + z[1]) + pi)", ["z=[1,0]", "y=0"]),
])
def test_exact_values_never_end_in_an_internal_error(run, expression, at):
    code, out, err = run("jacobian", expression, "--exact", *[a for p in at for a in ("--at", p)], "--format", "json")
    assert code in (0, 1) and "internal error" not in err, err
