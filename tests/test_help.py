"""Every command explains itself: a one-line summary and an Example: line."""

from __future__ import annotations

import pytest
import typer

from jaccli.cli import app

COMMANDS = typer.main.get_command(app).commands


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_has_summary_and_example(jaccli, name):
    doc = COMMANDS[name].callback.__doc__ or ""
    assert doc.strip().splitlines()[0].strip(), name
    assert "Example:" in doc, name
    run = jaccli(name, "--help")
    assert run.code == 0
    assert "Example:" in run.stdout


def test_new_commands_exist():
    assert {"softmax-jac", "vjp", "jvp", "chain"} <= set(COMMANDS)
