"""The Markdown lecture parser lives in the core: light enough for the gateway and operator, the renderer's own.

The gateway and the operator refuse a lecture with :func:`videojob.markdown_lecture.lecture_of_spec`
before any Pod; the renderer draws what the same function returns, so they cannot disagree.
"""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from videojob.latex_guard import UnsafeLatexError, check_latex
from videojob.markdown_lecture import lecture_of_spec, markdown_to_storyboard
from videojob.renderer.config import LlmConfig
from videojob.renderer.spec_source import storyboard_for
from videojob.spec import VideoJobSpec
from videojob.storyboard import InvalidStoryboardError


def _spec(**spec):
    return VideoJobSpec.model_validate(spec)


def test_the_parser_imports_no_component_and_no_manim():
    # The gateway and operator image has no Manim or TeX; importing the parser must not need them.
    code = (
        "import sys, videojob.markdown_lecture\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('manim', 'numpy', 'cairo', 'av', 'openai')"
        " or m.startswith(('videojob.renderer', 'videojob.operator', 'videojob.api')))\n"
        "print(heavy)"
    )
    done = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_videojobs_lecture_is_what_the_renderer_draws():
    spec = _spec(source={"markdown": "# Waves\n\nA wave carries energy.\n\n$$E = h f$$\n"}, language="de")
    assert lecture_of_spec(spec) == storyboard_for(spec, LlmConfig())[0]


def test_it_is_read_in_the_videojobs_language_else_the_front_matters():
    untitled = "Ein Absatz ohne Überschrift.\n"
    assert lecture_of_spec(_spec(source={"markdown": untitled}, language="de")).title == "Vorlesung"
    front = "---\nlanguage: zh\n---\n没有标题的段落。\n"
    assert lecture_of_spec(_spec(source={"markdown": front})).title == "讲座"  # spec.language "en": the default


def test_another_source_has_no_lecture():
    assert lecture_of_spec(_spec(source={"prompt": "Explain waves to a child"}, llm={"provider": "openai"})) is None
    storyboard = {"title": "T", "scenes": [{"template": "title", "title": "T", "narration": "Hello."}]}
    assert lecture_of_spec(_spec(source={"storyboard": storyboard})) is None


def test_a_refused_lecture_names_its_line():
    spec = _spec(source={"markdown": "# Waves\n\nA wave.\n\n## Files\n\n$$\\input{/etc/hostname}$$\n"})
    with pytest.raises(InvalidStoryboardError, match=r"^the lecture cannot become a video: line 7 \(section 'Files'\)"):
        lecture_of_spec(spec)


@pytest.mark.parametrize("command", ["scalebox", "resizebox", "rotatebox", "reflectbox"])
def test_the_graphics_boxes_are_refused_saying_tex_would_stop_at_them(command):
    with pytest.raises(UnsafeLatexError) as refused:
        check_latex(rf"\{command}{{2}}{{x}} = y")
    assert str(refused.value) == (
        rf"\{command} comes from the graphics package, which equations are not typeset with, so TeX would stop "
        "at it (Undefined control sequence): remove it; the layout sizes every equation to fit the frame"
    )


@pytest.mark.parametrize(("latex", "what"), [(r"{\scriptscriptstyle x} = y", "math"), (r"\text{\tiny a} + b", "text")])
def test_half_size_math_or_text_is_refused_as_too_small_to_read(latex, what):
    with pytest.raises(UnsafeLatexError, match=rf"sets {what} at half size, below the smallest text the video ever"):
        check_latex(latex)


def test_ordinary_sizes_still_pass():
    for latex in (r"x_{i_j}", r"{\scriptstyle x}", r"\displaystyle\sum_i x_i", r"\text{small}", r"\mathrm{tiny}"):
        assert check_latex(latex) == latex


def test_in_a_lecture_a_scalebox_is_refused_naming_the_line():
    with pytest.raises(InvalidStoryboardError) as refused:
        markdown_to_storyboard("# Sizes\n\nBig.\n\n$$\\scalebox{3}{x}$$\n")
    assert refused.value.errors == [
        r"line 5 (section 'Sizes'): visual.equation.latex: \scalebox comes from the graphics package, which equations "
        "are not typeset with, so TeX would stop at it (Undefined control sequence): remove it; the layout sizes "
        "every equation to fit the frame"
    ]


def test_only_the_render_warns_that_english_words_fill_in(caplog):
    # The renderer's log tells the lecturer what to write; the gateway's and operator's checks stay quiet.
    spec = _spec(source={"markdown": "A paragraph without a heading.\n"}, language="haw")
    with caplog.at_level(logging.WARNING, logger="videojob.lecture_scenes"):
        checked = lecture_of_spec(spec, warn=False)
        assert caplog.records == []
        assert lecture_of_spec(spec) == checked
    assert [record.getMessage() for record in caplog.records] == [
        "language 'haw': no words of its own for what the lecture leaves out, so 'Lecture' in English; give the "
        "lecture a title (a '# heading' or 'title:' in its front matter) and each section a heading"
    ]
