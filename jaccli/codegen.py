"""A command's symbolic result as the source of a standalone function: numpy or C99.

``generate`` prints one function with a parameter per variable (array variables
as numpy arrays or row-major ``const double *``) that returns (numpy) or writes
(C, into ``out``, row-major) the result. Repeated subterms are computed once
(``sympy.cse``, temporaries ``t0, t1, …``), and jaccli's own functions (sigmoid,
softmax, …) become small helpers with the same stable formulas as ``numeric``,
so the generated code reproduces jaccli's numbers to rounding.

``python`` and ``numpy`` print the same code: numpy is needed anyway for the
array result, and numpy's scalar arithmetic gives inf/nan where Python's
``math`` would raise, which is what jaccli itself prints.

Generated code contains no user text except the expression, escaped, in a
docstring or comment: every symbol name is checked against a strict pattern.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
import textwrap
from collections.abc import Callable, Mapping
from itertools import product

import numpy as np
import sympy
from sympy.printing.c import C99CodePrinter, known_functions_C99, reserved_words, reserved_words_c99
from sympy.printing.numpy import NumPyPrinter

from .errors import JaccliError

LANGUAGES = ("python", "numpy", "c")
COMMANDS = ("jacobian", "gradient", "hessian", "derivative", "taylor")

_ENTRY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\[\d+(, \d+)*\])?\Z")
_VARIABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_EXACT_INT = 2**53  # larger integers are printed as the float jaccli evaluates them as

_TITLES = {"jacobian": "Jacobian", "gradient": "gradient", "hessian": "Hessian", "derivative": "derivative",
           "taylor": "Taylor polynomial"}
_SHAPE_RULES = {
    "jacobian": "m x n: row i is output i (outputs flattened row-major), column j is input j",
    "gradient": "shaped like the input for one variable; for several, one entry per input",
    "hessian": "n x n and symmetric: row i and column j are inputs i and j",
    "derivative": "shaped like f: the derivative of each entry of f",
    "taylor": "shaped like f: the Taylor polynomial of each entry of f",
}
_MAX_LISTED = 12  # inputs listed by name in the docstring; beyond, per variable


class CodegenError(JaccliError):
    """The result cannot be printed as code (an unknown function or an unsafe name)."""


def generate(symbolic: np.ndarray, symbols: Mapping[str, np.ndarray], *, command: str, language: str,
             expression: str = "") -> str:
    """Source text of a function named ``command`` computing ``symbolic`` (shape kept, C: row-major ``out``).

    ``symbols`` maps each variable, in parameter order, to its array of Symbols
    (``compute.Problem(...).symbols``); its shape is the parameter's shape.
    ``expression`` only goes into the docstring or comment, escaped.
    """
    if language not in LANGUAGES:
        raise CodegenError(f"unknown language '{language}' (choose from {', '.join(LANGUAGES)})")
    if command not in COMMANDS:
        raise CodegenError(f"unknown command '{command}' (choose from {', '.join(COMMANDS)})")
    symbolic = np.asarray(symbolic, dtype=object)
    c = language == "c"
    params = _parameter_names(list(symbols), _reserved_c(command) if c else _reserved_python(command))
    shapes = {name: np.shape(symbols[name]) for name in symbols}
    entries = _entry_texts(symbols, params, c)

    flat = [_as_sympy(e) for e in symbolic.flat]
    unknown = set().union(*(e.free_symbols for e in flat)) - set(entries) if flat else set()
    if unknown:
        raise CodegenError(f"the result uses {', '.join(sorted(map(str, unknown)))}, which is not an entry "
                           "of any variable")
    prefix = _temporary_prefix(set(params.values()))
    temporaries, reduced = sympy.cse(flat, symbols=sympy.numbered_symbols(prefix, real=True), order="none")
    for temporary, _ in temporaries:
        entries[temporary] = temporary.name

    printer = _CPrinter(entries) if c else _NumpyPrinter(entries)
    try:
        lines = [(t.name, printer.doprint(value)) for t, value in temporaries]
        outputs = [printer.doprint(e) if e != 0 else None for e in reduced]
    except sympy.printing.codeprinter.PrintMethodNotImplementedError as error:
        raise CodegenError(f"cannot print the result as {language}: {str(error).splitlines()[0]}") from None
    build = _c_source if c else _python_source
    modules = set(getattr(printer, "module_imports", {}))
    if modules - {"numpy", "math"}:  # the source must run with numpy alone (math is the standard library)
        raise CodegenError(f"cannot print the result as {language}: it needs {', '.join(sorted(modules))}")
    return build(command, expression, params, shapes, symbolic.shape, lines, outputs, printer.helpers, modules)


def for_result(result, symbols: Mapping[str, np.ndarray], language: str) -> str:
    """``generate`` for a ``Result`` of ``compute``: its symbolic entries, command and expression."""
    return generate(result.symbolic, symbols, command=result.command, language=language,
                    expression=result.expression)



def _as_sympy(entry) -> sympy.Expr:
    """An entry of a symbolic result (a sympy expression, or a plain number such as 0)."""
    if isinstance(entry, sympy.Basic):
        return entry
    if isinstance(entry, (int, np.integer)):
        return sympy.Integer(int(entry))
    return sympy.Float(float(entry))


# --- names ---------------------------------------------------------------------------------


def _reserved_python(command: str) -> Callable[[str], bool]:
    words = set(keyword.kwlist) | set(dir(builtins)) | {"np", "math", "out", command}
    return words.__contains__


_C_MACROS = {"INFINITY", "NAN", "HUGE_VAL", "HUGE_VALF", "HUGE_VALL", "math_errhandling", "errno"}
_C_MACRO_PREFIX = re.compile(r"(M_|FP_|MATH_)")


def _reserved_c(command: str) -> Callable[[str], bool]:
    functions = {f for f in known_functions_C99.values() if isinstance(f, str)}
    functions |= {"fmax", "fmin", "fabs", "log1p", "isnan", "pow", "sqrt", "cbrt"}
    words = set(reserved_words) | set(reserved_words_c99) | functions | _C_MACROS | {"out", command}
    # M_PI, FP_NAN, … may be macros of <math.h>; none of them ends with '_'
    return lambda name: name in words or (bool(_C_MACRO_PREFIX.match(name)) and not name.endswith("_"))


def _parameter_names(names: list[str], reserved: Callable[[str], bool]) -> dict[str, str]:
    """Variable name -> identifier in the generated code: the name, with '_' appended while it clashes."""
    params: dict[str, str] = {}
    taken = set(names)
    for name in names:
        if not _VARIABLE_NAME.match(name):
            raise CodegenError(f"refusing to generate code for the variable name {name!r}")
        param = name
        while reserved(param) or (param != name and param in taken):
            param += "_"
        taken.add(param)
        params[name] = param
    return params


def _entry_texts(symbols: Mapping[str, np.ndarray], params: dict[str, str], c: bool) -> dict:
    """Symbol -> how the generated code reads it: ``x``, ``x[0, 1]`` (numpy) or ``x[1]`` (C, row-major)."""
    texts = {}
    for name, array in symbols.items():
        array = np.asarray(array, dtype=object)
        for index in product(*(range(n) for n in array.shape)):
            symbol = array[index]
            label = f"{name}[{', '.join(map(str, index))}]" if index else name
            if not isinstance(symbol, sympy.Symbol) or symbol.name != label or not _ENTRY_NAME.match(symbol.name):
                raise CodegenError(f"refusing to generate code for the symbol {str(symbol)!r} "
                                   f"(expected {label!r})")
            if not index:
                texts[symbol] = params[name]
            elif c:
                texts[symbol] = f"{params[name]}[{np.ravel_multi_index(index, array.shape)}]"
            else:
                texts[symbol] = f"{params[name]}[{', '.join(map(str, index))}]"
    return texts


def _temporary_prefix(taken: set[str]) -> str:
    """'t', or 't_', 't__', … when a parameter is itself named like t0."""
    prefix = "t"
    while any(re.fullmatch(re.escape(prefix) + r"\d+", name) for name in taken):
        prefix += "_"
    return prefix


def _number(value: sympy.Expr, inf: str, nan: str) -> str:
    """A float literal that round-trips (repr), as jaccli evaluates every number with float()."""
    x = float(value)
    if math.isnan(x):
        return nan
    if math.isinf(x):
        return inf if x > 0 else f"-{inf}"
    return repr(x)


# --- printers ------------------------------------------------------------------------------


class _Printing:
    """What both printers share: entries from a fixed table, exact floats, helpers recorded."""

    _inf = _nan = ""

    def __init__(self, entries: dict, settings: dict):
        super().__init__(settings)
        self.entries = entries
        self.helpers: set[str] = set()

    def _print_Symbol(self, expr):
        try:
            return self.entries[expr]
        except KeyError:
            raise CodegenError(f"refusing to print the unknown symbol {str(expr)!r}") from None

    def _print_Float(self, expr):
        return _number(expr, self._inf, self._nan)

    def _print_Integer(self, expr):
        return str(int(expr)) if abs(int(expr)) <= _EXACT_INT else _number(expr, self._inf, self._nan)

    def _print_Rational(self, expr):
        if abs(expr.p) <= _EXACT_INT and expr.q <= _EXACT_INT:  # exact operands: the division rounds once
            return super()._print_Rational(expr)
        return _number(expr, self._inf, self._nan)

    def _function(self, helper: str) -> str:
        """The name to call for ``helper``, recording that its source is needed."""
        self.helpers.add(helper)
        return self._helper_prefix + helper

    def _call(self, helper: str, *args) -> str:
        return f"{self._function(helper)}({', '.join(self._print(a) for a in args)})"

    def _print_Function(self, expr):
        """A function from the registry whose record says how to print it (e.g. cbrt), else sympy's own rule."""
        from .registry import OPS

        op = OPS.get(type(expr).__name__)
        code = op.code.get(self._language) if op is not None else None
        if code is None:
            return super()._print_Function(expr)
        template, source = code
        if source is not None:
            self.helpers.add(op.name)
        return template.format(*(self._print(a) for a in expr.args))

    def _reciprocal(self, expr, function):
        return f"(1.0/{self._print(function(expr.args[0]))})"

    def _print_sec(self, expr):
        return self._reciprocal(expr, sympy.cos)

    def _print_csc(self, expr):
        return self._reciprocal(expr, sympy.sin)

    def _print_cot(self, expr):
        return self._reciprocal(expr, sympy.tan)

    def _print_Heaviside(self, expr):
        # sympy's convention H(0) = 1/2, the value jaccli uses; an explicit second argument wins
        h0 = expr.args[1] if len(expr.args) > 1 else sympy.Rational(1, 2)
        return self._call("heaviside", expr.args[0], h0)

    def _print_sign(self, expr):
        return self._call("sign", expr.args[0])

    def _print_DiracDelta(self, expr):
        # 0 away from 0, infinite at 0 (as jaccli evaluates it); a derivative order is ignored as there
        return self._call("dirac_delta", expr.args[0])

    def _print_Max(self, expr):
        return self._fold("max", expr.args)

    def _print_Min(self, expr):
        return self._fold("min", expr.args)

    def _fold(self, helper: str, args) -> str:
        """max(a, b, c) as max(a, max(b, c)): a pairwise helper, as numeric reduces with np.maximum."""
        text = self._print(args[-1])
        for arg in reversed(args[:-1]):
            text = f"{self._function(helper)}({self._print(arg)}, {text})"
        return text

    def _print_LogSumExp(self, expr):
        return f"{self._function('logsumexp')}({self._logits(expr.args)})"

    def _softmax_family(self, helper: str, expr) -> str:
        return f"{self._function(helper)}({expr.index}, {self._logits(expr.logits)})"

    def _print_Softmax(self, expr):
        return self._softmax_family("softmax", expr)

    def _print_SoftmaxRest(self, expr):
        return self._softmax_family("softmax_rest", expr)

    def _print_LogSoftmax(self, expr):
        return self._softmax_family("log_softmax", expr)


