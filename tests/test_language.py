"""The language can be discovered from the command line, and an unknown name gets a useful answer."""

from __future__ import annotations

import json
import re

import pytest

from jaccli.functions import CONSTANTS, FUNCTIONS


def test_functions_lists_every_function_with_its_summary_and_a_working_example(jaccli):
    run = jaccli("functions")
    assert run.code == 0
    lines = run.stdout.splitlines()
    listed = {}
    for line in lines[lines.index("Functions (log is the natural logarithm)") + 1:]:
        match = re.fullmatch(r"  ([a-z0-9_]+)\(([^)]*)\)\s+(.+)", line)
        if match:
            listed[match.group(1)] = (match.group(2), match.group(3))
    assert set(listed) == set(FUNCTIONS)  # every function, and nothing that is not one
    for name, (args, summary) in listed.items():
        entry = FUNCTIONS[name]
        assert summary == entry.summary
        count = len(args.split(", "))
        assert entry.min_args <= count and (entry.max_args is None or count <= entry.max_args)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_example_parses_as_it_is_printed(name):
    from jaccli import names
    from jaccli.parsing import parse

    call = names.example(name, FUNCTIONS[name])
    assert parse(call).tree.name == name


def test_functions_names_the_constants_and_operators(jaccli):
    text = jaccli("functions").stdout
    for name in CONSTANTS:
        assert re.search(rf"^  {name}\b", text, re.MULTILINE)
    for symbol in ["^", "**", "|x|", "√x", "x²", "2x", "sin x", "π", "x[i]"]:
        assert symbol in text


def test_functions_as_json_is_the_mapping(jaccli):
    doc = json.loads(jaccli("functions", "-f", "json").stdout)
    assert {n: (f["summary"], f["min_args"], f["max_args"]) for n, f in doc["functions"].items()} == {
        n: (e.summary, e.min_args, e.max_args) for n, e in FUNCTIONS.items()}
    assert doc["constants"] == CONSTANTS


@pytest.mark.parametrize("typed, says, never", [
    ("sinn", "did you mean 'sin', 'sinh' or 'asin'?", None),
    ("lg", "did you mean 'log10'?", "'log'"),
    ("log1p", "jaccli has no log1p; write log(1 + x)", "log10"),
    ("det", "jaccli has no det", "dot"),
    ("inv", "jaccli has no inv", "sin"),
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


def test_ln_is_log_whether_or_not_jaccli_has_it(jaccli):
    run = jaccli("derivative", "ln(x)", "--at", "2", "--format", "json")
    if "ln" in FUNCTIONS:
        assert run.code == 0 and run.json["value"] == 0.5
    else:
        assert run.code == 2 and "did you mean 'log' (the natural logarithm)?" in run.stderr
