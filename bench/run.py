"""jaccli speed benchmark: whole-process runs of jaccli against baselines measured in the same run.

Each case runs jaccli and its baseline as separate processes, alternating A B A B … so that machine
noise hits both alike, and compares the medians as a ratio (absolute seconds mean little on a noisy
box). One untimed warm-up run per side also checks the exit code and that the output is valid.
Timed runs per side: ``--repeat`` (default 5), but at least 15 for a quick case (both warm-ups under
1 s, i.e. the start-up cases), whose noise is large next to its time. jaccli's bytecode is compiled
once before any timing, as an installed package would have it (see bench/README.md).

    python bench/run.py                     # all cases, 5 repetitions (15 for the quick ones)
    python bench/run.py --only batch --repeat 3
    python bench/run.py --json > results.json
    python bench/run.py --jaccli jaccli     # the console script instead of `python -m jaccli`

Exit code 0 if every case meets its target, 1 otherwise (an erroring case fails), 2 for bad options.
This is not part of the test suite.
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import select
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

SEED = 20240606
QUICK_SECONDS = 1.0  # a case whose warm-up runs both take less than this is "quick" ...
QUICK_MIN_RUNS = 15  # ... and gets at least this many timed runs per side, whatever --repeat says
HAS_JAX = importlib.util.find_spec("jax") is not None

# ---------------------------------------------------------------------------------------------- baseline scripts

BASELINE_SCRIPTS = {
    "baseline_startup_numeric.py": "import numpy, typer, rich.console  # noqa: F401\n",
    "baseline_startup_symbolic.py": "import numpy, sympy, typer, rich.console  # noqa: F401\n",
    "baseline_batch.py": textwrap.dedent('''\
        """Closed-form Jacobian of spherical -> cartesian for every row of a CSV of r,t,p, vectorised."""
        import sys

        import numpy as np

        r, t, p = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2).T
        st, ct, sp, cp = np.sin(t), np.cos(t), np.sin(p), np.cos(p)
        jac = np.column_stack([
            st * cp, r * ct * cp, -r * st * sp,   # d(r sin t cos p)/d(r, t, p)
            st * sp, r * ct * sp, r * st * cp,    # d(r sin t sin p)/d(r, t, p)
            ct, -r * st, np.zeros_like(r),        # d(r cos t)/d(r, t, p)
        ])
        np.savetxt(sys.stdout, np.column_stack([r, t, p, jac]), fmt="%.17g", delimiter=",")
        '''),
    "baseline_batch_softmax.py": textwrap.dedent('''\
        """The softmax Jacobian diag(s) - s s^T for every row of a CSV of x,y,z, vectorised."""
        import sys

        import numpy as np

        x = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
        e = np.exp(x - x.max(axis=1, keepdims=True))
        s = e / e.sum(axis=1, keepdims=True)
        jac = s[:, :, None] * (np.eye(x.shape[1]) - s[:, None, :])
        np.savetxt(sys.stdout, np.column_stack([x, jac.reshape(len(x), -1)]), fmt="%.17g", delimiter=",")
        '''),
    "baseline_jax.py": textwrap.dedent('''\
        """The dense softmax Jacobian with JAX: jit-free jacfwd, float64, JSON out."""
        import json
        import os
        import sys

        os.environ.setdefault("JAX_PLATFORMS", "cpu")  # no accelerator probing

        import jax
        import numpy as np

        jax.config.update("jax_enable_x64", True)  # the same precision as jaccli
        x = jax.numpy.asarray(np.loadtxt(sys.argv[1]))
        jac = jax.jacfwd(jax.nn.softmax)(x)
        sys.stdout.write(json.dumps({"value": np.asarray(jac).tolist()}))
        '''),
    "baseline_jax_vjp.py": textwrap.dedent('''\
        """A VJP of softmax with JAX: jax.vjp, no jit, float64, the vector out one number a line."""
        import os
        import sys

        os.environ.setdefault("JAX_PLATFORMS", "cpu")  # no accelerator probing

        import jax
        import numpy as np

        jax.config.update("jax_enable_x64", True)  # the same precision as jaccli
        x = jax.numpy.asarray(np.loadtxt(sys.argv[1]))
        v = jax.numpy.asarray(np.loadtxt(sys.argv[2]))
        (grad,) = jax.vjp(jax.nn.softmax, x)[1](v)
        sys.stdout.write("\\n".join(map(repr, np.asarray(grad).tolist())) + "\\n")  # as jaccli's plain output
        '''),
    "baseline_jax_gradient.py": textwrap.dedent('''\
        """A gradient with JAX: jax.grad of logsumexp, no jit, float64, the vector out one number a line."""
        import os
        import sys

        os.environ.setdefault("JAX_PLATFORMS", "cpu")  # no accelerator probing

        import jax
        import numpy as np

        jax.config.update("jax_enable_x64", True)  # the same precision as jaccli
        x = jax.numpy.asarray(np.loadtxt(sys.argv[1]))
        grad = jax.grad(jax.scipy.special.logsumexp)(x)
        sys.stdout.write("\\n".join(map(repr, np.asarray(grad).tolist())) + "\\n")  # as jaccli's plain output
        '''),
    "baseline_jax_layer.py": textwrap.dedent('''\
        """The Jacobian of a layer tanh(W @ x + b) by x with JAX: jax.jacrev, no jit, float64, JSON out."""
        import json
        import os
        import sys

        os.environ.setdefault("JAX_PLATFORMS", "cpu")  # no accelerator probing

        import jax
        import numpy as np

        jax.config.update("jax_enable_x64", True)  # the same precision as jaccli
        jnp = jax.numpy
        W = jnp.asarray(np.load(sys.argv[1]))
        x, b = jnp.asarray(np.loadtxt(sys.argv[2])), jnp.asarray(np.loadtxt(sys.argv[3]))
        jac = jax.jacrev(lambda x: jnp.tanh(W @ x + b))(x)
        sys.stdout.write(json.dumps({"value": np.asarray(jac).tolist()}))
        '''),
    "baseline_jax_hessian.py": textwrap.dedent('''\
        """A dense Hessian with JAX: jax.hessian (forward-over-reverse), no jit, float64, JSON out."""
        import json
        import os
        import sys

        os.environ.setdefault("JAX_PLATFORMS", "cpu")  # no accelerator probing

        import jax
        import numpy as np

        jax.config.update("jax_enable_x64", True)  # the same precision as jaccli
        jnp = jax.numpy
        functions = {
            "quartic": lambda x: jnp.sum(x**4) + jnp.sum(x) ** 2,
            "logsumexp": jax.scipy.special.logsumexp,
        }
        x = jnp.asarray(np.loadtxt(sys.argv[2]))
        hess = jax.hessian(functions[sys.argv[1]])(x)
        sys.stdout.write(json.dumps({"value": np.asarray(hess).tolist()}))
        '''),
}


# ---------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Data:
    """The generated inputs, all seeded, in one directory."""

    dir: Path

    def path(self, name: str) -> Path:
        return self.dir / name

    def arg(self, name: str) -> str:
        return f"@{self.path(name)}"


LARGE_FILES = ("normal-10000000.txt", "v-10000000.txt", "spherical-1000000.csv")  # written only if a case reads them


def _spherical(rng: np.random.Generator, n: int) -> np.ndarray:
    """n points (r, t, p) with r in [0.5, 2], t in [0, pi], p in [0, 2 pi]: the batch rows' input."""
    return np.column_stack([rng.uniform(0.5, 2.0, n), rng.uniform(0.0, math.pi, n), rng.uniform(0.0, 2 * math.pi, n)])