class _NumpyPrinter(_Printing, NumPyPrinter):
    _inf, _nan = "np.inf", "np.nan"
    _language = "numpy"
    _helper_prefix = "_"  # variables start with a letter, so helpers cannot clash with them

    def __init__(self, entries: dict):
        super().__init__(entries, {"fully_qualified_modules": True, "strict": True})

    def _module_format(self, fqn, register=True):
        text = super()._module_format(fqn, register)
        return "np." + text[len("numpy."):] if text.startswith("numpy.") else text

    def _function(self, helper: str) -> str:
        if helper in ("max", "min"):  # numpy's own, NaN-propagating like numeric
            return f"np.{helper}imum"
        return super()._function(helper)

    def _logits(self, logits) -> str:
        return ", ".join(self._print(z) for z in logits)


class _CPrinter(_Printing, C99CodePrinter):
    _inf, _nan = "HUGE_VAL", "NAN"
    _language = "c"
    _helper_prefix = "jaccli_"

    def __init__(self, entries: dict):
        super().__init__(entries, {"math_macros": {}, "strict": True})

    def _print_NumberSymbol(self, expr):  # pi, E: M_PI is not C99, and no const declarations
        return _number(expr, self._inf, self._nan)

    def _logits(self, logits) -> str:
        # n, then a C99 compound literal: the helper reads the n logits through a pointer
        return f"{len(logits)}, (const double[]){{{', '.join(self._print(z) for z in logits)}}}"


