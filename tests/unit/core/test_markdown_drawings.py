"""Tables and fenced diagram, timeline and plot blocks in a lecture become those templates' scenes.

Each good block is read into the storyboard's data; each bad one is refused as bad input
(exit 65, never retried) naming the lecture's line and what to write instead.
"""

import time

import pytest

from support import REPO_ROOT
from videojob import limits as L
from videojob.contract import EXIT_BAD_INPUT, FailureReason
from videojob.markdown_blocks import InvalidBlockError
from videojob.markdown_lecture import markdown_to_storyboard
from videojob.renderer.errors import failure_for

SAMPLES = REPO_ROOT / "manifests" / "samples"


def _visual(markdown: str, index: int = 1):
    return markdown_to_storyboard(markdown).scenes[index].visual


def _refused(markdown: str) -> InvalidBlockError:
    with pytest.raises(InvalidBlockError) as caught:
        markdown_to_storyboard(markdown)
    return caught.value


def test_a_two_column_table_is_a_comparison_narrated_by_the_paragraphs_around_it():
    board = markdown_to_storyboard(
        "# Light\n\n## Two pictures\n\nLight acts both ways.\n\n"
        "| Particle | Wave |\n|---|---|\n| Photons | Interference |\n| Photoelectric effect | |\n"
    )
    visual = board.scenes[1].visual
    assert (visual.kind, visual.left_title, visual.right_title) == ("comparison", "Particle", "Wave")
    assert visual.left_items == ["Photons", "Photoelectric effect"]
    assert visual.right_items == ["Interference", "—"]  # an empty cell keeps its row in line
    assert board.scenes[1].narration == "Light acts both ways."


def test_table_cells_are_their_words_without_markup():
    visual = _visual("# T\n\n| **Old** | `new` |\n|---|---|\n| [a link](http://x) | *stressed* |\n")
    assert (visual.left_title, visual.right_title, visual.left_items, visual.right_items) == (
        "Old",
        "new",
        ["a link"],
        ["stressed"],
    )


def test_a_three_column_table_names_its_rows_and_long_tables_continue_on_further_comparisons():
    rows = "".join(f"| row {n} | left {n} | right {n} |\n" for n in range(8))
    board = markdown_to_storyboard(f"# T\n\n## Versus\n\n|   | Before | After |\n|---|---|---|\n{rows}")
    comparisons = [scene.visual for scene in board.scenes if scene.visual.kind == "comparison"]
    assert [len(visual.left_items) for visual in comparisons] == [L.COMPARISON_ITEMS_MAX, 8 - L.COMPARISON_ITEMS_MAX]
    assert comparisons[0].left_items[0] == "row 0: left 0" and comparisons[1].right_items[-1] == "row 7: right 7"


def test_a_table_that_is_not_two_compared_columns_is_refused_naming_its_line():
    error = _refused("# T\n\n## S\n\nWords.\n\n| A | B | C | D |\n|---|---|---|---|\n| 1 | 2 | 3 | 4 |\n")
    assert "line 7: a table becomes a comparison of two columns" in str(error) and "4 columns" in str(error)
    long_cell = "x" * (L.ITEM_MAX_CHARS + 1)
    error = _refused(f"# T\n\n| A | B |\n|---|---|\n| ok | ok |\n| {long_cell} | ok |\n")
    assert "line 6: a table cell has at most 160 characters (this one has 161)" in str(error)


