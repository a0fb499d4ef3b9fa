"""Where a long equation may break into lines (renderer/equation_breaks.py): where a mathematician breaks
a display, never inside what TeX must see whole, so every piece is whole LaTeX."""

import pytest

from videojob.renderer.equation_breaks import lines_and_pieces


def _pieces(latex: str) -> list[list[tuple[str, str]]]:
    return [[(piece.latex, piece.before) for piece in line] for line in lines_and_pieces(latex)]


def test_a_line_breaks_before_relations_and_operators():
    assert _pieces(r"a + b = c \le d") == [
        [("a", "start"), ("+ b", "operator"), ("= c", "relation"), (r"\le d", "relation")]
    ]


def test_the_authors_line_breaks_start_new_lines_and_alignment_marks_are_dropped():
    assert _pieces(r"f(x) &= x^2 \\ &= x \cdot x") == [
        [("f(x)", "start"), ("= x^2", "relation")],
        [("= x", "start"), (r"\cdot x", "operator")],
    ]


@pytest.mark.parametrize(
    "whole",
    [
        r"\frac{a + b}{c - d}",
        r"\left( a + b = c \right)",
        r"\begin{pmatrix} a + b & c \\ d & e - f \end{pmatrix}",
        r"\sqrt{x + 1}",
        r"e^{-x + 1}",
    ],
)
def test_nothing_inside_braces_delimiters_or_environments_is_split(whole):
    assert _pieces(whole) == [[(whole, "start")]]


def test_a_sign_after_a_relation_or_an_operator_or_a_script_stays_with_what_it_signs():
    assert _pieces(r"a = -b + -c") == [[("a", "start"), ("= -b", "relation"), ("+ -c", "operator")]]
    assert _pieces(r"x^+ + 1") == [[("x^+ + 1", "start")]]  # never between ^ and its sign (nor, to be safe, after it)
    assert _pieces(r"-x + y") == [[("-x", "start"), ("+ y", "operator")]]


def test_spacing_alone_never_becomes_a_piece():
    assert _pieces(r"a \, + \, b") == [[(r"a \,", "start"), (r"+ \, b", "operator")]]