def _record_forms_first() -> None:
    """A record's own code (``Op.code``) wins over the printers' known functions: sympy prints gamma as math.gamma,
    which raises at a pole where jaccli gives inf or NaN, so the record names a helper that does as jaccli does."""
    from .registry import public_ops

    for printer in (_NumpyPrinter, _CPrinter):
        for op in public_ops():
            if op.code.get(printer._language):
                setattr(printer, f"_print_{op.name}", printer._print_Function)


_record_forms_first()


# --- helpers -------------------------------------------------------------------------------
# The formulas of ``numeric`` and ``softmax``: shifted by the max, and 1 - s_i never by subtraction.

_PY_HELPERS = {
    "heaviside": ((), '''
def _heaviside(x, h0):
    return np.heaviside(x, h0)
'''),
    "sign": ((), '''
def _sign(x):
    return np.sign(x)
'''),
    "dirac_delta": ((), '''
def _dirac_delta(x):
    return np.inf if x == 0 else 0.0
'''),
    "logsumexp": ((), '''
def _logsumexp(*z):
    top = np.max(z)
    return top + np.log(np.sum(np.exp(np.subtract(z, top))))
'''),
    "softmax": ((), '''
def _softmax(i, *z):
    e = np.exp(np.subtract(z, np.max(z)))
    return e[i] / np.sum(e)
'''),
    "softmax_rest": ((), '''
def _softmax_rest(i, *z):
    """1 - softmax(z)[i] as the sum of the other entries: no cancellation."""
    e = np.exp(np.subtract(z, np.max(z)))
    return (np.sum(e[:i]) + np.sum(e[i + 1:])) / np.sum(e)
'''),
    "log_softmax": (("logsumexp",), '''
def _log_softmax(i, *z):
    return z[i] - _logsumexp(*z)
'''),
}

