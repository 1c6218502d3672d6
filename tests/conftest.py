import pytest
from typer.testing import CliRunner

from jaccli.cli import app


@pytest.fixture
def run():
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    runner = CliRunner()

    def invoke(*args, input=None):
        result = runner.invoke(app, list(args), input=input)
        return result.exit_code, result.stdout, result.stderr

    return invoke
