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


@pytest.mark.parametrize("op", public_ops(), ids=lambda op: op.name)
def test_every_example_runs(op):
    for call in op.example.split(";"):
        result = compute.jacobian(call.strip(), None)
        assert result.symbolic is not None


def test_every_name_is_callable():
    for name, op in FUNCTIONS.items():
        assert op.summary and op.example, name
        least = op.arity[0]
        args = ", ".join(["x"] * least)
        compute.jacobian(f"{name}({args})", None)