_C_MAX_DOC = "/* NaN-propagating like numpy's maximum/minimum (fmax/fmin drop NaN) */"
_C_HELPERS = {
    "max": ((), f'''
{_C_MAX_DOC}
static double jaccli_max(double a, double b)
{{
    return (a >= b || isnan(a)) ? a : b;
}}
'''),
    "min": ((), f'''
{_C_MAX_DOC}
static double jaccli_min(double a, double b)
{{
    return (a <= b || isnan(a)) ? a : b;
}}
'''),
    "heaviside": ((), '''
static double jaccli_heaviside(double x, double h0)
{
    return x > 0 ? 1.0 : x < 0 ? 0.0 : x == 0 ? h0 : x;
}
'''),
    "sign": ((), '''
static double jaccli_sign(double x)
{
    return x > 0 ? 1.0 : x < 0 ? -1.0 : x;
}
'''),
    "dirac_delta": ((), '''
static double jaccli_dirac_delta(double x)
{
    return x == 0 ? INFINITY : 0.0;
}
'''),
    "max_entry": ((), '''
static double jaccli_max_entry(int n, const double *z)
{
    double top = z[0];
    for (int j = 1; j < n; ++j)
        if (z[j] > top || isnan(z[j]))
            top = z[j];
    return top;
}
'''),
    "logsumexp": (("max_entry",), '''
static double jaccli_logsumexp(int n, const double *z)
{
    const double top = jaccli_max_entry(n, z);
    double sum = 0.0;
    for (int j = 0; j < n; ++j)
        sum += exp(z[j] - top);
    return top + log(sum);
}
'''),
    "softmax": (("max_entry",), '''
static double jaccli_softmax(int i, int n, const double *z)
{
    const double top = jaccli_max_entry(n, z);
    double sum = 0.0;
    for (int j = 0; j < n; ++j)
        sum += exp(z[j] - top);
    return exp(z[i] - top) / sum;
}
'''),
    "softmax_rest": (("max_entry",), '''
/* 1 - softmax(z)[i] as the sum of the other entries: no cancellation */
static double jaccli_softmax_rest(int i, int n, const double *z)
{
    const double top = jaccli_max_entry(n, z);
    double before = 0.0, after = 0.0;
    for (int j = 0; j < i; ++j)
        before += exp(z[j] - top);
    for (int j = n - 1; j > i; --j)
        after += exp(z[j] - top);
    return (before + after) / (before + after + exp(z[i] - top));
}
'''),
    "log_softmax": (("logsumexp",), '''
static double jaccli_log_softmax(int i, int n, const double *z)
{
    return z[i] - jaccli_logsumexp(n, z);
}
'''),
}


