"""The start-up shortcuts change nothing a user sees.

``main()`` (the console script and ``python -m jaccli``) builds only the command it runs; these tests
compare it with the full app on help, errors and results, and check what a numeric run imports.
"""

from __future__ import annotations

import gc
import json
import math
import os
import subprocess
import sys

import pytest
import typer

from jaccli import cli

ARGV = [
    [], ["--help"], ["-h"], ["--version"], ["--version", "jacobian"],
    ["softmax-jac", "--help"], ["jacobian", "--help"], ["chain", "-h"],
    ["jacobian"], ["jacobian", "x", "--bogus"], ["jacobian", "x", "--at"], ["vjp", "x*2", "--at", "1,1"],
    ["softmax-jac", "1", "2", "--bogus"], ["softmax-jac", "1", "--frmat", "json"],
    ["softmax-jac", "1", "2", "--format", "xml"], ["softmax-jac"], ["softmax-jac", "1", "--", "--format"],
    ["jacobiann", "x"], ["softmax"], ["--", "jacobian", "x"], ["jacobian", "--", "-x", "--at", "1"],
    ["jacobian", "sin(", "--at", "1"], ["jacobian", "--show-completion", "bash"],
    ["softmax-jac", "-1.3", "0.5", "2.1", "--format", "json"],
    ["jacobian", "x*2", "--at", "1,1", "--format", "json"],
    ["derivative", "x**2", "--at", "3"],
]


def _outcome(call, argv, monkeypatch, capsys) -> tuple:
    monkeypatch.setattr(sys, "argv", ["jaccli", *argv])
    with pytest.raises(SystemExit) as exit_:
        call()
    gc.unfreeze()  # main() freezes the heap for a quick interpreter exit, but this process goes on
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


@pytest.mark.parametrize("argv", ARGV, ids=" ".join)
def test_main_behaves_like_the_full_app(argv, monkeypatch, capsys):
    full = _outcome(lambda: typer.main.get_command(cli.app).main(prog_name="jaccli"), argv, monkeypatch, capsys)
    assert _outcome(cli.main, argv, monkeypatch, capsys) == full


def test_a_command_gets_an_app_with_only_that_command():
    before = list(cli.app.registered_commands)
    group = typer.main.get_command(cli.app_for(["softmax-jac", "1", "2"]))
    assert list(group.commands) == ["softmax-jac"]
    assert cli.app.registered_commands == before and len(before) > 1  # the shared app is left alone


@pytest.mark.parametrize("argv", [[], ["--help"], ["--version", "jacobian"], ["jacobiann"], ["--", "jacobian"]])
def test_anything_but_a_leading_command_name_gets_the_full_app(argv):
    assert cli.app_for(argv) is cli.app


def test_shell_completion_gets_the_full_app(monkeypatch):
    monkeypatch.setenv("_JACCLI_COMPLETE", "complete_bash")
    assert cli.app_for(["softmax-jac"]) is cli.app


def test_completion_of_a_command_name_lists_every_command():
    env = {"_JACCLI_COMPLETE": "complete_bash", "COMP_WORDS": "jaccli ", "COMP_CWORD": "1"}
    run = subprocess.run([sys.executable, "-m", "jaccli"], capture_output=True, text=True, check=True,
                         env={**os.environ, **env})
    assert set(run.stdout.split()) == set(typer.main.get_command(cli.app).commands)


_IMPORTS = """\
import runpy, sys
sys.argv = ["jaccli", *sys.argv[1:]]
try:
    runpy.run_module("jaccli", run_name="__main__")
finally:  # jaccli exits through SystemExit
    print(" ".join(sorted(m for m in sys.modules if m.startswith(("jaccli", "sympy")))), file=sys.stderr)
"""


def test_softmax_jac_of_plain_numbers_imports_neither_the_parser_nor_sympy():
    run, modules = _run_listing_modules("softmax-jac", "-1.3", "0.5", "2.1", "--format", "json")
    assert run.returncode == 0, run.stderr
    assert "jaccli.softmax_report" in modules  # it did run
    assert "jaccli.parsing" not in modules and not any(m.startswith("sympy") for m in modules), modules


def _run_listing_modules(*args: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    run = subprocess.run([sys.executable, "-c", _IMPORTS, *args], capture_output=True, text=True)
    return run, run.stderr.splitlines()[-1].split()


def test_a_symbolic_jacobian_does_not_import_sympy_codegen():
    run, modules = _run_listing_modules("jacobian", "x*2", "--at", "1,1", "--format", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["value"] == [[2.0, 0.0], [0.0, 2.0]]
    assert "jaccli.symbolic" in modules and not any(m.startswith("sympy.codegen") for m in modules), modules


def test_log2_and_log10_from_sympy_codegen_are_imported_and_evaluated_when_used():
    # the gradient contains log2(8) and log10(8) themselves, evaluated by numeric on the symbolic path
    run, modules = _run_listing_modules("gradient", "x*log2(x) + x*log10(x)", "--at", "8", "--format", "json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert "log2(x)" in result["symbolic"] and "log10(x)" in result["symbolic"]
    expected = math.log2(8) + math.log10(8) + 1 / math.log(10) + 1 / math.log(2)
    assert result["value"] == pytest.approx(expected, rel=1e-15)
    assert "sympy.codegen.cfunctions" in modules


def test_output_is_complete_when_the_process_exits(tmp_path):
    # main() freezes the heap before the interpreter exits; files and pipes must still get everything
    target = tmp_path / "out.json"
    values = ",".join(str(i / 10) for i in range(150))
    args = [sys.executable, "-m", "jaccli", "jacobian", "softmax(x)", "--at", values, "--format", "json"]
    piped = subprocess.run(args, capture_output=True, text=True, check=True)
    subprocess.run([*args, "--output", str(target)], check=True)
    for text in (piped.stdout, target.read_text(encoding="utf-8")):
        assert len(json.loads(text)["value"]) == 150
