"""A safe parser for function-plot expressions in one variable, ``x``.

Storyboards come from users and language models, so an expression is data, never
code: it is tokenised and parsed by a small recursive-descent grammar into a tree
of closures over a fixed set of operators and functions. ``eval``, ``compile`` and
attribute access are never involved, and the size and depth of the input are
bounded so that a hostile expression cannot exhaust the parser.

Grammar (``^`` and ``**`` both mean power; juxtaposition such as ``2x`` or
``3 sin(x)`` means multiplication)::

    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary | implicit-unary)*
    unary   := ("+" | "-") unary | power
    power   := atom (("^" | "**") unary)?
    atom    := NUMBER | "x" | CONSTANT | FUNCTION "(" sum ")" | "(" sum ")"
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

MAX_EXPRESSION_LENGTH = 200
MAX_NESTING = 24

Evaluator = Callable[["np.ndarray"], "np.ndarray"]

# Names a storyboard may call, and the numpy ufunc each one means. numpy is imported only
# when a curve is actually evaluated: validating a storyboard must stay cheap to import.
FUNCTIONS: dict[str, str] = {
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "sinh": "sinh",
    "cosh": "cosh",
    "tanh": "tanh",
    "exp": "exp",
    "log": "log",
    "ln": "log",
    "log10": "log10",
    "sqrt": "sqrt",
    "abs": "abs",
}
CONSTANTS = {"pi": math.pi, "e": math.e}

_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+)|([A-Za-z][A-Za-z0-9]*)|(\*\*|[-+*/^()]))")


class ExpressionError(ValueError):
    """The expression is not in the plot grammar; the message says where."""


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "name", "op", "end"
    text: str
    position: int


def _tokenise(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    source = source.rstrip()
    while position < len(source):
        match = _TOKEN.match(source, position)
        if not match:
            raise ExpressionError(f"unexpected character {source[position : position + 1]!r} at {position + 1}")
        number, name, op = match.groups()
        start = match.start(match.lastindex or 0)
        if number is not None:
            tokens.append(_Token("number", number, start))
        elif name is not None:
            tokens.append(_Token("name", name, start))
        else:
            tokens.append(_Token("op", op, start))
        position = match.end()
    tokens.append(_Token("end", "", len(source)))
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token]):
        self._tokens = tokens
        self._index = 0
        self._depth = 0

    @property
    def _current(self) -> _Token:
        return self._tokens[self._index]

    def _advance(self) -> _Token:
        token = self._current
        self._index += 1
        return token

    def _expect(self, text: str) -> None:
        if self._current.text != text:
            raise ExpressionError(f"expected {text!r} at {self._current.position + 1}")
        self._advance()

    def _nested(self) -> None:
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise ExpressionError(f"expression nests deeper than {MAX_NESTING} levels")

    def parse(self) -> Evaluator:
        tree = self._sum()
        if self._current.kind != "end":
            raise ExpressionError(f"unexpected {self._current.text!r} at {self._current.position + 1}")
        return tree

    def _sum(self) -> Evaluator:
        left = self._product()
        while self._current.text in ("+", "-"):
            op = self._advance().text
            right = self._product()
            left = _add(left, right) if op == "+" else _subtract(left, right)
        return left

    def _starts_atom(self) -> bool:
        token = self._current
        return token.kind in ("number", "name") or token.text == "("

    def _product(self) -> Evaluator:
        left = self._unary()
        while True:
            if self._current.text in ("*", "/"):
                op = self._advance().text
                right = self._unary()
                left = _multiply(left, right) if op == "*" else _divide(left, right)
            elif self._starts_atom():  # implicit multiplication: 2x, 3 sin(x), (x+1)(x-1)
                left = _multiply(left, self._power())
            else:
                return left

    def _unary(self) -> Evaluator:
        if self._current.text in ("+", "-"):
            op = self._advance().text
            self._nested()
            operand = self._unary()
            self._depth -= 1
            return operand if op == "+" else _negate(operand)
        return self._power()

    def _power(self) -> Evaluator:
        base = self._atom()
        if self._current.text in ("^", "**"):
            self._advance()
            self._nested()
            exponent = self._unary()
            self._depth -= 1
            return _power(base, exponent)
        return base

    def _atom(self) -> Evaluator:
        token = self._advance()
        if token.kind == "number":
            return _constant(float(token.text))
        if token.kind == "name":
            if token.text == "x":
                return lambda x: x
            if token.text in CONSTANTS:
                return _constant(CONSTANTS[token.text])
            if token.text in FUNCTIONS:
                ufunc = FUNCTIONS[token.text]
                self._expect("(")
                self._nested()
                argument = self._sum()
                self._depth -= 1
                self._expect(")")
                return lambda x: getattr(_numpy(), ufunc)(argument(x))
            raise ExpressionError(
                f"unknown name {token.text!r} at {token.position + 1}; use x, pi, e or one of: "
                + ", ".join(sorted(FUNCTIONS))
            )
        if token.text == "(":
            self._nested()
            inner = self._sum()
            self._depth -= 1
            self._expect(")")
            return inner
        where = "end of expression" if token.kind == "end" else f"{token.text!r} at {token.position + 1}"
        raise ExpressionError(f"expected a number, x, a function or '(' but found {where}")


def _numpy() -> Any:
    return importlib.import_module("numpy")


def _constant(value: float) -> Evaluator:
    return lambda x: _numpy().full_like(x, value, dtype=float)


def _add(a: Evaluator, b: Evaluator) -> Evaluator:
    return lambda x: a(x) + b(x)


def _subtract(a: Evaluator, b: Evaluator) -> Evaluator:
    return lambda x: a(x) - b(x)


def _multiply(a: Evaluator, b: Evaluator) -> Evaluator:
    return lambda x: a(x) * b(x)


def _divide(a: Evaluator, b: Evaluator) -> Evaluator:
    return lambda x: a(x) / b(x)


def _negate(a: Evaluator) -> Evaluator:
    return lambda x: -a(x)


def _power(a: Evaluator, b: Evaluator) -> Evaluator:
    return lambda x: _numpy().power(a(x), b(x))


def parse_expression(source: str) -> Evaluator:
    """A vectorised function of x for ``source``, or :class:`ExpressionError`."""
    if not source or not source.strip():
        raise ExpressionError("the expression is empty")
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    return _Parser(_tokenise(source)).parse()


def evaluate(source: str, xs: np.ndarray) -> np.ndarray:
    """``source`` at each of ``xs``; points outside the function's domain become NaN."""
    import numpy as np

    function = parse_expression(source)
    with np.errstate(all="ignore"):
        ys = np.asarray(function(np.asarray(xs, dtype=float)), dtype=float)
    ys = np.broadcast_to(ys, np.shape(xs)).copy()
    ys[~np.isfinite(ys)] = np.nan
    return ys
