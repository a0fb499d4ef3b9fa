"""A Markdown lecture becomes a storyboard by fixed, predictable rules."""

from pathlib import Path

import pytest

from videojob.renderer.markdown_source import markdown_to_storyboard
from videojob.storyboard import InvalidStoryboardError

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "lecture.md"


def test_headings_lists_equations_and_code_become_scenes():
    board = markdown_to_storyboard(
        "# Heat\n\nHow energy moves.\n\n## Conduction\n\nEnergy flows from hot to cold.\n\n"
        "- Metals conduct well\n- Air conducts poorly\n\n## Fourier's law\n\nThe flux follows the gradient.\n\n"
        "$$ q = -k \\nabla T $$\n\n## In code\n\n```python\nq = -k * grad(T)\n```\n\n"
        "## Summary\n\n- Heat flows downhill\n"
    )
    kinds = [scene.visual.kind for scene in board.scenes]
    assert kinds == ["title_card", "bullet_list", "equation", "code", "key_takeaways"]
    title, bullets, equation, code, takeaways = (scene.visual for scene in board.scenes)
    assert (board.title, title.subtitle) == ("Heat", "How energy moves.")
    assert bullets.heading == "Conduction" and bullets.bullets == ["Metals conduct well", "Air conducts poorly"]
    assert board.scenes[1].narration == ("Energy flows from hot to cold. Metals conduct well. "
                                         "Air conducts poorly.")
    assert equation.latex == r"q = -k \nabla T"
    assert board.scenes[2].narration == "The flux follows the gradient."
    assert (code.language, code.code) == ("python", "q = -k * grad(T)")
    assert takeaways.points == ["Heat flows downhill"]


def test_paragraphs_after_the_last_visual_join_its_narration_and_inline_markup_is_not_spoken():
    board = markdown_to_storyboard("# T\n\n## Law\n\n$$a=b$$\n\nThis is **very** `important`, see [docs](http://x).\n")
    assert board.scenes[1].narration == "Law. This is very important, see docs."


def test_a_section_without_visuals_is_a_title_card_and_front_matter_sets_the_theme():
    board = markdown_to_storyboard("---\ntheme: history\n---\n# Rome\n\n## The founding\n\nLegend says 753 BC.\n")
    assert board.theme == "history"
    assert board.scenes[1].visual.kind == "title_card"
    assert board.scenes[1].visual.title == "The founding"


def test_long_lists_and_narrations_are_split_into_scenes_that_validate():
    items = "\n".join(f"- point {n}" for n in range(10))
    long_paragraph = " ".join(["This sentence is here to make the narration long."] * 40)
    board = markdown_to_storyboard(f"# T\n\n## Many\n\n{long_paragraph}\n\n{items}\n")
    bullet_scenes = [scene for scene in board.scenes if scene.visual.kind == "bullet_list"]
    shown = {bullet for scene in bullet_scenes for bullet in scene.visual.bullets}
    assert shown == {f"point {n}" for n in range(10)}
    assert all(len(scene.visual.bullets) <= 7 for scene in bullet_scenes)
    assert all(len(scene.narration) <= 1500 for scene in board.scenes)


def test_an_unsafe_equation_in_a_lecture_is_invalid_input():
    with pytest.raises(InvalidStoryboardError, match=r"\\input is not allowed"):
        markdown_to_storyboard("# T\n\n$$ \\input{/etc/hostname} $$\n")


def test_the_example_lecture_has_an_equation_and_a_bullet_list():
    kinds = [scene.visual.kind for scene in markdown_to_storyboard(EXAMPLE.read_text()).scenes]
    assert "equation" in kinds and "bullet_list" in kinds and len(kinds) >= 4


def test_a_plot_fence_draws_a_function_and_a_bad_expression_is_invalid_input():
    board = markdown_to_storyboard("# T\n\n## Decay\n\nIt falls off fast.\n\n```plot\ny = exp(-x)\nx = 0..5\n```\n")
    plot = board.scenes[1].visual
    assert (plot.kind, plot.expression, plot.x_min, plot.x_max) == ("function_plot", "exp(-x)", 0.0, 5.0)
    with pytest.raises(InvalidStoryboardError, match="function_plot.expression: unknown name 'system'"):
        markdown_to_storyboard("# T\n\n```plot\ny = system(1)\n```\n")
