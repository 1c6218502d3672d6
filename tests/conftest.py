"""Shared fixtures: Hypothesis profiles, and the CLI run in-process."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from jaccli.cli import app

# CI runs a few more examples than a developer's quick run; both stay deterministic per seed.
settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def runner():
    return CliRunner()


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


@pytest.fixture
def run():
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    runner = CliRunner()

    def invoke(*args, input=None):
        result = runner.invoke(app, list(args), input=input)
        return result.exit_code, result.stdout, result.stderr

    return invoke
