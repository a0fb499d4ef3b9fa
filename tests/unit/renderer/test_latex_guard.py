"""Dangerous LaTeX is rejected while the storyboard is validated, before TeX ever runs."""

import pytest

from videojob.latex_guard import UnsafeLatexError, check_latex
from videojob.storyboard import InvalidStoryboardError, parse_storyboard

ATTACKS = [
    r"\input{/etc/hostname}",
    r"\include{/etc/passwd}",
    r"x \openin5=/etc/hostname",
    r"\read5 to \x",
    r"\immediate\write18{id}",
    r"\write18{curl evil}",
    r"\catcode`\^=13",
    r"\csname input\endcsname{/etc/hostname}",
    r"\def\x{\input}",
    r"\let\x=\input",
    r"\newcommand{\x}{1}",
    r"\expandafter\x",
    r"^^5cinput{/etc/hostname}",
    r"\begin{filecontents}{x.tex}\end{filecontents}",
    r"\end",
    r"\usepackage{shellesc}",
    r"\makeatletter\@input{/etc/hostname}",
    r"\directlua{os.execute('id')}",
    r"\scantokens{\input /etc/hostname}",
    r"\verbatiminput{/etc/hostname}",
    r"\everyjob{\input x}",
    "{unbalanced",
]


@pytest.mark.parametrize("latex", ATTACKS)
def test_attacks_are_rejected(latex):
    with pytest.raises(UnsafeLatexError):
        check_latex(latex)


@pytest.mark.parametrize(
    "latex",
    [
        r"F = m a",
        r"\frac{d}{dx} e^{x} = e^{x}",
        r"\int_0^\infty e^{-x^2}\,dx = \frac{\sqrt{\pi}}{2}",
        r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}",
        r"f(x) = \begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}",
        r"\sum_{n=1}^{\infty} \frac{1}{n^2} = \frac{\pi^2}{6}",
    ],
)
def test_ordinary_math_passes_unchanged(latex):
    assert check_latex(latex) == latex


def test_an_injected_equation_makes_the_storyboard_invalid_with_a_clear_reason():
    data = {
        "title": "t",
        "scenes": [{"narration": "n", "visual": {"kind": "equation", "latex": r"\input{/etc/hostname}"}}],
    }
    with pytest.raises(InvalidStoryboardError) as caught:
        parse_storyboard(data)
    assert caught.value.errors == [
        r"scenes.0.visual.equation.latex: \input is not allowed in LaTeX "
        "(storyboard equations are math only)"
    ]
