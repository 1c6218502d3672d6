"""Every `$ jaccli …` example in the README runs and prints exactly what the README shows."""

import re
import shlex
from pathlib import Path

import pytest

from jaccli.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"


def examples():
    blocks = re.findall(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    for block in blocks:
        for chunk in re.split(r"^(?=\$ )", block, flags=re.MULTILINE):
            if chunk.startswith("$ jaccli "):
                command, _, output = chunk.partition("\n")
                yield pytest.param(command[len("$ jaccli "):], output, id=command[2:60])


@pytest.mark.parametrize("command, expected", list(examples()))
def test_readme_example(runner, monkeypatch, command, expected):
    monkeypatch.chdir(README.parent)  # examples name files relative to the repository
    # the README's screen: 100 columns, no LINES (a test runner's worker may set LINES=24), no colour
    result = runner.invoke(app, shlex.split(command), env={"COLUMNS": "100", "LINES": None, "NO_COLOR": "1"})
    assert "Traceback" not in result.output
    assert result.output == expected


def test_readme_has_examples():
    assert len(list(examples())) >= 12