def test_a_diagram_block_declares_shapes_arrows_and_motions_and_places_unplaced_shapes_in_a_row():
    visual = _visual(
        "# Orbits\n\n## Pull\n\n```diagram\n# the Sun holds the Earth\nsun: The Sun\ncircle earth size=0.5: Earth\n"
        "square moon at 4,2\nsun -> earth: gravity\nmove earth to 2,-1\npulse sun\n```\n"
    )
    shapes = {shape.id: shape for shape in visual.shapes}
    assert (shapes["sun"].shape, shapes["sun"].label, shapes["earth"].size) == ("circle", "The Sun", 0.5)
    assert shapes["sun"].x < shapes["earth"].x and (shapes["moon"].x, shapes["moon"].y) == (4.0, 2.0)
    assert [(a.source, a.target, a.label) for a in visual.arrows] == [("sun", "earth", "gravity")]
    assert [(m.shape, m.action) for m in visual.motions] == [("earth", "move"), ("sun", "pulse")]


def test_a_triangle_with_two_legs_is_a_right_triangle_drawn_to_scale():
    shape = _visual("# Pythagoras\n\n```diagram\ntriangle T a=3 b=4: The 3-4-5 triangle\n```\n").shapes[0]
    assert (shape.shape, shape.legs, shape.label) == ("right_triangle", (3.0, 4.0), "The 3-4-5 triangle")
    assert _visual("# T\n\n```diagram\ntriangle T\n```\n").shapes[0].shape == "triangle"  # no legs: equilateral


@pytest.mark.parametrize(
    ("block", "line", "says"),
    [
        ("sun: Sun\nsun -> moon", 7, "no shape is called 'moon'"),
        ("draw a circle", 6, "is not a diagram line: write 'circle ID: label'"),
        ("sun: Sun\nsun: Sun again", 7, "'sun' is declared twice"),
        ("circle sun colour=red", 6, "'colour=red' is not a shape option"),
        ("triangle T a=3", 6, "a right triangle needs both legs"),
        ("triangle T a=1 b=50", 6, "one leg may be at most 10 times the other"),
        ("circle sun at 9,0", 6, "x: Input should be less than or equal to 6.5"),
        ("sun: " + "s" * (L.DIAGRAM_LABEL_MAX_CHARS + 1), 6, "label: at most 40 characters"),
        ("# only a comment", 5, "the diagram has no shapes"),
        ("circle a at 1,1: A\ncircle b at 1.1,1: B", 7, "'b' is drawn on top of 'a' (line 6): same place, same size"),
        (
            "\n".join(f"s{n}: shape {n}" for n in range(L.DIAGRAM_SHAPES_MAX + 1)),
            5,
            "a diagram holds at most 12 shapes",
        ),
    ],
)
def test_a_bad_diagram_line_is_refused_naming_its_line(block, line, says):
    error = _refused(f"# T\n\n## S\n\n```diagram\n{block}\n```\n")
    assert f"line {line}: " in str(error) and says in str(error)
    assert error.line == line


@pytest.mark.parametrize("language", ["diagram", "timeline", "plot"])
def test_a_hostile_line_of_sixty_thousand_characters_is_refused_at_once_and_quoted_short(language):
    started = time.monotonic()
    error = _refused(f"# T\n\n```{language}\na{' ' * 60_000}b\n```\n")
    assert time.monotonic() - started < 1.0 and "line 4: " in str(error) and len(str(error)) < 400


def test_a_diagram_of_thousands_of_shapes_is_refused_at_once_naming_the_limit():
    # The gateway and the operator parse lectures too: pairwise checks of 4,000 shapes took 10 s of CPU.
    shapes = "".join(f"circle c{number}: x\n" for number in range(4_000))
    started = time.process_time()
    error = _refused(f"# T\n\n```diagram\n{shapes}```\n")
    assert time.process_time() - started < 1.0
    assert str(error).endswith(
        f"line 3: shapes: a diagram holds at most {L.DIAGRAM_SHAPES_MAX} shapes, this one has 4000"
    )


def test_a_timeline_block_is_one_event_a_line_in_order():
    visual = _visual("# Physics\n\n## A century\n\n```timeline\n1687: Principia\n1905: Special relativity\n```\n")
    assert [(event.when, event.label) for event in visual.events] == [
        ("1687", "Principia"),
        ("1905", "Special relativity"),
    ]


