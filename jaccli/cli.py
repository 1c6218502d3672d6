"""The command line: typer options in, a ``Result`` out to one renderer.

The only module that imports typer. Errors from the maths arrive as
``JaccliError`` and leave as one ``Error: …`` line and an exit code, here and
nowhere else: 0 success, 1 result not finite, 2 bad input (or an output that cannot be written),
3 internal error, 130 SIGINT, 143 SIGTERM.
"""

from __future__ import annotations

import copy
import gc
import os
import re
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Annotated

import numpy as np
import typer
from typer._click import exceptions as click_exceptions
from typer.core import TyperCommand, TyperGroup

from . import __version__, limits, streams
from .errors import JaccliError, ParseError
from .render import Format

EXIT_OK, EXIT_NOT_FINITE, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + SIGINT, 128 + SIGTERM


class _Group(TyperGroup):
    """Turns every failure into one ``Error:`` line and a documented exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args=args, prog_name=prog_name or "jaccli", complete_var=complete_var,
                                standalone_mode=False, **extra)
            _flush_stdout()  # what print() left (help, --version): its errors are handled here too
        except JaccliError as exc:
            code = _fail(str(exc), exc.exit_code, exc.caret() if isinstance(exc, ParseError) else None)
        except click_exceptions.NoArgsIsHelpError as exc:
            try:
                print(exc.ctx.get_help() if exc.ctx else "Usage: jaccli COMMAND --help")
                _flush_stdout()
            except (streams.ReaderGone, BrokenPipeError):
                streams.forget_stdout()
            except streams.WriteError as error:
                _fail(str(error), EXIT_BAD_INPUT)
            except OSError as error:
                _fail(f"cannot write stdout: {error.strerror or error}", EXIT_BAD_INPUT)
            code = EXIT_BAD_INPUT
        except click_exceptions.UsageError as exc:
            hint = f" (see 'jaccli {exc.ctx.command.name} --help')" if exc.ctx and exc.ctx.command.name else ""
            code = _fail(exc.format_message() + hint, EXIT_BAD_INPUT)
        except click_exceptions.ClickException as exc:
            code = _fail(exc.format_message(), exc.exit_code)
        except streams.Interrupted as exc:
            code = _fail(exc.message, exc.code)
        except (typer.Abort, KeyboardInterrupt):
            code = _fail("interrupted", EXIT_INTERRUPTED)
        except (streams.ReaderGone, BrokenPipeError):  # a reader such as `head` closed stdout: not our failure
            streams.forget_stdout()
            code = EXIT_OK
        except streams.WriteError as exc:
            code = _fail(str(exc), EXIT_BAD_INPUT)
        except OSError as exc:  # inputs are read with their own messages: what is left is click writing help
            code = _fail(f"cannot write stdout: {exc.strerror or exc}", EXIT_BAD_INPUT)
        except RecursionError:
            code = _fail("the input nests too deeply", EXIT_BAD_INPUT)
        except MemoryError:
            code = _fail("out of memory; try a smaller input or 'jaccli vjp'", EXIT_BAD_INPUT)
        except Exception as exc:  # a bug: still no traceback for the user
            if os.environ.get("JACCLI_DEBUG"):
                raise
            code = _fail(f"internal error ({type(exc).__name__}: {exc}); please report it "
                         "(JACCLI_DEBUG=1 shows the traceback)", EXIT_INTERNAL)
        code = code if isinstance(code, int) else 0
        if code == EXIT_OK and streams.State.stderr_failed:  # a warning was lost: the exit code must say so
            code = EXIT_BAD_INPUT
        sys.exit(code)


def _flush_stdout() -> None:
    if sys.stdout is None:
        return
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise streams.ReaderGone from None
    except OSError as exc:
        raise streams.WriteError(f"cannot write stdout: {exc.strerror or exc}") from None


_NUMBER = re.compile(r"-(\d|\.\d|inf|nan)", re.IGNORECASE)  # how a negative logit starts
_NUMBER_WORD = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")  # a plain number


class _Command(TyperCommand):
    """Reads ``-x**2`` (an expression) or ``-1.3`` (a logit) as the argument it is, not as an option.

    Before click parses, a token that starts with ``-`` but is not one of the command's options is marked
    as an argument when an argument is due: the expression(s) of an expression command, any negative
    number for a command taking numbers. Options keep their meaning wherever they are; ``--`` still ends them.
    """

    def parse_args(self, ctx, args):
        marked = set()
        args = _mark_arguments(self, list(args), marked)
        rest = super().parse_args(ctx, args)
        for name, value in ctx.params.items():
            if isinstance(value, str) and value in marked:
                ctx.params[name] = value[1:]
            elif isinstance(value, (list, tuple)):
                ctx.params[name] = type(value)(v[1:] if isinstance(v, str) and v in marked else v for v in value)
        return rest


def _mark_arguments(command, args: list[str], marked: set[str]) -> list[str]:
    """``args`` with each minus-led argument given a leading space (which click does not take for an option)."""
    takes_value, names = set(), set()
    due, numbers = 0, False
    for param in command.params:
        if param.param_type_name == "option":
            names.update(param.opts + param.secondary_opts)
            if not param.is_flag and not param.count:
                takes_value.update(param.opts)
        elif param.nargs == 1:
            due += 1
        else:
            numbers = True  # LOGITS...: any number of numbers
    out, i = [], 0
    while i < len(args):
        token = args[i]
        if token == "--":
            return out + args[i:]
        if token in takes_value:
            out += args[i:i + 2]
            i += 2
            if token in ("--at", "-a") and due <= 0 and i < len(args) and _NUMBER_WORD.fullmatch(args[i]):
                raise click_exceptions.UsageError(
                    f"--at takes the point as one argument: --at {','.join(args[i - 1:i + 1])} (or quoted, "
                    f"--at \"{' '.join(args[i - 1:i + 1])}\"); for many points, --points FILE or --points -")
            continue
        if token.startswith("-") and len(token) > 1 and token not in names and not token.startswith("--"):
            if due > 0 or (numbers and _NUMBER.match(token)):
                token = " " + token
                marked.add(token)
                due -= 1
        elif not token.startswith("-"):
            due -= 1
        out.append(token)
        i += 1
    return out


def _fail(message: str, code: int, detail: str | None = None) -> int:
    streams.say(f"Error: {message}")
    if detail:
        for line in detail.splitlines():
            streams.say(line)
    return code


app = typer.Typer(
    cls=_Group,
    help="jaccli: derivatives, gradients, Jacobians, Hessians, softmax Jacobians and vector-Jacobian products "
         "from the command line.\n\nExit codes: 0 success, 1 result not finite (or a check failed), 2 bad input, "
         "3 internal error. 'jaccli COMMAND --help' shows a command's options and an example.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help is literal text: expressions contain [brackets] that are not markup
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        streams.stdout_sink().write(f"jaccli {__version__}\n")
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

Expression = Annotated[str, typer.Argument(
    metavar="EXPR", show_default=False,
    help="The function, e.g. 'x**2*y', '2x^2 + 3y', '[r*cos(t), r*sin(t)]'; it may start with a minus ('-x^2'). "
         "@file or - (stdin) reads it from there (up to 1 000 000 characters). 'jaccli functions' lists what "
         "it may use.")]
At = Annotated[list[str] | None, typer.Option(
    "--at", "-a", metavar="POINT",
    help="Point: values in variable order (1,2), named (x=1,y=2 or repeated --at), an array ([[1,1],[1,1]]), "
         "@file, or - for stdin. Without it the result is symbolic.")]
AtRequired = Annotated[list[str] | None, typer.Option(
    "--at", "-a", metavar="POINT", show_default=False,
    help="The point (required): values in variable order (1,2), named (x=1,y=2 or repeated --at), an array "
         "([[1,1],[1,1]]), @file, or - for stdin.")]
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


Output = Annotated[str | None, typer.Option(
    "--output", "-o", metavar="FILE",
    help="Write the result to FILE instead of stdout; without --format, .json, .csv, .tex and .txt set the format.")]
DigitsOpt = Annotated[int | None, typer.Option(
    "--digits", metavar="N", help="Print N correct significant digits (1 to 1000) of each entry, from the exact "
    "formula at the point as typed; JSON gives them as strings under \"digits\", beside \"value\".")]
Exact = Annotated[bool, typer.Option("--exact", help="Exact values at an exact point: --at 1/2,pi/3 gives sqrt(3)/2.")]
Points = Annotated[str | None, typer.Option(
    "--points", metavar="FILE", help="Many points, one per line (- for stdin); a header line may name the columns.")]
class Language(str, Enum):
    python = "python"
    numpy = "numpy"
    c = "c"


Emit = Annotated[Language | None, typer.Option(
    "--emit", case_sensitive=False,
    help="Print a standalone function computing the result (numpy code, or C99) instead of numbers.")]
CheckOpt = Annotated[bool, typer.Option("--check", help="Also compare with numeric differentiation (complex step "
                                         "or central differences); exit 1 when they disagree.")]
SkipBad = Annotated[bool, typer.Option("--skip-bad", help="With --points: skip bad lines with a warning.")]
Wrt = Annotated[str | None, typer.Option(
    "--wrt", "-w", metavar="NAMES",
    help="Differentiate by these variables only (x,b); the others are parameters: values from --at, "
         "symbols in formulas.")]


def _wrt(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise JaccliError("--wrt is empty; give names like --wrt x,b")
    return names
StepsOpt = Annotated[bool, typer.Option("--steps", help="Also the derivation of each entry, rule by rule (results of "
                                        "up to 16 entries): under the table, and as the JSON key steps.")]
Det = Annotated[bool, typer.Option("--det", help="Also the determinant (square only): its formula, simplified, "
                                   "and its value at the point; with --points, one determinant per line.")]
Eig = Annotated[bool, typer.Option("--eig", help="Also the eigenvalues (square only) and, at a point, the "
                                   "stability of x' = f(x) there; without a point, formulas for 2×2 and 3×3.")]
Svd = Annotated[bool, typer.Option("--svd", help="Also the singular values at the point: numerical rank, "
                                   "condition number, invertible or singular.")]
NoSimplify = Annotated[bool, typer.Option("--no-simplify", help="Symbolic entries as computed, not simplified "
                                          "(default: the shortest form, softmax entries as s_i).")]


_BY_EXTENSION = {".json": Format.json, ".jsonl": Format.json, ".csv": Format.csv, ".tex": Format.latex,
                 ".txt": Format.plain}


@dataclass
class Out:
    """Where and how a command prints: the options every command shares."""

    format: Format
    precision: int | None
    path: str | None
    check: bool = False  # --check: compare with numeric differentiation
    simplify: bool = True  # symbolic entries in their shortest readable form (pretty); --no-simplify: raw
    digits: int | None = None  # --digits N: N correct significant digits from the exact formula

    def __post_init__(self):
        if self.digits is not None:
            limits.check_digits(self.digits)  # before the work

    def resolve(self, many: bool = False) -> Format:
        """--format, or for auto: from the -o file's extension, else a table on a terminal (plain lines for
        many points, which a table cannot hold), else plain."""
        if self.format is not Format.auto:
            return self.format
        if self.path is not None:
            suffix = os.path.splitext(self.path)[1].lower()
            return _BY_EXTENSION.get(suffix, Format.plain)
        interactive = sys.stdout is not None and sys.stdout.isatty()
        return Format.table if interactive and not many else Format.plain

    @contextmanager
    def stream(self):
        """stdout, or ``-o FILE`` written atomically: a failed run leaves FILE as it was."""
        if self.path is None:
            yield streams.stdout_sink()
            return
        with streams.atomic_file(self.path) as sink:
            yield sink


def print_result(result, out: Out) -> None:
    """Print ``result`` as ``out`` says, its warnings on stderr, and exit with its code."""
    from . import render

    if out.digits is not None:  # N correct digits of each entry, for every command that verifies its numbers
        from . import accuracy

        accuracy.attach_digits(result, out.digits)
    fmt = out.resolve()
    if out.simplify and _shows_formulas(result, fmt) and result.exact is None:
        from . import pretty

        pretty.readable(result)
    with out.stream() as stream:
        if fmt is Format.table:
            _print_table(stream, result, out.precision)
        elif fmt is Format.heatmap:
            _print_heatmap(stream, result)
        elif fmt in (Format.json, Format.plain):  # in pieces: 10^7 numbers are never one string
            pieces = render.json_chunks(result) if fmt is Format.json else render.plain_chunks(result, out.precision)
            for piece in pieces:
                stream.write(piece)
        else:
            writer = {Format.csv: render.csv, Format.latex: render.latex}[fmt]
            stream.write(writer(result, out.precision))
    if fmt in (Format.plain, Format.csv, Format.latex) and _shows_formulas(result, fmt):  # JSON: "where"
        for note in render.where(result):
            print(f"Note: {note}", file=sys.stderr)
    if fmt is Format.csv:  # CSV holds the grid only: det J, eigenvalues… go to stderr (JSON has them as keys)
        for line in result.summary:
            print(f"Note: {line}", file=sys.stderr)
    for note in result.notes:
        print(f"Note: {note}", file=sys.stderr)
    for warning in result.warnings:
        streams.say(f"Warning: {warning}")
    if "ok" in result.extra:
        x = result.extra
        verdict = ("agrees" if x["ok"] else "DISAGREES" if x.get("disagrees")
                   else "cannot compare" if x["max_abs_error"] is None or not x.get("compared", 1)
                   else "agrees where comparable")
        errors = [render.number(float("nan") if x[k] is None else x[k], 3) for k in ("max_abs_error", "max_rel_error")]
        streams.say(f"Check: {verdict} with {x['check_method']}: max abs error {errors[0]}, max rel error {errors[1]}")
    raise typer.Exit(result.exit_code)


def _print_heatmap(stream, result) -> None:
    """The matrix as one coloured character per entry (binned to the terminal), with a legend."""
    from rich.console import Console

    from . import pictures

    console = Console(file=stream)
    height = console.height if console.is_terminal or "LINES" in os.environ else None
    console.print(pictures.heatmap(result, max(console.width, MIN_TABLE_WIDTH), height))


def _shows_formulas(result, fmt: Format) -> bool:
    """Whether the output prints symbolic entries: JSON always, a table beside small results, else without a point."""
    if result.symbolic is None:
        return False
    from . import render

    return fmt is Format.json or result.value is None or (
        fmt is Format.table and result.symbolic.size <= render.SYMBOLIC_CELLS)


MIN_TABLE_WIDTH = 40  # a terminal narrower than this gets every entry rather than one column


def _print_table(stream, result, precision: int | None) -> None:
    """A rich table filling the terminal, never narrower than its narrowest complete form: a narrow terminal
    wraps lines, nothing is cut."""
    from rich.console import Console

    from . import render

    console = Console(file=stream)
    # the height only where there is a screen (or LINES says): a file or pipe has room for every row
    height = console.height if console.is_terminal or "LINES" in os.environ else None
    width = max(console.width, MIN_TABLE_WIDTH)  # narrower (COLUMNS=0, 10): lay out for this, let lines wrap
    table = render.table(result, precision, width, height, ascii_only=not streams.utf(stream.encoding))
    needed = console.measure(table, options=console.options.update_width(1 << 20)).minimum
    if console.width < needed:
        console = Console(file=stream, width=needed)
    console.print(table)


def run(compute: Callable, at: list[str] | None, points: str | None, skip_bad: bool, exact: bool, out: Out,
        language: str | None = None) -> None:
    """One point (or none): ``print_result``. Many points: the result's evaluator once, then every line.

    With ``language`` (--emit), print generated code for the symbolic result instead.
    """
    if language is not None:
        from . import codegen

        if points is not None or exact:
            raise JaccliError("--emit prints code for the symbolic result; drop --points and --exact")
        result = compute(at=at, exact=False, check=False)
        with out.stream() as stream:
            stream.write(codegen.for_result(result, result.symbols, language))
        raise typer.Exit(0)
    if points is None:
        if skip_bad:
            raise JaccliError("--skip-bad goes with --points")
        print_result(compute(at=at, exact=exact, check=out.check), out)
    if at:
        raise JaccliError("give either --at or --points, not both")
    if out.check:
        raise JaccliError("--check works with --at, not --points")
    if out.digits is not None:
        raise JaccliError("--digits works with --at, not --points")
    if exact:
        raise JaccliError("--exact works with --at, not --points")
    from . import batch, render

    fmt = out.resolve(many=True)
    if fmt in (Format.table, Format.latex, Format.heatmap):
        raise JaccliError(f"--points prints plain, csv or json lines, not {fmt.value}")
    peek = batch.Peek(batch.Lines(_open_points(points), skip_bad))
    result = compute(at=None, exact=False, width=peek.width, many=True, check=False)
    entries = max(1, int(np.prod(result.shape, dtype=np.int64)) + len(result.variables))
    reader = batch.PointReader(peek, result.variables, skip_bad,  # chunks of at most MAX_BATCH_ENTRIES numbers
                               chunk_lines=max(1, min(batch.CHUNK_LINES, limits.MAX_BATCH_ENTRIES // entries)))
    from . import accuracy

    code, not_finite = 0, False
    written = doubtful = 0  # points written; points with entries in doubt (the first few are named)
    with out.stream() as stream, _progress(points) as advance:
        stream.write(render.batch_header(fmt, result.variables, render.batch_labels(result)))
        pending = None  # the previous chunk's text, being written out by a forked child
        for chunk in reader:
            if len(chunk.values):  # a chunk may hold no good line: only its warnings or its error
                values, _ = result.numbers.at(chunk.values)
                values, digits, doubt = accuracy.estimate_rows(result.numbers, chunk.values, values)
                text = _batch_text(fmt, chunk, values, result.shape, out.precision)
                if pending is not None:
                    stream.write(pending())
                pending = text if callable(text) else None
                if pending is None:
                    stream.write(text)
                if not np.all(np.isfinite(values)):
                    code, not_finite = 1, True
                for row in np.flatnonzero(doubt.reshape(len(values), -1).any(axis=1)):
                    doubtful += 1
                    code = 1
                    if doubtful <= accuracy.NAMED_POINTS:
                        streams.say("Warning: " + accuracy.row_warning(result, written + int(row) + 1, digits[row],
                                                                        doubt[row]))
                written += len(values)
            for message in chunk.skipped:
                streams.say(f"Warning: {message}")
            if chunk.error:
                if pending is not None:
                    stream.write(pending())  # the lines before the bad one are kept, as without the pipeline
                raise JaccliError(chunk.error)
            advance(reader.line_number)
        if pending is not None:
            stream.write(pending())
    if doubtful > accuracy.NAMED_POINTS:
        streams.say(f"Warning: {doubtful} points in all have entries with fewer than {accuracy.TRUSTED_DIGITS} "
                    f"correct significant digits (the first {accuracy.NAMED_POINTS} are named above)")
    if not_finite:
        streams.say("Warning: some results are not finite (NaN or infinite)")
    raise typer.Exit(code)


PIPELINE_LINES = 2048  # --points chunks from this many lines are written out by a forked child (see _batch_text)


def _batch_text(fmt, chunk, values: np.ndarray, shape: tuple[int, ...], precision: int | None):
    """A chunk's lines as text, or, for a chunk of ``PIPELINE_LINES`` or more, a callable that waits for them from a
    forked child, which formats them while this process reads and computes the next chunk. Writing the numbers
    out is most of a batch's time (repr of each float, 0.4 µs) and was done between computing one chunk and
    reading the next, on two processes, with the second core idle the rest of the time; now the two overlap
    (bench/run.py's softmax batch: 0.69 → 0.5x s). The child formats on one process (no nested fork)."""
    from . import numtext, render

    def work(parallel: bool = True) -> str:
        return render.batch_rows(fmt, chunk.values, values, shape, precision, chunk.texts, parallel=parallel)

    if len(values) < PIPELINE_LINES:
        return work()
    wait = numtext.start_bytes(lambda: work(parallel=False).encode())
    if wait is None:
        return work()
    return lambda: wait().decode()


def _open_points(points: str):
    """The binary stream behind --points: stdin (``-``) or the file."""
    if points == "-":
        if sys.stdin is None or "stdin" in streams.State.closed:
            raise JaccliError("cannot read stdin (--points -): it is closed")
        return getattr(sys.stdin, "buffer", sys.stdin)
    try:
        return open(points, "rb")
    except OSError as exc:
        raise JaccliError(f"cannot read {points}: {exc.strerror or exc}") from None


def check_inputs(sources: list[tuple[str, str]], output: str | None) -> None:
    """Refuse, before any work, two readers of one stream and an output file that is also an input.

    ``sources`` are (option, spec) pairs: ``("--at", "-")``, ``("--v", "@v.txt")``, ``("--points", "f.csv")``.
    stdin (``-``) may be read by one option only; so may a pipe or terminal named as a file (/dev/stdin).
    """
    from .points import _NAMED

    for option, spec in [*sources, ("-o", output or "")]:
        if "\0" in spec and (option in ("--points", "-o") or "@" in spec):  # open() would raise ValueError
            raise JaccliError(f"{option}: a file name cannot hold a NUL character")
    seen: list[tuple[str, os.stat_result | None, bool]] = []  # (option, file identity, is stdin)
    for option, spec in sources:
        match = _NAMED.match(spec) if option == "--at" else None
        text = match.group(2).strip() if match else spec
        path = text if option == "--points" and text != "-" else text[1:] if text.startswith("@") else None
        if text != "-" and path is None:
            continue
        info = _stat(path) if path is not None else (_fstat(0) if sys.stdin is not None else None)
        for other, other_info, other_stdin in seen:
            shared = (text == "-" and other_stdin) or _same(info, other_info) and not _regular(info)
            if shared:
                raise JaccliError(f"{other} and {option} both read {'stdin' if text == '-' else path}; "
                                  "one stream can be read once: give one of them from a file")
        seen.append((option, info, text == "-"))
    if output is not None:
        target = _stat(output)
        for option, info, _ in seen:
            if _regular(target) and _same(target, info):  # a device or FIFO as -o is not destroyed
                raise JaccliError(f"-o {output} is also an input ({option}); write the result to another file")


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (OSError, ValueError):
        return None


def _fstat(fd: int) -> os.stat_result | None:
    try:
        return os.fstat(fd)
    except OSError:
        return None


def _same(a: os.stat_result | None, b: os.stat_result | None) -> bool:
    return a is not None and b is not None and (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _regular(info: os.stat_result | None) -> bool:
    import stat

    return info is not None and stat.S_ISREG(info.st_mode)


@contextmanager
def _progress(points: str):
    """A progress bar on stderr when it is a terminal; nothing in a pipe."""
    if sys.stderr is None or not sys.stderr.isatty():
        yield lambda lines: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"points from {'stdin' if points == '-' else points}", total=None)
        yield lambda lines: progress.update(task, completed=lines)


# --- commands ----------------------------------------------------------------------------------


def expression_text(spec: str, sources: list[tuple[str, str]], output: str | None) -> str:
    """EXPR as typed, or the expression in ``@file`` or ``-`` (stdin), for commands whose argv cannot hold it.

    The one-reader rule and -o are checked first with the other ``sources``, a file's size before it is read
    (limits.MAX_EXPRESSION_BYTES). An expression from a file is parsed here once so that an error names the
    file and a position but never quotes what the file holds (it might not be an expression at all).
    """
    read = spec == "-" or spec.startswith("@")
    check_inputs([("EXPR", spec)] * read + sources, output)
    if not read:
        return spec
    from . import parsing, points

    where = points.origin(spec)
    text = points.read_source(spec, limit=limits.MAX_EXPRESSION_BYTES, what="an expression").strip()
    try:
        parsing.parse_tree(text)
    except JaccliError as exc:
        column = getattr(exc, "column", None)
        at = f" at character {column + 1}" if column is not None else ""
        raise type(exc)(f"{where}: {_unquoted(str(exc), text, exc)}{at}") from None
    return text


_WORD = re.compile(r"\w+")


def _unquoted(message: str, text: str, exc: JaccliError) -> str:
    """A parse message that quotes nothing of ``text``: without its quoted parts and suggestions, and if a word
    of what is left occurs in the text (a name, a number from it), only what kind of error it is."""
    from .errors import LimitError, UnknownNameError

    message = re.sub(r"'[^']*'|\([^)]*\bU\+[^)]*\)", "…", message.split(" — ")[0])
    if set(_WORD.findall(message)) & set(_WORD.findall(text)):
        if isinstance(exc, UnknownNameError):
            return "unknown name or function"
        return "beyond a limit (see the README's limits table)" if isinstance(exc, LimitError) else "syntax error"
    return message


def _run_expression(compute: Callable, expression: str, vars: str | None, shape: list[str] | None,
                    at: list[str] | None, points: str | None, skip_bad: bool, exact: bool, out: Out,
                    emit: Language | None, **options) -> None:
    """The body every expression command shares: the same computation at one point, none, or many."""
    names = _variables(vars)
    sources = [("--at", spec) for spec in at or []] + ([("--v", options["v"])] if "v" in options else [])
    sources += [("--points", points)] * (points is not None)
    expression = expression_text(expression, sources, out.path)

    fixed = None
    if points is not None and isinstance(options.get("wrt"), list):
        fixed, at = at or [], None  # with --points, --at gives the parameters (the variables not in --wrt)

    def call(at, exact, check, width=None, many=False):
        more = {"fixed": fixed} if fixed is not None else {}
        shapes = _shapes_for(expression, names, shape, width, options.get("wrt"))
        return compute(expression, at=at, variables=names, shapes=shapes, exact=exact, many=many, check=check,
                       **options, **more)

    run(call, at, points, skip_bad, exact, out, emit.value if emit else None)


def _shapes_for(expression: str, names: list[str] | None, specs: list[str] | None, width: int | None,
                wrt=None) -> dict:
    """--shape values; with --points, a lone variable (of --wrt) is an array as wide as the lines."""
    shapes = _shapes(specs)
    if shapes:  # a misspelt name would leave the variable scalar, silently
        from .parsing import parse, suggest

        variables = parse(expression, names).variables
        unknown = [name for name in shapes if name not in variables]
        if unknown:
            raise JaccliError(f"--shape names {', '.join(unknown)}, which the expression does not use (its "
                              f"variables: {', '.join(variables) or 'none'}){suggest(unknown[0], variables)}")
    if width and width > 1:
        from .parsing import parse

        variables = wrt if isinstance(wrt, list) else parse(expression, names).variables
        if len(variables) == 1 and variables[0] not in shapes:
            shapes[variables[0]] = (width,)
    return shapes


@app.command(cls=_Command)
def derivative(
    expression: Expression,
    wrt: Annotated[str | None, typer.Option("--wrt", "-w", help="The variable (needed when there are several).")]
    = None,
    order: Annotated[int, typer.Option("--order", "-k", help="Order k of d^k f/dx^k.")] = 1,
    at: At = None, vars: Vars = None, shape: Shape = None, points: Points = None, skip_bad: SkipBad = False,
    exact: Exact = False, format: FormatOpt = Format.auto, precision: Precision = None, output: Output = None,
    emit: Emit = None, check: CheckOpt = False, no_simplify: NoSimplify = False, steps: StepsOpt = False,
    digits: DigitsOpt = None,
) -> None:
    """d^k f/dx^k, entry by entry: shaped like f.

    An array point for x gives the derivative at each of its entries.

    \b
    Example:  jaccli derivative "x**2" --at 3            → 6
    Example:  jaccli derivative "sin(x)" --order 3       → -cos(x)
    Example:  jaccli derivative "x**2*sin(x)" --steps    → product rule, power rule, sin'(x) = cos(x)
    """
    from . import compute

    if steps and order != 1:
        raise JaccliError("--steps shows first derivatives; drop --order or --steps")
    _run_expression(_with_steps(compute.derivative, "derivative", steps, points, emit), expression, vars, shape, at,
                    points, skip_bad, exact,
                    Out(format, precision, output, check, not no_simplify, digits), emit, wrt=wrt, order=order)


@app.command(cls=_Command)
def gradient(
    expression: Expression, at: At = None, vars: Vars = None, shape: Shape = None, points: Points = None,
    wrt: Wrt = None,
    skip_bad: SkipBad = False, exact: Exact = False, format: FormatOpt = Format.auto, precision: Precision = None,
    output: Output = None, emit: Emit = None, check: CheckOpt = False, no_simplify: NoSimplify = False,
    steps: StepsOpt = False, digits: DigitsOpt = None,
) -> None:
    """∇f of a scalar function, shaped like its input.

    \b
    Example:  jaccli gradient "sum(x*2)" --at "[[1,1],[1,1]]"     → 2 everywhere, 2×2
    Example:  jaccli gradient "x*exp(y)" --steps                  → the rules behind [exp(y), x*exp(y)]
    """
    from . import compute

    _run_expression(_with_steps(compute.gradient, "gradient", steps, points, emit), expression, vars, shape, at,
                    points, skip_bad, exact,
                    Out(format, precision, output, check, not no_simplify, digits), emit, wrt=_wrt(wrt))


@app.command(cls=_Command)
def jacobian(
    expression: Expression, at: At = None, vars: Vars = None, shape: Shape = None, points: Points = None,
    wrt: Wrt = None,
    skip_bad: SkipBad = False, exact: Exact = False, format: FormatOpt = Format.auto, precision: Precision = None,
    output: Output = None, emit: Emit = None, check: CheckOpt = False, no_simplify: NoSimplify = False,
    det: Det = False, eig: Eig = False, svd: Svd = False, steps: StepsOpt = False, digits: DigitsOpt = None,
) -> None:
    """The Jacobian J, m×n: rows are the outputs, columns the inputs.

    --det, --eig and --svd add what J tells: its determinant, eigenvalues (with the stability of x' = f(x)),
    singular values (rank, condition number).

    \b
    Example:  jaccli jacobian "x*2" --at 1,1                            → 2·I
    Example:  jaccli jacobian "[r*cos(t), r*sin(t)]" --vars r,t --at 2,0.5
    Example:  jaccli jacobian "[r*cos(t), r*sin(t)]" --vars r,t --det   → det J = r
    """
    from . import compute

    _run_expression(_analysed(_with_steps(compute.jacobian, "jacobian", steps, points, emit), det, eig, svd, points,
                              emit), expression, vars, shape, at, points,
                    skip_bad, exact, Out(format, precision, output, check, not no_simplify, digits), emit,
                    wrt=_wrt(wrt))


def _with_steps(compute: Callable, command: str, steps: bool, points: str | None, language) -> Callable:
    """``compute``, followed by the derivation of each entry (--steps)."""
    if not steps:
        return compute
    if points is not None or language is not None:
        raise JaccliError("--steps shows one symbolic result; drop --points and --emit")

    def call(*args, **kwargs):
        from . import steps as derivation

        result = compute(*args, **kwargs)
        derivation.attach(result, command)
        return result

    return call


def _analysed(compute: Callable, det: bool = False, eig: bool = False, svd: bool = False, points: str | None = None,
              language=None) -> Callable:
    """``compute``, followed by what --det, --eig and --svd add to its result."""
    if not (det or eig or svd):
        return compute
    if language is not None:
        raise JaccliError("--emit prints code for the matrix; drop --det, --eig and --svd")
    if points is not None and (eig or svd):
        raise JaccliError("--eig and --svd work at one point (--at); with --points, only --det")
    from . import analysis

    def call(*args, many=False, **kwargs):
        result = compute(*args, many=many, **kwargs)
        if many:
            return analysis.determinant_batch(result)
        if det:
            analysis.determinant(result)
        if eig:
            analysis.eigenvalues(result)
        if svd:
            analysis.singular_values(result)
        return result

    return call


@app.command(cls=_Command)
def hessian(
    expression: Expression, at: At = None, vars: Vars = None, shape: Shape = None, points: Points = None,
    wrt: Wrt = None,
    skip_bad: SkipBad = False, exact: Exact = False, format: FormatOpt = Format.auto, precision: Precision = None,
    output: Output = None, emit: Emit = None, check: CheckOpt = False, no_simplify: NoSimplify = False,
    svd: Svd = False, digits: DigitsOpt = None,
) -> None:
    """∇²f of a scalar function: n×n and symmetric.

    \b
    Example:  jaccli hessian "x**2*y + y**3" --at 1,2       → [[4, 2], [2, 12]]
    Example:  jaccli hessian "x**2 + x*y + y**2" --at 0,0 --svd   → rank 2, condition number 3
    """
    from . import compute

    if svd and points is not None:
        raise JaccliError("--svd works at one point (--at), not with --points")
    _run_expression(_analysed(compute.hessian, svd=svd, language=emit), expression, vars, shape, at, points,
                    skip_bad, exact, Out(format, precision, output, check, not no_simplify, digits), emit,
                    wrt=_wrt(wrt))


class Coords(str, Enum):
    cartesian = "cartesian"
    polar = "polar"
    cylindrical = "cylindrical"
    spherical = "spherical"


CoordsOpt = Annotated[Coords, typer.Option(
    "--coords", case_sensitive=False,
    help="The coordinates the variables are, in --vars order: cartesian; polar (r, θ); cylindrical (r, θ, z); "
         "spherical (r, θ from the z axis, φ the azimuth).")]


def _field(op: str, expression: str, coords: Coords, vars, at, points, skip_bad, exact, out: Out) -> None:
    from . import vector_calculus

    def compute(expression, **kwargs):
        return vector_calculus.field_operator(op, expression, coords=coords.value, **kwargs)

    _run_expression(compute, expression, vars, None, at, points, skip_bad, exact, out, None)


@app.command(cls=_Command)
def div(
    expression: Expression, at: At = None, vars: Vars = None, coords: CoordsOpt = Coords.cartesian,
    points: Points = None, skip_bad: SkipBad = False, exact: Exact = False, format: FormatOpt = Format.auto,
    precision: Precision = None, output: Output = None, no_simplify: NoSimplify = False, digits: DigitsOpt = None,
) -> None:
    """The divergence ∇·F of a vector field with one component per variable: the trace of J in Cartesian
    coordinates, with the scale factors in the others.

    \b
    Example:  jaccli div "[x*y, y*z, z*x]"                            → x + y + z
    Example:  jaccli div "[r, 0]" --coords polar --vars r,t          → 2
    """
    _field("div", expression, coords, vars, at, points, skip_bad, exact,
           Out(format, precision, output, simplify=not no_simplify, digits=digits))


@app.command(cls=_Command)
def curl(
    expression: Expression, at: At = None, vars: Vars = None, coords: CoordsOpt = Coords.cartesian,
    points: Points = None, skip_bad: SkipBad = False, exact: Exact = False, format: FormatOpt = Format.auto,
    precision: Precision = None, output: Output = None, no_simplify: NoSimplify = False, digits: DigitsOpt = None,
) -> None:
    """The curl ∇×F of a 3-D vector field (the antisymmetric part of J), or the scalar curl of a 2-D one.

    \b
    Example:  jaccli curl "[-y, x, 0]"                               → [0, 0, 2]
    Example:  jaccli curl "[-y, x]" --at 1,2                         → 2
    """
    _field("curl", expression, coords, vars, at, points, skip_bad, exact,
           Out(format, precision, output, simplify=not no_simplify, digits=digits))


@app.command(cls=_Command)
def laplacian(
    expression: Expression, at: At = None, vars: Vars = None, coords: CoordsOpt = Coords.cartesian,
    points: Points = None, skip_bad: SkipBad = False, exact: Exact = False, format: FormatOpt = Format.auto,
    precision: Precision = None, output: Output = None, no_simplify: NoSimplify = False, digits: DigitsOpt = None,
) -> None:
    """The Laplacian ∇²f of a scalar function: the trace of the Hessian in Cartesian coordinates.

    \b
    Example:  jaccli laplacian "x**2 + y**2 + z**2"                  → 6
    Example:  jaccli laplacian "1/r" --coords spherical --vars r,theta,phi   → 0
    """
    _field("laplacian", expression, coords, vars, at, points, skip_bad, exact,
           Out(format, precision, output, simplify=not no_simplify, digits=digits))


@app.command(cls=_Command)
def taylor(
    expression: Expression, at: AtRequired = None,
    order: Annotated[int, typer.Option("--order", "-k", help="The order K of the polynomial (1: the tangent plane).")]
    = 1,
    vars: Vars = None, shape: Shape = None, format: FormatOpt = Format.auto, precision: Precision = None,
    output: Output = None, emit: Emit = None,
) -> None:
    """The Taylor polynomial of f (scalar or vector) around the point, up to order K, in powers of (x − P).

    Exact: the point is read as typed (pi/3 is π/3, 0.5 is 1/2). K = 1 is the linearisation.

    \b
    Example:  jaccli taylor "exp(x)" --at 0 --order 3                → 1 + x + x**2/2 + x**3/6
    Example:  jaccli taylor "x**2 + y**2" --at 1,2                    → 5 + 2*(x - 1) + 4*(y - 2)
    """
    from .taylor import taylor as compute_taylor

    expression = expression_text(expression, [("--at", spec) for spec in at or []], output)
    result = compute_taylor(expression, at, _variables(vars), order, _shapes(shape))
    out = Out(format, precision, output, simplify=False)  # already in the form people write
    if emit is not None:
        from . import codegen

        with out.stream() as stream:
            stream.write(codegen.for_result(result, result.symbols, emit.value))
        raise typer.Exit(0)
    print_result(result, out)


@app.command(cls=_Command)
def critical(
    expression: Expression, at: At = None, vars: Vars = None,
    constraint: Annotated[list[str] | None, typer.Option(
        "--constraint", "-c", metavar="G",
        help="An equality constraint, g (meaning g = 0) or lhs = rhs; repeat for several (Lagrange multipliers).")]
    = None,
    format: FormatOpt = Format.auto, precision: Precision = None, output: Output = None,
) -> None:
    """Critical points of a scalar function, each classified: minimum, maximum, saddle or degenerate.

    Solved exactly by sympy when it can (within a time budget); otherwise by Newton's method from --at.
    With --constraint, the Lagrange points, classified by the bordered-Hessian test.

    \b
    Example:  jaccli critical "x**3 - 3*x + y**2"                    → (-1, 0) saddle, (1, 0) minimum
    Example:  jaccli critical "x*y" --constraint "x + y = 2"         → (1, 1) maximum, λ = 1
    """
    from .critical import critical as compute_critical

    expression = expression_text(expression, [("--at", spec) for spec in at or []], output)
    print_result(compute_critical(expression, at, _variables(vars), constraint),
                 Out(format, precision, output, simplify=False))


VectorOpt = Annotated[str, typer.Option(
    "--v", metavar="V", show_default=False,
    help="The vector: same syntax as --at (1,2,3, [[1,0],[0,1]], @file, -).")]


@app.command(cls=_Command)
def vjp(
    expression: Expression, at: At = None, v: VectorOpt = ..., vars: Vars = None, shape: Shape = None,
    wrt: Wrt = None,
    points: Points = None, skip_bad: SkipBad = False, exact: Exact = False, format: FormatOpt = Format.auto,
    precision: Precision = None, output: Output = None, check: CheckOpt = False, no_simplify: NoSimplify = False,
    digits: DigitsOpt = None,
) -> None:
    """Jᵀv, the vector-Jacobian product, shaped like the input: what PyTorch's y.backward(v) puts in x.grad.

    V has one entry per output of the expression.

    \b
    Example:  jaccli vjp "x*1024" --at 0.3,-0.2,0.9 --v 0.1,1.0,0.0001     → [102.4, 1024, 0.1024]
    """
    from . import compute

    _run_expression(compute.vjp, expression, vars, shape, at, points, skip_bad, exact,
                    Out(format, precision, output, check, not no_simplify, digits), None, v=v, wrt=_wrt(wrt))


@app.command(cls=_Command)
def jvp(
    expression: Expression, at: At = None, v: VectorOpt = ..., vars: Vars = None, shape: Shape = None,
    wrt: Wrt = None,
    points: Points = None, skip_bad: SkipBad = False, exact: Exact = False, format: FormatOpt = Format.auto,
    precision: Precision = None, output: Output = None, check: CheckOpt = False, no_simplify: NoSimplify = False,
    digits: DigitsOpt = None,
) -> None:
    """J·v, the Jacobian-vector product (directional derivative), shaped like the output.

    V has one entry per input (the shape of a single variable, or one per variable).

    \b
    Example:  jaccli jvp "[x*y, x+y]" --at 2,3 --v 1,0                      → [3, 1]
    """
    from . import compute

    _run_expression(compute.jvp, expression, vars, shape, at, points, skip_bad, exact,
                    Out(format, precision, output, check, not no_simplify, digits), None, v=v, wrt=_wrt(wrt))


@app.command(cls=_Command)
def hvp(
    expression: Expression, at: At = None, v: VectorOpt = ..., vars: Vars = None, shape: Shape = None,
    wrt: Wrt = None,
    points: Points = None, skip_bad: SkipBad = False, exact: Exact = False, format: FormatOpt = Format.auto,
    precision: Precision = None, output: Output = None, check: CheckOpt = False, no_simplify: NoSimplify = False,
    digits: DigitsOpt = None,
) -> None:
    """H·v, the Hessian-vector product of a scalar function, shaped like the input: H is never formed.

    V has one entry per input. Forward-over-reverse: the cost of a few evaluations of f, at any size.

    \b
    Example:  jaccli hvp "x**2*y + y**3" --at 1,2 --v 1,0                   → [4, 2]
    """
    from . import compute

    _run_expression(compute.hvp, expression, vars, shape, at, points, skip_bad, exact,
                    Out(format, precision, output, check, not no_simplify, digits), None, v=v, wrt=_wrt(wrt))


@app.command(cls=_Command)
def chain(
    f: Annotated[str, typer.Argument(metavar="F", show_default=False,
                                     help="The inner function of x, e.g. 'x*2' (or @file, or - for stdin).")],
    g: Annotated[str, typer.Argument(metavar="G", show_default=False,
                                     help="The outer scalar function of y (F's output), e.g. 'sum(y)' "
                                          "(or @file, or -).")],
    at: AtRequired = None, vars: Vars = None,
    var: Annotated[str | None, typer.Option("--var", metavar="NAME",
                                               help="G's variable, bound to F(x) (default: G's only variable).")]
    = None,
    format: FormatOpt = Format.auto, precision: Precision = None, output: Output = None, digits: DigitsOpt = None,
) -> None:
    """The chain rule for l = G(F(x)): J_F, ∇G at y = F(x), and ∇l = J_Fᵀ ∇G, checked against ∇(G∘F).

    Exit code 1 if the chain-rule product and the directly computed gradient disagree.

    \b
    Example:  jaccli chain "x*2" "sum(y)" --at 1,1                          → J_F = 2·I, ∇G = [1, 1], ∇l = [2, 2]
    """
    from . import compute

    sources = [("F", f), ("G", g), *[("--at", spec) for spec in at or []]]
    check_inputs(sources, output)  # F and G may each be @file or -, as EXPR may: one reader per stream
    f, g = expression_text(f, [], output), expression_text(g, [], output)
    out = Out(format, precision, output, digits=digits)
    print_result(compute.chain(f, g, at, _variables(vars), var), out)


def _reject_unknown_options(ctx: typer.Context, tokens: list[str]) -> None:
    """After ``--`` every word is a logit: say so when one of them is an option of the command."""
    import difflib

    known = [name for param in ctx.command.params for name in getattr(param, "opts", []) if name.startswith("--")]
    for token in tokens:
        if token.startswith("--") and len(token) > 2:
            name = token.split("=", 1)[0]
            if name in known:  # only possible after `--`, which makes everything a logit
                raise click_exceptions.UsageError(f"{name} comes after '--', so it reads as a logit; put options "
                                                  "before --", ctx=ctx)
            raise click_exceptions.NoSuchOption(name, possibilities=difflib.get_close_matches(name, known), ctx=ctx)


@app.command("softmax-jac", cls=_Command)
def softmax_jac(
    ctx: typer.Context,
    logits: Annotated[list[str] | None, typer.Argument(
        metavar="LOGITS...", show_default=False,
        help="The logits z: numbers (negative ones too), '1, 2, 3', [1,2,3], @file or - for stdin.")] = None,
    temperature: Annotated[float, typer.Option("--temperature", metavar="T",
                                               help="Softmax of z/T; J gets the chain-rule factor 1/T.")] = 1.0,
    log: Annotated[bool, typer.Option("--log", help="The Jacobian of log-softmax, I − 1 sᵀ.")] = False,
    vjp: Annotated[str | None, typer.Option("--vjp", metavar="V",
                                               help="Jᵀv in O(n) without forming J; V like a point: 1,2,3, "
                                                    "@file or -.")] = None,
    format: FormatOpt = Format.auto, precision: Precision = None,
    output: Output = None, digits: DigitsOpt = None,
) -> None:
    """The softmax Jacobian J = diag(s) − s sᵀ, with its properties checked.

    Shows the logits (unchanged), s = softmax(z) and J coloured by sign (diagonal positive, the rest negative).

    Stable for large logits and accurate in tiny entries.

    \b
    Example:  jaccli softmax-jac -1.3 0.5 2.1
    Example:  jaccli softmax-jac 1 2 3 --vjp 1,0,0 --temperature 2
    """
    from .softmax_report import softmax_jac as compute_softmax_jac

    _reject_unknown_options(ctx, logits or [])
    check_inputs([("LOGITS", spec.strip()) for spec in logits or []] + [("--vjp", vjp)] * (vjp is not None), output)
    out = Out(format, precision, output, digits=digits)
    print_result(compute_softmax_jac(logits or [], temperature, log, vjp), out)


@app.command(cls=_Command)
def check(
    expression: Expression, at: AtRequired = None, vars: Vars = None, wrt: Wrt = None,
    format: FormatOpt = Format.auto, precision: Precision = None, output: Output = None,
    no_simplify: NoSimplify = False,
) -> None:
    """Verify the symbolic Jacobian against the complex step or central differences at a point.

    Prints the Jacobian; stderr says the largest absolute and relative discrepancy. Exit 1 when
    they disagree beyond the finite-difference error (JSON: value, numeric, max_abs_error, ok).

    \b
    Example:  jaccli check "[r*cos(t), r*sin(t)]" --vars r,t --at 2,0.5      → Check: agrees
    """
    from . import compute

    expression = expression_text(expression, [("--at", spec) for spec in at or []], output)
    print_result(compute.check(expression, at, _variables(vars), wrt=_wrt(wrt)),
                 Out(format, precision, output, simplify=not no_simplify))


class ReferenceFormat(str, Enum):
    text = "text"
    json = "json"


@app.command(cls=_Command)
def plot(
    expression: Expression,
    range_: Annotated[str, typer.Option("--range", "-r", metavar="A,B", show_default=False,
                                        help="The interval of x, e.g. -pi,pi.")] = ...,
    order: Annotated[int, typer.Option("--order", "-k", help="Also draw the derivatives up to this order (0-4).")]
    = 1,
    vars: Vars = None,
    output: Annotated[str | None, typer.Option("--output", "-o", metavar="FILE",
                                                  help="Write a .png or .svg file (needs pip install "
                                                       "'jaccli[plot]') instead of drawing in the terminal.")]
    = None,
) -> None:
    """Draw f and its first K derivatives over an interval: in the terminal, or to a PNG/SVG file.

    f is a function of one number; values where f or a derivative is not finite are left out.

    \b
    Example:  jaccli plot "sin(x)" --range -pi,pi --order 2
    Example:  jaccli plot "tanh(x)" --range -3,3 -o tanh.png
    """
    import shutil

    from . import pictures

    expression = expression_text(expression, [], output)
    low, high = pictures.parse_range(range_)
    name, xs, series = pictures.curves(expression, low, high, order, _variables(vars))
    title = f"f = {expression} and its derivatives" if order else f"f = {expression}"
    if output is not None:
        pictures.file_plot(output, title, name, xs, series)
        raise typer.Exit(0)
    size = shutil.get_terminal_size((100, 30))
    color = sys.stdout is not None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    text = pictures.terminal_plot(title, name, xs, series, max(size.columns, MIN_TABLE_WIDTH),
                                  max(min(size.lines - 2, 30), 12), color)
    streams.stdout_sink().write(text + "\n")
    raise typer.Exit(0)


@app.command(cls=_Command)
def functions(
    format: Annotated[ReferenceFormat, typer.Option("--format", "-f", case_sensitive=False,
                                                    help="text, or json for scripts.")] = ReferenceFormat.text,
) -> None:
    """The expression language: operators, constants, and every function with its summary and an example.

    \b
    Example:  jaccli functions
    Example:  jaccli functions -f json
    """
    import json

    from . import names
    from .registry import CONSTANTS, FUNCTIONS

    if format is ReferenceFormat.json:
        print(json.dumps(names.as_json(FUNCTIONS, CONSTANTS), ensure_ascii=False))
    else:
        print(names.reference(FUNCTIONS, CONSTANTS), end="")


def app_for(args: list[str]) -> typer.Typer:
    """``app``, or a copy of it holding only the command ``args`` start with, if they start with one.

    typer builds the click command of every registered command on each start (signatures, type hints,
    options): for one command's run that is most of jaccli's own start-up. The copy keeps the callback
    (--version) and every setting, so help, usage errors and exit codes are those of the full app; anything
    else (no arguments, --help, an unknown command with its "did you mean", shell completion) gets the full app.
    """
    if not args or "_JACCLI_COMPLETE" in os.environ:  # completion: click reads the words from the environment
        return app
    for info in app.registered_commands:
        if args[0] == (info.name or typer.main.get_command_name(info.callback.__name__)):
            single = copy.copy(app)
            single.registered_commands = [info]
            return single
    return app


def main() -> None:
    """Console-script entry point (and ``python -m jaccli``)."""
    try:
        typer.main.get_command(app_for(sys.argv[1:])).main(prog_name="jaccli")
    finally:
        # The process is about to end: freeze the heap, so that the interpreter's final garbage collections
        # skip everything numpy, sympy and typer built and leave its memory to the OS; tearing it down took
        # ~0.1 s with sympy loaded, 0.02-0.04 s without. Files are closed and streams flushed as usual.
        gc.freeze()