def generate_large(data: Data, cases: list[Case]) -> None:
    """Write the large files a chosen case reads (seeded like the rest; up to a minute of work each)."""
    needed = {name for name in LARGE_FILES for case in cases for side in (case.jaccli, case.baseline)
              if any(str(data.path(name)) in arg for arg in side.argv)}
    for name in sorted(needed):
        if not data.path(name).exists():
            rng = np.random.default_rng([SEED, LARGE_FILES.index(name)])
            if name.startswith("spherical"):
                np.savetxt(data.path(name), _spherical(rng, 1_000_000), fmt="%.17g", delimiter=",")
            else:
                np.savetxt(data.path(name), rng.normal(size=10_000_000), fmt="%.17g")


def generate_data(directory: Path) -> Data:
    """Write the value files, the batch CSV and the baseline scripts; deterministic for a given SEED."""
    rng = np.random.default_rng(SEED)
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "uniform-10000.txt": rng.uniform(-2.0, 2.0, 10_000),
        "normal-1000.txt": rng.normal(size=1_000),
        "normal-100000.txt": rng.normal(size=100_000),
        "v-100000.txt": rng.normal(size=100_000),
        "normal-1000000.txt": rng.normal(size=1_000_000),
        "v-1000000.txt": rng.normal(size=1_000_000),
        "b-1000.txt": rng.normal(size=1_000),
    }
    for name, values in files.items():
        np.savetxt(directory / name, values, fmt="%.17g")
    np.save(directory / "w-1000x1000.npy", rng.normal(size=(1000, 1000)) / math.sqrt(1000))  # a layer's weights
    # 250,000 entries in brackets (about 1 MB, the bracketed limit): parsed in linear time
    bracketed = rng.integers(-9, 10, size=(125_000, 2))
    (directory / "bracketed-250000.txt").write_text(
        "[" + ",".join(f"[{a},{b}]" for a, b in bracketed.tolist()) + "]\n", encoding="utf-8")
    n = 100_000
    np.savetxt(directory / "spherical-100000.csv", _spherical(rng, n), fmt="%.17g", delimiter=",")
    np.savetxt(directory / "logits-100000.csv", rng.normal(size=(n, 3)), fmt="%.17g", delimiter=",")
    for name, text in BASELINE_SCRIPTS.items():
        (directory / name).write_text(text, encoding="utf-8")
    return Data(directory)