def _helper_sources(used: set[str], table: dict, language: str) -> list[str]:
    """The helpers' sources, dependencies first, each once: the registry's records', then the table's."""
    from .registry import public_ops

    records = {op.name: ((), op.code[language][1]) for op in public_ops()
               if op.code.get(language) and op.code[language][1]}
    table = {**records, **table}
    needed = set()
    pending = list(used)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(table[name][0])
    return [source.strip("\n") for name, (_, source) in table.items() if name in needed]


# --- assembling the source -----------------------------------------------------------------


def _escaped(text: str) -> str:
    """The expression as printable ASCII with backslash escapes: no newline, quote or non-ASCII left."""
    return text.encode("unicode_escape").decode("ascii").replace('"', '\\"')


def _for_c_comment(text: str) -> str:
    """Escaped, and with */, /* and ?? (trigraphs) broken up so nothing can end or nest the comment."""
    text = _escaped(text)
    while "*/" in text or "/*" in text or "??" in text:
        text = text.replace("*/", "* /").replace("/*", "/ *").replace("??", "? ?")
    return text


def _shape_text(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return f"{shape[0]} entr{'y' if shape[0] == 1 else 'ies'}"
    return "scalar" if shape == () else "x".join(map(str, shape))


def _description(command: str, shape: tuple[int, ...], params: dict[str, str], shapes: dict) -> list[str]:
    """Sentences (ours, never user text) on the result's shape and the inputs' order."""
    labels = [f"{params[n]}[{', '.join(map(str, i))}]" if i else params[n]
              for n in params for i in np.ndindex(shapes[n])]
    if len(labels) <= _MAX_LISTED:
        inputs = ", ".join(labels) or "none"
    else:
        inputs = ", ".join(f"{params[n]} ({math.prod(shapes[n])} entries)" for n in params)
    moved = [f"{name} is the parameter {param}" for name, param in params.items() if name != param]
    sentences = [f"Result: {_shape_text(shape)}, {_SHAPE_RULES[command]}.",
                 f"Inputs, flattened row-major in parameter order: {inputs}."]
    if moved:
        sentences.append(f"Renamed to avoid a reserved name: {'; '.join(moved)}.")
    return sentences


def _wrapped(sentences: list[str], indent: str) -> list[str]:
    return [line for s in sentences for line in textwrap.wrap(s, 100, initial_indent=indent,
                                                                subsequent_indent=indent + "  ")]


def _python_source(command, expression, params, shapes, shape, lines, outputs, helpers, modules) -> str:
    head = [
        f"def {command}({', '.join(params.values())}):",
        f'    """The {_TITLES[command]} of "{_escaped(expression)}", generated by jaccli.',
        "",
        *_wrapped(_description(command, shape, params, shapes), "    "),
        f"    Arrays are numpy arrays; returns an np.ndarray of shape {shape}.",
        '    """',
    ]
    body = []
    for name, param in params.items():
        if shapes[name] == ():
            body.append(f"    {param} = np.float64({param})")
        else:
            body.append(f"    {param} = np.asarray({param}, dtype=np.float64)")
            body.append(f"    if {param}.shape != {shapes[name]}:")
            message = f'"{param} must have shape {shapes[name]}, got " + str({param}.shape)'
            body.append(f"        raise ValueError({message})")
    body += [f"    {name} = {text}" for name, text in lines]
    body.append(f"    out = np.zeros({shape})")
    for index, text in zip(np.ndindex(shape), outputs):
        if text is not None:
            body.append(f"    out[{', '.join(map(str, index)) if index else '()'}] = {text}")
    body.append("    return out")
    sources = _helper_sources(helpers, _PY_HELPERS, "numpy")
    uses_math = "math" in modules or any("math." in source for source in sources)  # a helper may use it (lgamma)
    imports = ["import math", "import numpy as np"] if uses_math else ["import numpy as np"]
    parts = ["\n".join(imports)] + sources + ["\n".join(head + body)]
    return "\n\n\n".join(parts) + "\n"


def _c_source(command, expression, params, shapes, shape, lines, outputs, helpers, modules) -> str:
    size = math.prod(shape)
    arguments = [f"double {p}" if shapes[n] == () else f"const double *{p}" for n, p in params.items()]
    arguments.append("double *out")
    layout = [f"out: {size} double{'' if size == 1 else 's'}, row-major."]
    for name, param in params.items():
        if len(shapes[name]) > 1:
            strides = [math.prod(shapes[name][k + 1:]) for k in range(len(shapes[name]))]
            letters = "ijklmnpqrs"[:len(strides)]
            flat = " + ".join(f"{stride}*{k}" if stride != 1 else k for k, stride in zip(letters, strides))
            layout.append(f"{param}: {_shape_text(shapes[name])}, row-major: {param}[{', '.join(letters)}] "
                          f"is {param}[{flat}].")
        elif shapes[name]:
            layout.append(f"{param}: {_shape_text(shapes[name])}.")
    comment = [
        f'/* The {_TITLES[command]} of "{_for_c_comment(expression)}", generated by jaccli.',
        *_wrapped(_description(command, shape, params, shapes) + layout, " * "),
        " */",
    ]
    body = [f"    const double {name} = {text};" for name, text in lines]
    if any(text is None for text in outputs):
        body.append(f"    for (int k = 0; k < {size}; ++k)")
        body.append("        out[k] = 0.0;")
    body += [f"    out[{k}] = {text};" for k, text in enumerate(outputs) if text is not None]
    function = "\n".join([f"void {command}({', '.join(arguments)})", "{", *body, "}"])
    parts = ["\n".join(comment) + "\n#include <math.h>"] + _helper_sources(helpers, _C_HELPERS, "c") + [function]
    return "\n\n".join(parts) + "\n"