@pytest.mark.parametrize(
    ("block", "line", "says"),
    [
        ("1687: Principia\n1905 Special relativity", 7, "is not an event: write 'WHEN: WHAT'"),
        ("1687: Principia", 5, "a timeline holds 2 to 8 events, this one has 1"),
        ("\n".join(f"{year}: event" for year in range(1900, 1909)), 5, "this one has 9: split it into two"),
        ("1687: Principia\n" + "y" * (L.TIMELINE_WHEN_MAX_CHARS + 1) + ": late", 7, "when: at most 24 characters"),
    ],
)
def test_a_bad_timeline_is_refused_naming_its_line(block, line, says):
    error = _refused(f"# T\n\n## S\n\n```timeline\n{block}\n```\n")
    assert f"line {line}: " in str(error) and says in str(error)


def test_a_plot_block_takes_a_curve_ranges_and_a_label():
    visual = _visual("# Waves\n\n```plot\ny = sin(x)\nx: -3..3\ny: -1.5..1.5\nlabel: One wave\n```\n")
    assert (visual.expression, visual.x_min, visual.x_max, visual.y_min, visual.y_max, visual.label) == (
        "sin(x)",
        -3.0,
        3.0,
        -1.5,
        1.5,
        "One wave",
    )


@pytest.mark.parametrize(
    ("block", "line", "says"),
    [
        ("y = sin(x)\ny = cos(x)", 7, "a plot draws one curve"),
        ("y = __import__('os')", 6, "y = __import__('os'): "),
        ("y = x^2\nx: 3..-3", 7, "x_min must be less than x_max"),
        ("y = x^2\nzoom: 2", 7, "'zoom: 2' is not a plot line: write 'y = sin(x)'"),
        ("x: 0..1", 5, "the plot has no curve: write 'y = EXPRESSION'"),
        ("y = " + "x+" * 150 + "x", 6, "an expression has at most 200 characters (this one has 301)"),
    ],
)
def test_a_bad_plot_is_refused_naming_its_line(block, line, says):
    error = _refused(f"# T\n\n## S\n\n```plot\n{block}\n```\n")
    assert f"line {line}: " in str(error) and says in str(error)


def test_a_refused_block_is_bad_input_never_retried():
    failure, code = failure_for(_refused("# T\n\n```timeline\nnonsense\n```\n"))
    assert (failure.reason, code) == (FailureReason.INVALID_STORYBOARD, EXIT_BAD_INPUT) and code == 65
    assert "line 4" in failure.message


def test_the_pythagoras_sample_draws_its_right_triangle():
    import yaml

    sample = yaml.safe_load((SAMPLES / "videojob_v1alpha1_markdown.yaml").read_text())
    board = markdown_to_storyboard(sample["spec"]["source"]["markdown"])
    triangles = [shape for scene in board.scenes if scene.visual.kind == "diagram" for shape in scene.visual.shapes]
    assert [(shape.shape, shape.legs) for shape in triangles] == [("right_triangle", (3.0, 4.0))]


def test_the_readme_example_of_the_drawing_blocks_becomes_one_scene_each():
    readme = (REPO_ROOT / "README.md").read_text()
    example = readme.split("````markdown\n", 1)[1].split("````", 1)[0]
    kinds = [scene.visual.kind for scene in markdown_to_storyboard(example).scenes]
    assert kinds == ["title_card", "comparison", "diagram", "timeline", "function_plot"]


def test_a_shape_may_sit_inside_or_across_another():
    orbit = _visual(
        "# T\n\n## S\n\n```diagram\ncircle orbit at 0,0 size=4: Orbit\ncircle sun at 0,0 size=0.8: Sun\n"
        "circle venn at 1,0 size=4: Overlap\n```\n"
    )
    assert [(shape.id, shape.x) for shape in orbit.shapes] == [("orbit", 0.0), ("sun", 0.0), ("venn", 1.0)]