# ---------------------------------------------------------------------------------------------- output checks

Check = Callable[[Path], str | None]  # None if the output is valid, else what is wrong


def nonempty(path: Path) -> str | None:
    return None if path.stat().st_size > 0 else "empty output"


def exit_only(path: Path) -> str | None:
    return None


def json_value(shape: tuple[int, ...]) -> Check:
    """A JSON document whose ``value`` has the given shape and only finite numbers."""

    def check(path: Path) -> str | None:
        try:
            value = np.asarray(json.loads(path.read_text(encoding="utf-8"))["value"], dtype=float)
        except (ValueError, KeyError, TypeError) as exc:
            return f"output is not the expected JSON ({type(exc).__name__}: {exc})"[:200]
        if value.shape != shape:
            return f"value has shape {value.shape}, expected {shape}"
        return None if np.isfinite(value).all() else "value is not all finite"

    return check


def plain_values(count: int) -> Check:
    """``count`` lines, each one finite number (a vector in plain format)."""

    def check(path: Path) -> str | None:
        try:
            value = np.loadtxt(path, dtype=float, ndmin=1)
        except ValueError as exc:
            return f"output is not one number a line ({exc})"[:200]
        if value.shape != (count,):
            return f"{value.size} numbers, expected {count}"
        return None if np.isfinite(value).all() else "not all finite"

    return check


