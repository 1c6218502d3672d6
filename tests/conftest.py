"""Shared helpers: run the CLI in-process and read its JSON."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from jaccli.cli import app


class Run:
    def __init__(self, result):
        self.code = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.exception = result.exception

    @property
    def json(self) -> dict:
        return json.loads(self.stdout)


@pytest.fixture
def jaccli():
    """jaccli("softmax-jac", "1", "2") -> Run with code, stdout, stderr, json."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Run:
        return Run(runner.invoke(app, list(args), input=input))

    return run
