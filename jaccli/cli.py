"""The command line: typer options in, a ``Result`` out to one renderer.

The only module that imports typer. Errors from the maths arrive as
``JaccliError`` and leave as one ``Error: …`` line and an exit code, here and
nowhere else: 0 success, 1 result not finite, 2 bad input, 3 internal error.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Annotated

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
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"jaccli {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool | None, typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
) -> None:
    """jaccli: derivatives, gradients, Jacobians and Hessians from the command line.

    Exit codes: 0 success, 1 result not finite at the point, 2 bad input, 3 internal error.
    """


# --- options every command shares ------------------------------------------------------------

Expression = Annotated[str, typer.Argument(help="The function, e.g. 'x**2*y', '[r*cos(t), r*sin(t)]'.",
                                           show_default=False)]
At = Annotated[list[str] | None, typer.Option(
    "--at", "-a", metavar="POINT",
    help="Point: values in variable order (1,2), named (x=1, repeatable), an array ([[1,1],[1,1]]), "
         "@file, or - for stdin. Without it the result is symbolic.")]
Vars = Annotated[str | None, typer.Option("--vars", metavar="X,Y,…",
                                             help="Variable order (default: natural sort of the names).")]
Shape = Annotated[list[str] | None, typer.Option(
    "--shape", metavar="NAME=DIMS", help="Array shape of a variable for symbolic results, e.g. x=3 or x=2x2.")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="auto: table on a terminal, plain in a pipe.",
                                           case_sensitive=False)]
Precision = Annotated[int | None, typer.Option("--precision", "-p", min=1, max=17, metavar="N",
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


CheckOpt = Annotated[bool, typer.Option("--check", help="Also compare with numeric differentiation (complex step "
                                         "or central differences); exit 1 when they disagree.")]


def emit(result, fmt: Format, precision: int | None, check: bool = False) -> None:
    """Print ``result`` in ``fmt``, its warnings on stderr, and exit with its code."""
    from . import render

    if check and "ok" not in result.extra:
        if result.verify is None:
            raise JaccliError("--check needs a point: give --at")
        result.verify()
    if fmt is Format.auto:
        fmt = Format.table if sys.stdout.isatty() else Format.plain
    if fmt is Format.table:
        from rich.console import Console

        Console().print(render.table(result, precision))
    elif fmt is Format.json:
        sys.stdout.write(render.to_json(result))
    else:
        sys.stdout.write(render.plain(result, precision))
    sys.stdout.flush()
    for warning in result.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    if "ok" in result.extra:
        x = result.extra
        verdict = "agrees" if x["ok"] else "DISAGREES" if x["max_abs_error"] is not None else "cannot compare"
        errors = [render.number(float("nan") if x[k] is None else x[k], 3) for k in ("max_abs_error", "max_rel_error")]
        print(f"Check: {verdict} with {x['check_method']}: max abs error {errors[0]}, max rel error {errors[1]}",
              file=sys.stderr)
    raise typer.Exit(result.exit_code)


# --- commands ----------------------------------------------------------------------------------


@app.command()
def derivative(
    expression: Expression,
    wrt: Annotated[str | None, typer.Option("--wrt", "-w", help="The variable (needed when there are several).")]
    = None,
    order: Annotated[int, typer.Option("--order", "-k", help="Order k of d^k f/dx^k.")] = 1,
    at: At = None, vars: Vars = None, shape: Shape = None,
    format: FormatOpt = Format.auto, precision: Precision = None, check: CheckOpt = False,
) -> None:
    """d^k f/dx^k, entry by entry: shaped like f.

    An array point for x gives the derivative at each of its entries.

    Example:  jaccli derivative "x**2" --at 3            → 6
    Example:  jaccli derivative "sin(x)" --order 3       → -cos(x)
    """
    from . import compute

    result = compute.derivative(expression, at, _variables(vars), wrt, order, _shapes(shape))
    emit(result, format, precision, check)


@app.command()
def gradient(
    expression: Expression, at: At = None, vars: Vars = None, shape: Shape = None,
    format: FormatOpt = Format.auto, precision: Precision = None, check: CheckOpt = False,
) -> None:
    """∇f of a scalar function, shaped like its input.

    Example:  jaccli gradient "sum(x*2)" --at "[[1,1],[1,1]]"     → 2 everywhere, 2×2
    """
    from . import compute

    emit(compute.gradient(expression, at, _variables(vars), _shapes(shape)), format, precision, check)


@app.command()
def jacobian(
    expression: Expression, at: At = None, vars: Vars = None, shape: Shape = None,
    format: FormatOpt = Format.auto, precision: Precision = None, check: CheckOpt = False,
) -> None:
    """The Jacobian J, m×n: rows are the outputs, columns the inputs.

    Example:  jaccli jacobian "x*2" --at 1,1                            → 2·I
    Example:  jaccli jacobian "[r*cos(t), r*sin(t)]" --vars r,t --at 2,0.5
    """
    from . import compute

    emit(compute.jacobian(expression, at, _variables(vars), _shapes(shape)), format, precision, check)


@app.command()
def hessian(
    expression: Expression, at: At = None, vars: Vars = None, shape: Shape = None,
    format: FormatOpt = Format.auto, precision: Precision = None, check: CheckOpt = False,
) -> None:
    """∇²f of a scalar function: n×n and symmetric.

    Example:  jaccli hessian "x**2*y + y**3" --at 1,2       → [[4, 2], [2, 12]]
    """
    from . import compute

    emit(compute.hessian(expression, at, _variables(vars), _shapes(shape)), format, precision, check)


@app.command()
def check(
    expression: Expression, at: At = None, vars: Vars = None,
    format: FormatOpt = Format.auto, precision: Precision = None,
) -> None:
    """Verify the symbolic Jacobian against the complex step or central differences at a point.

    Prints the Jacobian; stderr says the largest absolute and relative discrepancy. Exit 1 when
    they disagree beyond the finite-difference error (JSON: value, numeric, max_abs_error, ok).

    Example:  jaccli check "[r*cos(t), r*sin(t)]" --vars r,t --at 2,0.5      → Check: agrees
    """
    from . import compute

    emit(compute.check(expression, at, _variables(vars)), format, precision)


def main() -> None:
    """Console-script entry point."""
    typer.main.get_command(app).main(prog_name="jaccli")
