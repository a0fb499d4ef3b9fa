"""Where a displayed equation may be broken into lines, found in its LaTeX without running TeX.

A long equation is not shrunk until it fits (it would become unreadably small on a phone);
it is set on several lines, broken where a mathematician breaks a display: before a
relation (``=``, ``<``, ``\\le``, ``\\to``...), else before a binary operator (``+``, ``-``,
``\\times``...), and always at a ``\\\\`` the author wrote. Only breaks at the top level
count: nothing inside braces, ``\\left ... \\right`` or an environment (a fraction, a matrix,
``cases``) is ever split, and never between a command or ``^``/``_`` and what it applies to,
so every piece is whole LaTeX and the pieces typeset together exactly as the equation did.
The author's alignment marks (``&``) are dropped: the lines are aligned here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

RELATIONS = frozenset(
    [
        "=",
        "<",
        ">",
        "\\le",
        "\\leq",
        "\\ge",
        "\\geq",
        "\\ne",
        "\\neq",
        "\\approx",
        "\\equiv",
        "\\sim",
        "\\simeq",
        "\\cong",
        "\\propto",
        "\\to",
        "\\gets",
        "\\mapsto",
        "\\rightarrow",
        "\\leftarrow",
        "\\Rightarrow",
        "\\Leftarrow",
        "\\leftrightarrow",
        "\\Leftrightarrow",
        "\\iff",
        "\\implies",
        "\\impliedby",
        "\\ll",
        "\\gg",
        "\\in",
        "\\notin",
        "\\subset",
        "\\subseteq",
        "\\supset",
        "\\supseteq",
        "\\coloneqq",
        "\\doteq",
        "\\leqslant",
        "\\geqslant",
        "\\parallel",
        "\\perp",
    ]
)
OPERATORS = frozenset(
    [
        "+",
        "-",
        "\\pm",
        "\\mp",
        "\\times",
        "\\cdot",
        "\\div",
        "\\cup",
        "\\cap",
        "\\oplus",
        "\\otimes",
        "\\wedge",
        "\\vee",
        "\\circ",
    ]
)
# Commands that take what follows as an argument (or a delimiter): never broken after.
_TAKES_WHAT_FOLLOWS = frozenset(
    [
        "frac",
        "dfrac",
        "tfrac",
        "cfrac",
        "binom",
        "dbinom",
        "tbinom",
        "sqrt",
        "overline",
        "underline",
        "widehat",
        "widetilde",
        "hat",
        "bar",
        "vec",
        "tilde",
        "dot",
        "ddot",
        "check",
        "breve",
        "acute",
        "grave",
        "mathring",
        "overbrace",
        "underbrace",
        "overset",
        "underset",
        "stackrel",
        "xrightarrow",
        "xleftarrow",
        "mathrm",
        "mathbf",
        "mathit",
        "mathsf",
        "mathtt",
        "mathcal",
        "mathbb",
        "mathfrak",
        "mathscr",
        "boldsymbol",
        "bm",
        "operatorname",
        "text",
        "textbf",
        "textit",
        "textrm",
        "mbox",
        "boxed",
        "phantom",
        "hphantom",
        "vphantom",
        "color",
        "textcolor",
        "not",
        "big",
        "Big",
        "bigg",
        "Bigg",
        "bigl",
        "bigr",
        "Bigl",
        "Bigr",
        "biggl",
        "biggr",
        "Biggl",
        "Biggr",
        "middle",
        "left",
        "right",
        "begin",
        "end",
        "pmod",
        "substack",
    ]
)
# A piece made only of these is invisible, and never stands alone on a line.
_SPACING = re.compile(r"^(\s|\\[,;:! ]|\\quad|\\qquad)*$")
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\s+|.", re.DOTALL)

Break = Literal["start", "relation", "operator"]


@dataclass(frozen=True)
class Piece:
    """A run of the equation that stays on one line: ``before`` says what kind of break precedes it."""

    latex: str
    before: Break


def lines_and_pieces(latex: str) -> list[list[Piece]]:
    """The equation's lines as the author broke them (at top-level ``\\\\``), each cut into pieces
    at the places a line may break."""
    lines: list[list[Piece]] = []
    current: list[Piece] = []
    text = ""
    before: Break = "start"
    depth = 0  # braces, \left...\right and environments all nest here
    previous = ""  # the last token that was not a space
    tokens = _TOKEN.findall(latex)
    for token in tokens:
        if depth == 0 and token == "\\\\":
            current, text = _close(current, text, before), ""
            lines.append(current)
            current, before, previous = [], "start", ""
            continue
        if depth == 0 and token == "&":
            continue
        kind: Break | None = None
        if depth == 0 and text.strip() and _may_break_after(previous):
            if token in RELATIONS:
                kind = "relation"
            elif token in OPERATORS and previous not in RELATIONS | OPERATORS:
                kind = "operator"
        if kind is not None and not _SPACING.match(text):
            current = _close(current, text, before)
            text, before = "", kind
        text += token
        if token in ("{", "\\left", "\\begin"):  # \begin{name}'s braces close at once: its body is one deeper
            depth += 1
        elif token in ("}", "\\right", "\\end"):
            depth = max(0, depth - 1)
        if not token.isspace():
            previous = token
    lines.append(_close(current, text, before))
    return [line for line in lines if line]


def _close(pieces: list[Piece], text: str, before: Break) -> list[Piece]:
    text = text.strip()
    if not text:
        return pieces
    if _SPACING.match(text) and pieces:  # spacing alone joins the piece before it
        return [*pieces[:-1], Piece(pieces[-1].latex + " " + text, pieces[-1].before)]
    return [*pieces, Piece(text, before)]


def _may_break_after(token: str) -> bool:
    """Whether a line may end after ``token``: not after ^, _ or a command that takes what follows."""
    if token in ("^", "_", "{", "\\left", "\\right"):
        return False
    return not (token.startswith("\\") and token[1:] in _TAKES_WHAT_FOLLOWS)


__all__ = ["OPERATORS", "RELATIONS", "Piece", "lines_and_pieces"]
