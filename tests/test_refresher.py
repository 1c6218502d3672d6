"""Every computing cell of the refresher, as a jaccli command, against the refresher's own numbers.

The README's "Reproducing the refresher" table is also run row by row: its outputs must be real.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"

# command, expected (from the refresher's printed output or a closed form), absolute tolerance
CELLS = {
    "[1]": ("softmax-jac -1.3 0.5 2.1",
            [[0.02628707, -0.00441574, -0.02187133],
             [-0.00441574, 0.13672956, -0.13231381],
             [-0.02187133, -0.13231381, 0.15418514]], 5e-9),  # the refresher's J, printed to 8 digits
    "[2]": ('gradient "sum(x*2)" --at "[[1,1],[1,1]]"', [[2, 2], [2, 2]], 0),  # tensor([[2., 2.], [2., 2.]])
    "[2] chain": ('chain "x*2" "sum(y)" --at "[[1,1],[1,1]]"', [[2, 2], [2, 2]], 0),
    "[3]-[4]": ('gradient "mean(3*(x+2)**2)" --at "[[1,1],[1,1]]"', [[4.5, 4.5], [4.5, 4.5]], 0),  # 6(x+2)/4
    "[5]-[6]": ('vjp "x*1024" --at 0.3,-0.2,0.9 --v 0.1,1.0,0.0001', [102.4, 1024, 0.1024], 1e-12),
    "[8]-[11]": ('gradient "sum(2*softmax(x))" --at 1.4336,0.6889,-0.8934', [0, 0, 0], 1e-15),
    "combine": ('chain "x*2" "sum(y)" --at 1,1', [2, 2], 0),
}


@pytest.mark.parametrize("cell", CELLS)
def test_refresher_cell(jaccli, cell):
    command, expected, tolerance = CELLS[cell]
    run = jaccli(*shlex.split(command), "--format", "json")
    assert run.code == 0, run.stderr
    np.testing.assert_allclose(run.json["value"], expected, rtol=0, atol=tolerance)


def test_cell_1_prints_the_logits_unchanged(jaccli):
    assert jaccli("softmax-jac", "-1.3", "0.5", "2.1", "--format", "json").json["logits"] == [-1.3, 0.5, 2.1]


def test_combine_section_parts(jaccli):
    doc = jaccli("chain", "x*2", "sum(y)", "--at", "1,1", "--format", "json").json
    assert doc["jacobian_f"] == [[2, 0], [0, 2]]  # ∂f/∂x_i = 2
    assert doc["grad_g"] == [1, 1]  # ∂g/∂f = 1


def readme_rows() -> list[tuple[str, str]]:
    section = README.read_text(encoding="utf-8").split("## Reproducing the refresher", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        match = re.match(r"\|\s*[^|]+\|\s*`jaccli ([^`]+)`\s*\|\s*(.+?)\s*\|\s*$", line)
        if match:
            rows.append((match.group(1), match.group(2).replace("<br>", "\n") + "\n"))
    return rows


def test_readme_table_covers_every_cell():
    commands = [command for command, _ in readme_rows()]
    assert sorted(commands) == sorted(command for command, _, _ in CELLS.values())


@pytest.mark.parametrize("command, output", readme_rows())
def test_readme_row_prints_what_the_readme_says(jaccli, command, output):
    run = jaccli(*shlex.split(command), "--format", "plain")
    assert run.code == 0, run.stderr
    assert run.stdout == output
