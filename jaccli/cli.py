"""The command line: typer options in, a ``Result`` out to one renderer.

The only module that imports typer. Errors from the maths arrive as
``JaccliError`` and leave as one ``Error: …`` line and an exit code, here and
nowhere else: 0 success, 1 result not finite, 2 bad input, 3 internal error.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Optional

import numpy as np
import typer
from typer._click import exceptions as click_exceptions
from typer.core import TyperGroup

from . import __version__
from .errors import JaccliError, ParseError
from .render import Format

EXIT_OK, EXIT_NOT_FINITE, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


class _Group(TyperGroup):
    """Turns every failure into one ``Error:`` line and a documented exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args=args, prog_name=prog_name or "jaccli", complete_var=complete_var,
                                standalone_mode=False, **extra)
        except JaccliError as exc:
            code = _fail(str(exc), exc.exit_code, exc.caret() if isinstance(exc, ParseError) else None)
        except click_exceptions.NoArgsIsHelpError as exc:
            print(exc.ctx.get_help() if exc.ctx else "Usage: jaccli COMMAND --help")
            code = EXIT_BAD_INPUT
        except click_exceptions.UsageError as exc:
            hint = f" (see 'jaccli {exc.ctx.command.name} --help')" if exc.ctx and exc.ctx.command.name else ""
            code = _fail(exc.format_message() + hint, EXIT_BAD_INPUT)
        except click_exceptions.ClickException as exc:
            code = _fail(exc.format_message(), exc.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            code = _fail("interrupted", 130)
        except BrokenPipeError:
            code = 0  # a reader such as `head` closed the pipe: not our failure
            sys.stderr.close()
        except RecursionError:
            code = _fail("the input nests too deeply", EXIT_BAD_INPUT)
        except MemoryError:
            code = _fail("out of memory; try a smaller input or 'jaccli vjp'", EXIT_BAD_INPUT)
        except Exception as exc:  # a bug: still no traceback for the user
            if os.environ.get("JACCLI_DEBUG"):
                raise
            code = _fail(f"internal error ({type(exc).__name__}: {exc}); please report it "
                         "(JACCLI_DEBUG=1 shows the traceback)", EXIT_INTERNAL)
        sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int, detail: str | None = None) -> int:
    print(f"Error: {message}", file=sys.stderr)
    if detail:
        print(detail, file=sys.stderr)
    return code


app = typer.Typer(
    cls=_Group,
    help="jaccli: derivatives, gradients, Jacobians and Hessians from the command line.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help is literal text: expressions contain [brackets] that are not markup
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"jaccli {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
) -> None:
    """jaccli: derivatives, gradients, Jacobians and Hessians from the command line.

    Exit codes: 0 success, 1 result not finite at the point, 2 bad input, 3 internal error.
    """


# --- options every command shares ------------------------------------------------------------

Expression = Annotated[str, typer.Argument(metavar="EXPR", help="The function, e.g. 'x**2*y', '[r*cos(t), r*sin(t)]'.",
                                           show_default=False)]
At = Annotated[Optional[list[str]], typer.Option(
    "--at", "-a", metavar="POINT",
    help="Point: values in variable order (1,2), named (x=1, repeatable), an array ([[1,1],[1,1]]), "
         "@file, or - for stdin. Without it the result is symbolic.")]
Vars = Annotated[Optional[str], typer.Option("--vars", metavar="X,Y,…",
                                             help="Variable order (default: natural sort of the names).")]
Shape = Annotated[Optional[list[str]], typer.Option(
    "--shape", metavar="NAME=DIMS", help="Array shape of a variable for symbolic results, e.g. x=3 or x=2x2.")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="auto: table on a terminal, plain in a pipe.",
                                           case_sensitive=False)]
Precision = Annotated[Optional[int], typer.Option("--precision", "-p", min=1, max=17, metavar="N",
                                                  help="Significant digits (table default 8, plain full).")]


