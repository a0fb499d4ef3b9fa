"""Dangerous LaTeX is rejected while the storyboard is validated, before TeX ever runs."""

import re

import pytest

from videojob.latex_guard import (
    FORBIDDEN_COMMANDS,
    UnsafeLatexError,
    admission_pattern,
    admission_rule,
    check_latex,
)
from videojob.limits import LATEX_MAX_CHARS
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
    # fonts are files: kpathsea would look up, and try to make, a font named /etc/hostname
    r"\font\x=/etc/hostname \x a",
    r"\fontname\tenrm",
    r"\fontfamily{/etc/hostname}\selectfont x",
    # pdfTeX's files, images, objects and map files; stream and log primitives
    r"\pdfximage{/etc/passwd}",
    r"\pdfmapfile{/etc/passwd}",
    r"\pdffilemoddate{/etc/passwd}",
    r"\openout3=x.tex",
    r"\closein3",
    r"\special{ps: (/etc/passwd) run}",
    r"\showbox0",
    r"\tracingonline=1",
    r"\luaexec{os.execute('id')}",
    r"\primitive\input /etc/hostname",
    # a few characters multiplied into thousands of glyphs
    r"\hbox to 16000pt{\xleaders\hbox to 1pt{x}\hfil}",
    r"\mbox{\dotfill}",
    r"\romannumeral 9999000",
    r"\setbox0\hbox{xxxxxxxx}\copy0\copy0",
    r"\sbox{x}{y}\usebox{x}",
]


@pytest.mark.parametrize("latex", ATTACKS)
def test_attacks_are_rejected(latex):
    with pytest.raises(UnsafeLatexError):
        check_latex(latex)


def test_the_refusal_names_the_primitive():
    with pytest.raises(UnsafeLatexError, match=r"^\\font is not allowed in LaTeX"):
        check_latex(r"\font\x=/etc/hostname \x a")
    with pytest.raises(UnsafeLatexError, match=r"^\\pdfximage is not allowed in LaTeX"):
        check_latex(r"x \pdfximage{/etc/passwd}")


def test_an_equation_over_the_length_limit_is_refused_with_the_limit():
    with pytest.raises(UnsafeLatexError, match=f"longer than {LATEX_MAX_CHARS} characters"):
        check_latex("x+" * LATEX_MAX_CHARS)


ORDINARY = [
    r"F = m a",
    r"\frac{d}{dx} e^{x} = e^{x}",
    r"\int_0^\infty e^{-x^2}\,dx = \frac{\sqrt{\pi}}{2}",
    r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}",
    r"f(x) = \begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}",
    r"\sum_{n=1}^{\infty} \frac{1}{n^2} = \frac{\pi^2}{6}",
    r"\operatorname{sinc}(x) = \frac{\sin x}{x}",
    r"\overline{z} \cdot \underbrace{a + b}_{n} \mathbf{v} \mathrm{d}x \boxed{E = mc^2}",
]


@pytest.mark.parametrize("latex", ORDINARY)
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


# Admission's first wall (the CRD's CEL rule on a flat scene's latex). RE2 and Python's re agree on
# this pattern's constructs (classes, alternation, anchors); the real API server runs it in
# tests/integration/operator/test_admission_rejects_malformed_videojobs.py.
ADMISSION = re.compile(admission_pattern())


@pytest.mark.parametrize("name", sorted(FORBIDDEN_COMMANDS))
def test_admission_refuses_every_command_the_guard_refuses(name):
    assert ADMISSION.search(rf"x + \{name}{{a}}") and ADMISSION.search(rf"\{name}")


# Environments and braces need the guard's parser: admission lets these through, the spec model refuses them.
ADMISSION_CANNOT_SEE = [r"\begin{filecontents}{x.tex}\end{filecontents}", r"\end", r"{unbalanced"]


@pytest.mark.parametrize(
    "latex",
    [*(a for a in ATTACKS if a not in ADMISSION_CANNOT_SEE), r"\\\input{x}", r"\pdfprimitive", r"\showthe\count0"],
)
def test_admission_refuses_the_attacks_it_can_see(latex):
    assert ADMISSION.search(latex) or "^^" in latex, latex


@pytest.mark.parametrize("latex", ADMISSION_CANNOT_SEE)
def test_what_admission_cannot_see_the_guard_refuses(latex):
    assert not ADMISSION.search(latex)
    with pytest.raises(UnsafeLatexError):
        check_latex(latex)


@pytest.mark.parametrize("latex", [*ORDINARY, r"a \\ input", r"\inputs", r"\text{write a def}", r"\defect"])
def test_admission_never_refuses_what_the_guard_lets_through(latex):
    check_latex(latex)
    assert not ADMISSION.search(latex) and "^^" not in latex


def test_admission_rule_is_that_pattern_as_a_cel_string():
    rule = admission_rule()
    assert rule.startswith("!self.matches('(^|[^\\\\\\\\])(\\\\\\\\\\\\\\\\)*\\\\\\\\((") and rule.endswith(
        "&& !self.contains('^^')"
    )
