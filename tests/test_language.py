"""The language can be discovered from the command line, and an unknown name gets a useful answer."""

from __future__ import annotations

import json
import re

import pytest

from jaccli.registry import CONSTANTS, FUNCTIONS, public_ops


def test_functions_lists_every_function_with_its_summary_and_a_working_example(jaccli):
    run = jaccli("functions")
    assert run.code == 0
    lines = run.stdout.splitlines()
    listed = {}
    for line in lines[lines.index("Functions (log is the natural logarithm)") + 1:]:
        match = re.fullmatch(r"  ([a-z0-9_]+)\(([^)]*)\)\s+(.+?)(?: \(also ([a-z0-9_, ]+)\))?", line)
        if match:
            listed[match.group(1)] = (match.group(2), match.group(3), match.group(4))
    assert set(listed) == {op.called for op in public_ops()}  # every function, and nothing that is not one
    for name, (args, summary, also) in listed.items():
        entry = FUNCTIONS[name]
        assert summary == entry.summary
        assert (also or "") == ", ".join(entry.aliases)  # every other name is said
        count = len(args.split(", "))
        least, most = entry.arity
        assert least <= count and (most is None or count <= most)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_example_parses_as_it_is_printed(name):
    from jaccli import names
    from jaccli.parsing import parse

    call = names.example(name, FUNCTIONS[name])
    assert parse(call).tree.name == name
    assert FUNCTIONS[parse(call).tree.name] is FUNCTIONS[name]


def test_functions_names_the_constants_and_operators(jaccli):
    text = jaccli("functions").stdout
    for name in CONSTANTS:
        assert re.search(rf"^  {name}\b", text, re.MULTILINE)
    for symbol in ["^", "**", "|x|", "√x", "x²", "2x", "sin x", "π", "x[i]"]:
        assert symbol in text


def test_functions_as_json_is_the_mapping(jaccli):
    doc = json.loads(jaccli("functions", "-f", "json").stdout)
    assert {n: (f["summary"], f["min_args"], f["max_args"], f["other_names"]) for n, f in doc["functions"].items()} == {
        op.called: (op.summary, *op.arity, list(op.aliases)) for op in public_ops()}
    assert doc["constants"] == CONSTANTS


@pytest.mark.parametrize("typed, says, never", [
    ("sinn", "did you mean 'sin', 'sinh' or 'sign'?", None),
    ("lg", "did you mean 'log10'?", "'log'"),
    ("factorial", "jaccli has no factorial; write gamma(x + 1)", None),
    ("exp10", "jaccli has no exp10; write 10^x", "exp'"),
    ("eig", "jaccli has no eig", None),
    ("diff", "jaccli has no diff", "dot"),
    ("arctan2", "did you mean 'atan2'?", None),
    ("foo", "for a product write foo*(…)", "did you mean"),
])
def test_unknown_functions_get_the_nearest_names_or_say_they_are_missing(jaccli, typed, says, never):
    run = jaccli("derivative", f"{typed}(x)", "--at", "1")
    assert run.code == 2
    first = run.stderr.splitlines()[0]
    assert says in first and "'jaccli functions' lists them all" in first
    if never:
        assert never not in first


def test_ln_is_log(jaccli):
    run = jaccli("derivative", "ln(x)", "--at", "2", "--format", "json")
    assert run.code == 0 and run.json["value"] == 0.5
    assert FUNCTIONS["ln"] is FUNCTIONS["log"]