def csv_rows(rows: int, columns: int, header: bool) -> Check:
    """A CSV of ``rows`` data lines with ``columns`` numeric fields each (after an optional header)."""

    def check(path: Path) -> str | None:
        with open(path, newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle))
        if header:
            lines = lines[1:]
        if len(lines) != rows:
            return f"{len(lines)} data lines, expected {rows}"
        if any(len(line) != columns for line in lines):
            return f"a line without {columns} fields"
        try:
            np.asarray(lines[:: max(1, rows // 100)], dtype=float)
        except ValueError as exc:
            return f"not numeric: {exc}"
        return None

    return check


# ---------------------------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a command line, how to check its output, and a factor on its time."""

    label: str
    argv: list[str]
    check: Check = nonempty
    scale: float = 1.0  # e.g. 3 for "the symbolic start-up ×3"
    exit_code: int = 0  # 2 for a hostile input that must be refused


@dataclass(frozen=True)
class Case:
    name: str
    jaccli: Side
    baseline: Side
    target: float  # the ratio jaccli/baseline must be at most this
    memory_target: float | None = None  # and the ratio of their peak RSS at most this, when given


def build_cases(data: Data, jaccli: list[str]) -> list[Case]:
    py = sys.executable

    def script(name: str, *args: str) -> list[str]:
        return [py, str(data.path(name)), *args]

    def run(*args: str, check: Check, exit_code: int = 0) -> Side:
        return Side("jaccli", [*jaccli, *args], check, exit_code=exit_code)

    numeric = Side("numpy+typer+rich import", script("baseline_startup_numeric.py"), exit_only)
    symbolic = Side("numpy+sympy+typer+rich import", script("baseline_startup_symbolic.py"), exit_only)
    if HAS_JAX:
        dense = Side("JAX jacfwd (no jit, x64)", script("baseline_jax.py", str(data.path("normal-1000.txt"))),
                     json_value((1000, 1000)))
        layer = Side("JAX jacrev (no jit, x64)", script("baseline_jax_layer.py", str(data.path("w-1000x1000.npy")),
                                                        str(data.path("normal-1000.txt")),
                                                        str(data.path("b-1000.txt"))), json_value((1000, 1000)))
        hessians = {name: Side("JAX hessian (no jit, x64)",
                               script("baseline_jax_hessian.py", name, str(data.path("normal-1000.txt"))),
                               json_value((1000, 1000))) for name in ("quartic", "logsumexp")}
    else:
        dense = Side("sympy import x3 (no JAX)", symbolic.argv, exit_only, scale=3.0)
        layer = dense
        hessians = dict.fromkeys(("quartic", "logsumexp"), dense)
    vjp_million = Side("jaccli vjp softmax (10^6)",
                       [*jaccli, "vjp", "softmax(x)", "--at", data.arg("normal-1000000.txt"), "--v",
                        data.arg("v-1000000.txt"), "--format", "json"], json_value((1_000_000,)))
    jax_rows = []
    if HAS_JAX:  # memory per entry: time and peak RSS against JAX doing the same from the same files
        jax_rows = [
            # the same output on both sides: the result vector, one number a line (jaccli's JSON also echoes the
            # point, v and a label per entry: four times the numbers to write)
            Case("VJP (10^7) vs JAX",
                 run("vjp", "softmax(x)", "--at", data.arg("normal-10000000.txt"), "--v",
                     data.arg("v-10000000.txt"), "--format", "plain", check=plain_values(10_000_000)),
                 Side("JAX vjp (no jit, x64)", script("baseline_jax_vjp.py", str(data.path("normal-10000000.txt")),
                                                      str(data.path("v-10000000.txt"))),
                      plain_values(10_000_000)), 0.7, memory_target=1.0),
            Case("gradient (10^6) vs JAX",
                 run("gradient", "logsumexp(x)", "--at", data.arg("normal-1000000.txt"), "--format", "plain",
                     check=plain_values(1_000_000)),
                 Side("JAX grad (no jit, x64)", script("baseline_jax_gradient.py",
                                                       str(data.path("normal-1000000.txt"))),
                      plain_values(1_000_000)), 0.35, memory_target=1.0),
        ]
    return [
        Case("start-up, numeric only",
             run("softmax-jac", "-1.3", "0.5", "2.1", "--format", "json", check=json_value((3, 3))), numeric, 1.2),
        Case("start-up, symbolic",
             run("jacobian", "x*2", "--at", "1,1", "--format", "json", check=json_value((2, 2))), symbolic, 1.2),
        Case("wide elementwise (10^4)",
             run("gradient", "sum(x**2 + sin(x))", "--at", data.arg("uniform-10000.txt"), "--format", "json",
                 check=json_value((10_000,))), symbolic, 1.5),
        Case("dense structured (10^6 out)",
             run("jacobian", "softmax(x)", "--at", data.arg("normal-1000.txt"), "--format", "json",
                 check=json_value((1000, 1000))), dense, 0.3 if HAS_JAX else 1.0),
        Case("big VJP (10^5)",
             run("vjp", "softmax(x)", "--at", data.arg("normal-100000.txt"), "--v", data.arg("v-100000.txt"),
                 "--format", "json", check=json_value((100_000,))), symbolic, 1.5),
        Case("dense Hessian, sum(x**4) + sum(x)**2 (10^6)",
             run("hessian", "sum(x**4) + sum(x)**2", "--at", data.arg("normal-1000.txt"), "--format", "json",
                 check=json_value((1000, 1000))), hessians["quartic"], 0.5 if HAS_JAX else 1.0),
        Case("dense Hessian, logsumexp (10^6)",
             run("hessian", "logsumexp(x)", "--at", data.arg("normal-1000.txt"), "--format", "json",
                 check=json_value((1000, 1000))), hessians["logsumexp"], 0.5 if HAS_JAX else 1.0),
        Case("HVP (10^5)",
             run("hvp", "logsumexp(x)", "--at", data.arg("normal-100000.txt"), "--v", data.arg("v-100000.txt"),
                 "--format", "json", check=json_value((100_000,))), symbolic, 1.5),
        Case("HVP (10^6) vs VJP (10^6)",
             run("hvp", "logsumexp(x)", "--at", data.arg("normal-1000000.txt"), "--v", data.arg("v-1000000.txt"),
                 "--format", "json", check=json_value((1_000_000,))), vjp_million, 2.0),
        Case("symbolic softmax Jacobian (80x80)",
             run("jacobian", "softmax(x)", "--shape", "x=80", "--format", "json", check=nonempty), symbolic, 2.0),
        Case("derivative of order 20",
             run("derivative", "tanh(x)", "--order", "20", "--at", "0.7", "--format", "json", check=json_value(())),
             symbolic, 1.5),
        Case("layer tanh(W @ x + b), W 1000×1000 from .npy",
             run("jacobian", "tanh(W @ x + b)", "--wrt", "x", "--at", f"x={data.arg('normal-1000.txt')}",
                 "--at", f"W={data.arg('w-1000x1000.npy')}", "--at", f"b={data.arg('b-1000.txt')}", "--format",
                 "json", check=json_value((1000, 1000))), layer, 0.5 if HAS_JAX else 1.0),
        # the same reading of 10^6 numbers and writing of 10^6 results as the VJP row: the difference is the work
        Case("Rosenbrock gradient, slices (10^6) vs VJP (10^6)",
             run("gradient", "sum(100*(x[1:]-x[:-1]**2)**2 + (1-x[:-1])**2)", "--at", data.arg("normal-1000000.txt"),
                 "--format", "json", check=json_value((1_000_000,))), vjp_million, 1.5),
        Case("bracketed point (2.5·10^5)",
             run("gradient", "sum(x**2)", "--at", data.arg("bracketed-250000.txt"), "--format", "json",
                 check=json_value((125_000, 2))), symbolic, 2.0),
        # Hostile inputs are refused before the work: about a start-up (tests/test_hostile.py checks the refusal)
        Case("hostile: power tower",
             run("jacobian", "x*9**9**9**9", "--at", "2", check=exit_only, exit_code=2), symbolic, 1.5),
        Case("hostile: 10^9-entry --shape",
             run("gradient", "sum(sin(x)*cos(x))", "--shape", "x=1000000000", check=exit_only, exit_code=2),
             symbolic, 1.5),
        Case("batch (10^5 points)",
             run("jacobian", "[r*sin(t)*cos(p), r*sin(t)*sin(p), r*cos(t)]", "--vars", "r,t,p",
                 "--points", str(data.path("spherical-100000.csv")), "--format", "csv",
                 check=csv_rows(100_000, 12, header=True)),
             Side("numpy closed form", script("baseline_batch.py", str(data.path("spherical-100000.csv"))),
                  csv_rows(100_000, 12, header=False)), 1.0),
        # issue 16: "the elementwise batch stays <= 1.1x numpy with at most half its memory (today 93 vs 241 MiB)";
        # the numpy script peaks at 241-246 MiB over 10^6 lines (49 MiB over 10^5, 26 of them numpy's import)
        Case("batch (10^6 points)",
             run("jacobian", "[r*sin(t)*cos(p), r*sin(t)*sin(p), r*cos(t)]", "--vars", "r,t,p",
                 "--points", str(data.path("spherical-1000000.csv")), "--format", "csv",
                 check=csv_rows(1_000_000, 12, header=True)),
             Side("numpy closed form", script("baseline_batch.py", str(data.path("spherical-1000000.csv"))),
                  csv_rows(1_000_000, 12, header=False)), 1.1, memory_target=0.5),
        Case("batch, softmax (10^5 points)",
             run("jacobian", "softmax([x, y, z])", "--points", str(data.path("logits-100000.csv")), "--format", "csv",
                 check=csv_rows(100_000, 12, header=True)),
             Side("numpy closed form", script("baseline_batch_softmax.py", str(data.path("logits-100000.csv"))),
                  csv_rows(100_000, 12, header=False)), 1.0),
        *jax_rows,
    ]


# ---------------------------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Run:
    seconds: float
    max_rss_mib: float
    error: str | None = None
    cpu_seconds: float = math.nan  # user + system time of the process and the children it waited for


def _rss_mib(ru_maxrss: int) -> float:
    return ru_maxrss / 2**20 if sys.platform == "darwin" else ru_maxrss / 2**10  # bytes on macOS, KiB elsewhere


def _wait(pid: int, timeout: float) -> tuple[int, os.struct_rusage, bool]:
    """Wait for one child with a timeout; its status, its own rusage, and whether it was killed for time."""
    deadline = time.monotonic() + timeout
    if hasattr(os, "pidfd_open"):  # Linux: sleep until it exits, no polling
        fd = os.pidfd_open(pid)
        try:
            exited = bool(select.select([fd], [], [], timeout)[0])
        finally:
            os.close(fd)
    else:
        exited = False
        while not exited and time.monotonic() < deadline:
            time.sleep(0.001)
            exited = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    if not exited:
        os.killpg(pid, 9)  # the launcher and the command (its own session); not yet reaped, so still ours
    _, status, usage = os.wait4(pid, 0)
    return status, usage, not exited


# Starts the measured command from a small process and reports that child's peak RSS. A child forked from
# this script (numpy loaded) would count this script's own pages in its ru_maxrss: Linux keeps the high-water
# mark of the process image an exec replaces, so every command would seem to need this script's 140 MiB.
LAUNCHER = textwrap.dedent("""\
    import os, sys
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(sys.argv[2], sys.argv[2:])
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    with open(sys.argv[1], "w") as handle:
        handle.write(str(usage.ru_maxrss))
    code = os.waitstatus_to_exitcode(status)
    sys.exit(code if code >= 0 else 128 - code)
    """)


def run_once(argv: list[str], out: Path, timeout: float, exit_code: int = 0) -> Run:
    """Run one process with stdout to ``out``; wall time and that child's peak RSS, or the first stderr line."""
    err = out.with_suffix(".stderr")
    rss_file = out.with_suffix(".rss")
    rss_file.unlink(missing_ok=True)
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen([sys.executable, "-S", "-c", LAUNCHER, str(rss_file), *argv],
                                    stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, start_new_session=True)
        except OSError as exc:
            return Run(math.nan, math.nan, f"cannot start {argv[0]}: {exc.strerror or exc}")
        status, usage, timed_out = _wait(proc.pid, timeout)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4: keep Popen from waiting again
    try:
        rss = _rss_mib(int(rss_file.read_text()))
    except (OSError, ValueError):  # killed for time: the launcher's own figure, the children's so far
        rss = _rss_mib(usage.ru_maxrss)
    cpu = usage.ru_utime + usage.ru_stime
    if timed_out:
        return Run(seconds, rss, f"timed out after {timeout:g} s")
    if proc.returncode != exit_code:
        first = next((line for line in err.read_text(errors="replace").splitlines() if line.strip()), "(no stderr)")
        return Run(seconds, rss, f"exit {proc.returncode}: {first}"[:160])
    return Run(seconds, rss, cpu_seconds=cpu)


@dataclass
class Result:
    case: str
    baseline: str
    target: float
    jaccli_s: list[float] = field(default_factory=list)
    baseline_s: list[float] = field(default_factory=list)
    jaccli_rss_mib: float = math.nan
    error: str | None = None
    memory_target: float | None = None
    baseline_rss_mib: float = math.nan
    jaccli_cpu_s: list[float] = field(default_factory=list)
    baseline_cpu_s: list[float] = field(default_factory=list)

    @property
    def cpu_ratio(self) -> float:
        """Median CPU seconds (both cores, all processes) of jaccli over the baseline's: the work, not the wait."""
        if not self.jaccli_cpu_s or not self.baseline_cpu_s:
            return math.nan
        return statistics.median(self.jaccli_cpu_s) / statistics.median(self.baseline_cpu_s)

    @property
    def jaccli_median(self) -> float:
        return statistics.median(self.jaccli_s) if self.jaccli_s else math.nan

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline_s) if self.baseline_s else math.nan

    @property
    def ratio(self) -> float:
        return self.jaccli_median / self.baseline_median if self.jaccli_s and self.baseline_s else math.nan

    @property
    def memory_ratio(self) -> float:
        """jaccli's peak RSS over the baseline's (the largest of each side's runs)."""
        return self.jaccli_rss_mib / self.baseline_rss_mib

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        memory = self.memory_target is None or self.memory_ratio <= self.memory_target
        return "pass" if self.ratio <= self.target and memory else "fail"

    def as_dict(self) -> dict:
        return {**asdict(self), "jaccli_median_s": _num(self.jaccli_median),
                "baseline_median_s": _num(self.baseline_median), "ratio": _num(self.ratio),
                "jaccli_rss_mib": _num(self.jaccli_rss_mib), "cpu_ratio": _num(self.cpu_ratio),
                "baseline_rss_mib": _num(self.baseline_rss_mib), "memory_ratio": _num(self.memory_ratio),
                "status": self.status}


def _num(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 4)


def _warm_and_check(side: Side, out: Path, timeout: float) -> Run:
    """One untimed run: it warms caches and checks the exit code and the output."""
    run = run_once(side.argv, out, timeout, side.exit_code)
    if run.error is None and (problem := side.check(out)):
        run = Run(run.seconds, run.max_rss_mib, f"bad output: {problem}")
    return run


def runs_for(repeat: int, warm_up_seconds: list[float]) -> int:
    """Timed runs per side: ``repeat``, and at least QUICK_MIN_RUNS when every warm-up took under QUICK_SECONDS.

    A quick case's median is cheap to sharpen and its noise is large relative to its time (start-up).
    """
    quick = all(seconds < QUICK_SECONDS for seconds in warm_up_seconds)
    return max(repeat, QUICK_MIN_RUNS) if quick else repeat


def measure(case: Case, repeat: int, timeout: float, work: Path, log: Callable[[str], None]) -> Result:
    """Warm up and check both sides, then alternate jaccli and baseline runs (``runs_for``: ``repeat`` or more).

    A side that errors stops there; the other goes on, so a failing jaccli still shows the baseline's time.
    """
    result = Result(case.name, case.baseline.label, case.target, memory_target=case.memory_target)
    sides = {"jaccli": (case.jaccli, result.jaccli_s), "baseline": (case.baseline, result.baseline_s)}
    cpu = {"jaccli": result.jaccli_cpu_s, "baseline": result.baseline_cpu_s}
    outs = {name: work / f"out-{name}.txt" for name in sides}
    errors: dict[str, str] = {}

    def record(name: str, run: Run, times: list[float] | None) -> None:
        if name == "jaccli":
            result.jaccli_rss_mib = float(np.fmax(result.jaccli_rss_mib, run.max_rss_mib))  # fmax skips NaN
        else:
            result.baseline_rss_mib = float(np.fmax(result.baseline_rss_mib, run.max_rss_mib))
        if run.error:
            errors[name] = run.error
        elif times is not None:
            times.append(run.seconds * sides[name][0].scale)
            cpu[name].append(run.cpu_seconds * sides[name][0].scale)

    warm_up = []
    for name, (side, _) in sides.items():
        run = _warm_and_check(side, outs[name], timeout)
        warm_up.append(run.seconds)
        record(name, run, None)
    runs = runs_for(repeat, warm_up)
    for i in range(runs):
        for name, (side, times) in sides.items():
            if name not in errors:
                record(name, run_once(side.argv, outs[name], timeout, side.exit_code), times)
        if len(errors) < len(sides):
            log(f"  {case.name}: {i + 1}/{runs}  " + ", ".join(
                f"{name} {times[-1]:.3f} s" for name, (_, times) in sides.items() if name not in errors))
    if "jaccli" in errors:
        result.error = errors["jaccli"]
    elif "baseline" in errors:
        result.error = f"baseline: {errors['baseline']}"
    return result


# ---------------------------------------------------------------------------------------------- environment


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _blas() -> str:
    """The BLAS numpy was built against, and its threads if threadpoolctl is there; cheap or nothing."""
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{info.get('name', '?')} {info.get('version', '')}".strip()
    except Exception:  # old numpy or an unusual build: not worth failing over
        blas = "unknown"
    if importlib.util.find_spec("threadpoolctl"):
        from threadpoolctl import threadpool_info

        pools = ", ".join(f"{p['internal_api']}×{p['num_threads']}" for p in threadpool_info())
        blas += f" (threads: {pools or 'none loaded'})"
    threads = {k: v for k, v in os.environ.items() if k.endswith("_NUM_THREADS")}
    return blas + (f" {threads}" if threads else "")


def environment(jaccli: list[str], bytecode: str) -> dict:
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    return {
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "cpus": f"{cpus} ({usable} usable)",
        "numpy": np.__version__,
        "sympy": _version("sympy"),
        "jaccli": f"{_version('jaccli')} via {shlex.join(jaccli)}",
        "bytecode": bytecode,
        "jax": _version("jax") if HAS_JAX else "not found (dense case compares with the sympy start-up ×3)",
        "blas": _blas(),
    }


# ---------------------------------------------------------------------------------------------- report


def table(results: list[Result]) -> str:
    head = ("case", "runs", "jaccli s", "baseline s", "ratio", "target", "result", "RSS MiB", "RSS ratio",
            "CPU ratio", "baseline")
    rows = [head]
    for r in results:
        rows.append((r.case, str(len(r.jaccli_s)), _fmt(r.jaccli_median, 3), _fmt(r.baseline_median, 3),
                     _fmt(r.ratio, 2), f"≤ {r.target:.2g}", r.status, _fmt(r.jaccli_rss_mib, 0),
                     _fmt(r.memory_ratio, 2) + ("" if r.memory_target is None else f" (≤ {r.memory_target:.2g})"),
                     _fmt(r.cpu_ratio, 2), r.baseline))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    right = {1, 2, 3, 4, 5, 7, 8, 9}
    lines = ["  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    errors = [f"  {r.case}: {r.error}" for r in results if r.error]
    return "\n".join([line.rstrip() for line in lines] + (["", "errors:", *errors] if errors else []))


def _fmt(x: float, digits: int) -> str:
    return "-" if math.isnan(x) else f"{x:.{digits}f}"


# ---------------------------------------------------------------------------------------------- command line


def jaccli_python(jaccli: list[str]) -> str:
    """The interpreter that runs ``jaccli``: ``PY -m jaccli``'s PY, a console script's ``#!`` Python, else ours."""
    if jaccli[1:3] == ["-m", "jaccli"]:
        return jaccli[0]
    try:
        with open(jaccli[0], "rb") as handle:
            first = handle.readline().decode(errors="replace")
    except OSError:
        return sys.executable
    shebang = first[2:].split() if first.startswith("#!") else []
    return shebang[0] if shebang and "python" in Path(shebang[0]).name else sys.executable


_FIND_PACKAGE = "import importlib.util as u; s = u.find_spec('jaccli'); print(s.submodule_search_locations[0])"


def compile_jaccli(python: str) -> str:
    """Compile the bytecode of the jaccli package that ``python`` imports, once, before anything is timed.

    An editable install under PYTHONDONTWRITEBYTECODE=1 would otherwise compile jaccli's modules from
    source on every run, a cost that neither a regular install (pip compiles at install time) nor a normal
    machine (Python caches on the first run) pays. Returns what was done, for the environment report.
    """
    try:
        found = subprocess.run([python, "-c", _FIND_PACKAGE], capture_output=True, text=True)
    except OSError as exc:
        return f"not compiled: cannot run {python}: {exc.strerror or exc}"
    if found.returncode != 0 or not found.stdout.strip():
        return f"not compiled: {python} cannot find jaccli"
    package = found.stdout.strip()
    done = subprocess.run([python, "-m", "compileall", "-q", package], capture_output=True, text=True)
    if done.returncode != 0:
        return f"not compiled ({package}): {(done.stdout + done.stderr).strip()[:120]}"
    dont_write = " (PYTHONDONTWRITEBYTECODE is set)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else ""
    return f"compiled {package} with compileall before timing{dont_write}"


def jaccli_command(text: str | None) -> list[str]:
    """``--jaccli``: a command line. A bare program name is looked for next to this Python first (its venv's
    console script, even when the venv is not activated), then on PATH; either way it is shown resolved."""
    if text is None:
        return [sys.executable, "-m", "jaccli"]
    argv = shlex.split(text)
    if argv and os.sep not in argv[0]:
        beside = Path(sys.executable).parent / argv[0]
        argv[0] = str(beside) if beside.exists() else (shutil.which(argv[0]) or argv[0])
    return argv


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5,
                        help=f"timed runs per side and case (default 5); cases whose warm-up takes under "
                             f"{QUICK_SECONDS:g} s get at least {QUICK_MIN_RUNS}")
    parser.add_argument("--only", metavar="CASE", help="only cases whose name contains this (case-insensitive)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of the table")
    parser.add_argument("--jaccli", metavar="CMD", help="how to run jaccli (default: this Python -m jaccli), "
                                                        "e.g. 'jaccli' for the console script")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run before it is an error")
    parser.add_argument("--data", metavar="DIR", type=Path,
                        help="keep the generated data and outputs here (e.g. bench/data) instead of a temp dir")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    jaccli = jaccli_command(args.jaccli)
    with tempfile.TemporaryDirectory(prefix="jaccli-bench-") as tmp:
        work = args.data or Path(tmp)
        data = generate_data(work)
        cases = build_cases(data, jaccli)
        if args.only:
            cases = [c for c in cases if args.only.lower() in c.name.lower()]
            if not cases:
                print(f"no case matches {args.only!r}", file=sys.stderr)
                return 2
        generate_large(data, cases)
        env = environment(jaccli, compile_jaccli(jaccli_python(jaccli)))
        if not args.json:
            print("\n".join(f"{k:>8}: {v}" for k, v in env.items()), end="\n\n", flush=True)
        results = []
        for case in cases:
            log(f"{case.name} ...")
            results.append(measure(case, args.repeat, args.timeout, work, log))
    if args.json:
        print(json.dumps({"environment": env, "repeat": args.repeat, "results": [r.as_dict() for r in results]},
                         indent=2))
    else:
        print(table(results))
    return 0 if all(r.status == "pass" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
