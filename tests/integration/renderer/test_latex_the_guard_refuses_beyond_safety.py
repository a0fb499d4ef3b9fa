"""Why the LaTeX guard refuses \\scalebox and \\scriptscriptstyle although neither is unsafe: real TeX, past the guard.

``\\scalebox`` (and the graphics package's other boxes) passed the guard, then stopped TeX with
"Undefined control sequence" inside a renderer Pod: Manim's equation template loads amsmath and
amssymb, not graphicx. ``\\scriptscriptstyle`` typesets, at half size: below the smallest text the
layout ever draws. Here TeX is run exactly as Manim runs it, so the guard's words stay true.
"""

from __future__ import annotations

import warnings

import pytest

from videojob.latex_guard import REFUSED_WITH_ADVICE, UnsafeLatexError, check_latex

with warnings.catch_warnings():  # Manim's audio dependency imports audioop, deprecated in Python 3.11
    warnings.simplefilter("ignore", DeprecationWarning)
    from manim import MathTex, tempconfig


@pytest.fixture
def typeset(tmp_path):
    def run(latex: str):
        with tempconfig({"media_dir": str(tmp_path), "verbosity": "CRITICAL"}):
            return MathTex(latex)

    return run


@pytest.mark.parametrize("command", ["scalebox", "resizebox", "rotatebox", "reflectbox"])
def test_the_graphics_boxes_stop_tex_so_the_guard_refuses_them_first(typeset, tmp_path, command):
    latex = {"resizebox": r"\resizebox{2cm}{!}{x}", "rotatebox": r"\rotatebox{90}{x}"}.get(
        command, rf"\{command}{{2}}{{x}}" if command == "scalebox" else rf"\{command}{{x}}"
    )
    with pytest.raises(ValueError, match="latex error converting to dvi"):
        typeset(latex)
    (log,) = tmp_path.rglob("*.log")
    undefined = log.read_text().split("! Undefined control sequence.\n", 1)[1]
    assert undefined.split("\n", 1)[0].endswith(f"\\{command} ")  # TeX's context line ends at the command
    with pytest.raises(UnsafeLatexError, match=rf"^\\{command} comes from the graphics package"):
        check_latex(latex)


def test_scriptscriptstyle_sets_capitals_at_half_their_size(typeset):
    plain, shrunk = typeset(r"X"), typeset(r"{\scriptscriptstyle X}")
    assert shrunk.height / plain.height == pytest.approx(0.5, abs=0.06)
    assert "half size" in REFUSED_WITH_ADVICE["scriptscriptstyle"]
    with pytest.raises(UnsafeLatexError, match="below the smallest text the video ever shows"):
        check_latex(r"{\scriptscriptstyle X}")
