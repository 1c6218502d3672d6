import os

import pytest
from hypothesis import settings

# CI runs a few more examples than a developer's quick run; both stay deterministic per seed.
settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def runner():
    from typer.testing import CliRunner

    return CliRunner()