def _variables(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise JaccliError("--vars is empty; give names like --vars x,y")
    return names


def _shapes(specs: list[str] | None) -> dict[str, tuple[int, ...]]:
    shapes = {}
    for spec in specs or []:
        match = re.fullmatch(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(\d+(?:\s*[x×,]\s*\d+)*)\s*", spec)
        if not match:
            raise JaccliError(f"--shape {spec}: write NAME=DIMS, e.g. x=3 or x=2x2")
        dims = tuple(int(d) for d in re.split(r"\s*[x×,]\s*", match.group(2)))
        if any(d < 1 for d in dims):
            raise JaccliError(f"--shape {spec}: every dimension must be at least 1")
        shapes[match.group(1)] = dims
    return shapes


Output = Annotated[Optional[str], typer.Option("--output", "-o", metavar="FILE",
                                              help="Write the result to FILE instead of stdout.")]
Exact = Annotated[bool, typer.Option("--exact", help="Exact values at an exact point: --at 1/2,pi/3 gives sqrt(3)/2.")]
Points = Annotated[Optional[str], typer.Option(
    "--points", metavar="FILE", help="Many points, one per line (- for stdin); a header line may name the columns.")]
SkipBad = Annotated[bool, typer.Option("--skip-bad", help="With --points: skip bad lines with a warning.")]


@dataclass
class Out:
    """Where and how a command prints: the options every command shares."""

    format: Format
    precision: int | None
    path: str | None

    def resolve(self) -> Format:
        if self.format is not Format.auto:
            return self.format
        interactive = self.path is None and sys.stdout.isatty()
        return Format.table if interactive else Format.plain

    @contextmanager
    def stream(self):
        if self.path is None:
            yield sys.stdout
            sys.stdout.flush()
            return
        try:
            with open(self.path, "w", encoding="utf-8") as handle:
                yield handle
        except OSError as exc:
            raise JaccliError(f"cannot write {self.path}: {exc.strerror or exc}") from None


def emit(result, out: Out) -> None:
    """Print ``result`` as ``out`` says, its warnings on stderr, and exit with its code."""
    from . import render

    fmt = out.resolve()
    with out.stream() as stream:
        if fmt is Format.table:
            from rich.console import Console

            Console(file=stream).print(render.table(result, out.precision))
        else:
            writer = {Format.json: render.to_json, Format.plain: render.plain, Format.csv: render.csv,
                      Format.latex: render.latex}[fmt]
            stream.write(writer(result) if fmt is Format.json else writer(result, out.precision))
    for warning in result.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    raise typer.Exit(result.exit_code)


def run(compute: Callable, at: list[str] | None, points: str | None, skip_bad: bool, exact: bool, out: Out) -> None:
    """One point (or none): ``emit``. Many points: the symbolic result once, then every line."""
    if points is None:
        if skip_bad:
            raise JaccliError("--skip-bad goes with --points")
        emit(compute(at=at, exact=exact), out)
    if at:
        raise JaccliError("give either --at or --points, not both")
    if exact:
        raise JaccliError("--exact works with --at, not --points")
    from . import batch, render

    fmt = out.resolve()
    if fmt in (Format.table, Format.latex):
        raise JaccliError(f"--points prints plain, csv or json lines, not {fmt.value}")
    source = sys.stdin if points == "-" else _open(points)
    peek = batch.Peek(source)
    result = compute(at=None, exact=False, width=peek.width)
    reader = batch.PointReader(peek, result.variables, skip_bad)
    code = 0
    with out.stream() as stream, _progress(points) as advance:
        stream.write(render.batch_header(fmt, result.variables, render.batch_labels(result)))
        for chunk in reader:
            values, kinks = batch.evaluate(result.symbolic, result.variables, chunk.values)
            stream.write(render.batch_rows(fmt, chunk.values, values, result.shape, out.precision))
            for message in chunk.skipped:
                print(f"Warning: {message}", file=sys.stderr)
            if not np.all(np.isfinite(values)):
                code = 1
            if chunk.error:
                raise JaccliError(chunk.error)
            advance(reader.line_number)
    if code:
        print("Warning: some results are not finite (NaN or infinite)", file=sys.stderr)
    raise typer.Exit(code)


def _open(path: str):
    try:
        return open(path, encoding="utf-8")
    except OSError as exc:
        raise JaccliError(f"cannot read {path}: {exc.strerror or exc}") from None


@contextmanager
def _progress(points: str):
    """A progress bar on stderr when it is a terminal; nothing in a pipe."""
    if not sys.stderr.isatty():
        yield lambda lines: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"points from {'stdin' if points == '-' else points}", total=None)
        yield lambda lines: progress.update(task, completed=lines)


# --- commands ----------------------------------------------------------------------------------


def _shapes_for(expression: str, names: list[str] | None, specs: list[str] | None, width: int | None) -> dict:
    """--shape values; with --points, a lone variable is an array as wide as the lines."""
    shapes = _shapes(specs)
    if width and width > 1:
        from .parsing import parse

        variables = parse(expression, names).variables
        if len(variables) == 1 and variables[0] not in shapes:
            shapes[variables[0]] = (width,)
    return shapes


@app.command()
def derivative(
    expression: Expression,
    wrt: Annotated[Optional[str], typer.Option("--wrt", "-w", help="The variable (needed when there are several).")]
    = None,
    order: Annotated[int, typer.Option("--order", "-k", help="Order k of d^k f/dx^k.")] = 1,
    at: At = None, vars: Vars = None, shape: Shape = None, points: Points = None, skip_bad: SkipBad = False,
    exact: Exact = False, format: FormatOpt = Format.auto, precision: Precision = None, output: Output = None,
) -> None:
    """d^k f/dx^k, entry by entry: shaped like f.

    An array point for x gives the derivative at each of its entries.

    \b
    Example:  jaccli derivative "x**2" --at 3            → 6
    Example:  jaccli derivative "sin(x)" --order 3       → -cos(x)
    """
    from . import compute

    names = _variables(vars)

    def call(at, exact, width=None):
        return compute.derivative(expression, at, names, wrt, order, _shapes_for(expression, names, shape, width),
                                  exact=exact)

    run(call, at, points, skip_bad, exact, Out(format, precision, output))


@app.command()
def gradient(
    expression: Expression, at: At = None, vars: Vars = None, shape: Shape = None, points: Points = None,
    skip_bad: SkipBad = False, exact: Exact = False, format: FormatOpt = Format.auto, precision: Precision = None,
    output: Output = None,
) -> None:
    """∇f of a scalar function, shaped like its input.

    \b
    Example:  jaccli gradient "sum(x*2)" --at "[[1,1],[1,1]]"     → 2 everywhere, 2×2
    """
    from . import compute

    names = _variables(vars)

    def call(at, exact, width=None):
        return compute.gradient(expression, at, names, _shapes_for(expression, names, shape, width), exact=exact)

    run(call, at, points, skip_bad, exact, Out(format, precision, output))


@app.command()
def jacobian(
    expression: Expression, at: At = None, vars: Vars = None, shape: Shape = None, points: Points = None,
    skip_bad: SkipBad = False, exact: Exact = False, format: FormatOpt = Format.auto, precision: Precision = None,
    output: Output = None,
) -> None:
    """The Jacobian J, m×n: rows are the outputs, columns the inputs.

    \b
    Example:  jaccli jacobian "x*2" --at 1,1                            → 2·I
    Example:  jaccli jacobian "[r*cos(t), r*sin(t)]" --vars r,t --at 2,0.5
    """
    from . import compute

    names = _variables(vars)

    def call(at, exact, width=None):
        return compute.jacobian(expression, at, names, _shapes_for(expression, names, shape, width), exact=exact)

    run(call, at, points, skip_bad, exact, Out(format, precision, output))


@app.command()
def hessian(
    expression: Expression, at: At = None, vars: Vars = None, shape: Shape = None, points: Points = None,
    skip_bad: SkipBad = False, exact: Exact = False, format: FormatOpt = Format.auto, precision: Precision = None,
    output: Output = None,
) -> None:
    """∇²f of a scalar function: n×n and symmetric.

    \b
    Example:  jaccli hessian "x**2*y + y**3" --at 1,2       → [[4, 2], [2, 12]]
    """
    from . import compute

    names = _variables(vars)

    def call(at, exact, width=None):
        return compute.hessian(expression, at, names, _shapes_for(expression, names, shape, width), exact=exact)

    run(call, at, points, skip_bad, exact, Out(format, precision, output))


def main() -> None:
    """Console-script entry point."""
    typer.main.get_command(app).main(prog_name="jaccli")
