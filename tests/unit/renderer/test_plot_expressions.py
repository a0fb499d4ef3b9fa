"""Function-plot expressions are parsed by a small grammar, never evaluated as Python."""

import math

import numpy as np
import pytest

from videojob.expression import ExpressionError, evaluate, parse_expression


@pytest.mark.parametrize(
    ("source", "x", "expected"),
    [
        ("x^2", 3.0, 9.0),
        ("x**2 - 2x + 1", 1.0, 0.0),
        ("2 sin(x)", math.pi / 2, 2.0),
        ("-x^2", 2.0, -4.0),
        ("(x+1)(x-1)", 3.0, 8.0),
        ("exp(-x^2/2)/sqrt(2 pi)", 0.0, 1 / math.sqrt(2 * math.pi)),
        ("2^3^2", 0.0, 512.0),
        ("abs(x) + ln(e)", -4.0, 5.0),
        ("1.5e2 / x", 3.0, 50.0),
    ],
)
def test_expressions_evaluate_like_the_math_they_spell(source, x, expected):
    assert evaluate(source, np.array([x]))[0] == pytest.approx(expected)


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('id')",
        "x.__class__",
        "open('/etc/passwd')",
        "lambda: 1",
        "x; 1",
        "[x for x in ()]",
        "eval('1')",
        "sin x",
        "x +",
        "(x",
        "x)",
        "",
    ],
)
def test_anything_outside_the_grammar_is_rejected(source):
    with pytest.raises(ExpressionError):
        parse_expression(source)


def test_hostile_nesting_and_length_are_bounded():
    with pytest.raises(ExpressionError, match="nests deeper"):
        parse_expression("(" * 30 + "x" + ")" * 30)
    with pytest.raises(ExpressionError, match="longer than"):
        parse_expression("x+" * 150 + "x")


def test_points_outside_the_domain_become_nan_not_errors():
    ys = evaluate("sqrt(x) + 1/x", np.array([-1.0, 0.0, 4.0]))
    assert math.isnan(ys[0]) and math.isnan(ys[1])
    assert ys[2] == pytest.approx(2.25)


def test_the_error_names_the_unknown_function():
    with pytest.raises(ExpressionError, match="unknown name 'system'"):
        parse_expression("system(x)")
