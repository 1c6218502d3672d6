"""Every command explains itself: a one-line summary and at least one Example."""

import pytest
import typer

from jaccli.cli import app

COMMANDS = sorted(typer.main.get_command(app).commands)


def test_there_are_commands():
    assert {"derivative", "gradient", "jacobian", "hessian"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_help_has_summary_and_example(runner, name):
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0
    lines = [line.strip() for line in result.stdout.splitlines()]
    summary = lines[lines.index(next(line for line in lines if line.startswith("Usage:"))) + 2]
    assert summary and not summary.startswith("Example"), f"{name} has no one-line summary"
    assert any(line.startswith("Example:") for line in lines), f"{name} --help shows no Example:"


def test_top_level_help_lists_every_command_with_its_summary(runner):
    result = runner.invoke(app, ["--help"])
    for name in COMMANDS:
        assert any(line.strip().startswith(name + " ") for line in result.stdout.splitlines()), name


def test_no_arguments_prints_usage_not_a_traceback(runner):
    result = runner.invoke(app, [])
    assert "Usage:" in result.output and "Traceback" not in result.output


def test_new_commands_exist():
    assert {"softmax-jac", "vjp", "jvp", "chain"} <= set(COMMANDS)
