"""A Markdown lecture becomes a storyboard by fixed, predictable rules."""

import pytest

from support import REPO_ROOT
from videojob.limits import NARRATION_MAX_CHARS, SCENES_MAX
from videojob.markdown_lecture import markdown_to_storyboard
from videojob.storyboard import InvalidStoryboardError

EXAMPLE = REPO_ROOT / "examples" / "lecture.md"


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
    assert board.scenes[1].narration == ("Energy flows from hot to cold. Metals conduct well. Air conducts poorly.")
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
    with pytest.raises(InvalidStoryboardError, match=r"line 4: y = system\(1\): unknown name 'system'"):
        markdown_to_storyboard("# T\n\n```plot\ny = system(1)\n```\n")


def _words(text: str) -> list[str]:
    return text.split()


def test_a_paragraph_too_long_for_one_scene_continues_on_further_scenes_with_every_word_spoken():
    sentences = [f"Sentence number {n} explains one more detail of the experiment." for n in range(120)]
    paragraph = " ".join(sentences)  # about 7,600 characters: five scenes' worth
    board = markdown_to_storyboard(f"# Optics\n\n## Refraction\n\n{paragraph}\n\n- Light bends\n- Lenses focus\n")
    assert all(len(scene.narration) <= NARRATION_MAX_CHARS for scene in board.scenes)
    spoken = " ".join(scene.narration for scene in board.scenes)
    assert _words(spoken) == _words(f"Optics. {paragraph} Light bends. Lenses focus.")
    section = board.scenes[1:]
    assert len(section) >= 5
    titles = [scene.visual.title for scene in section[:-1]]
    assert titles == ["Refraction"] + ["Refraction (continued)"] * (len(titles) - 1)
    assert section[-1].visual.kind == "bullet_list"  # the list appears where the narration reaches it
    assert section[-1].narration.endswith("Light bends. Lenses focus.")
    assert all(piece.narration.rstrip().endswith(".") for piece in section)  # cut at sentence ends


def test_one_endless_sentence_is_cut_at_word_breaks_and_nothing_is_lost():
    sentence = " ".join(f"word{n}" for n in range(600))  # 4,490 characters and no full stop
    board = markdown_to_storyboard(f"# T\n\n## Rambling\n\n{sentence}\n")
    spoken = " ".join(scene.narration for scene in board.scenes[1:])
    assert _words(spoken) == _words(sentence)
    titles = [scene.visual.title for scene in board.scenes[1:]]
    assert len(titles) == -(-len(sentence) // NARRATION_MAX_CHARS)  # as few scenes as fit
    assert titles == ["Rambling"] + ["Rambling (continued)"] * (len(titles) - 1)


def test_a_lecture_longer_than_a_video_says_so_in_sections_and_scenes():
    lecture = "# Course\n\n" + "".join(f"## Part {n}\n\nSome words about part {n}.\n\n" for n in range(60))
    with pytest.raises(InvalidStoryboardError) as caught:
        markdown_to_storyboard(lecture)
    assert str(caught.value) == (
        f"the lecture cannot become a video: 61 sections; a video holds at most {SCENES_MAX} scenes: split the lecture"
    )
    endless = " ".join(["This lecture never stops talking about the same thing."] * 1500)
    with pytest.raises(InvalidStoryboardError, match=r"1 section makes \d+ scenes .*at most 40 scenes: split"):
        markdown_to_storyboard(f"# Endless\n\n{endless}\n")


def test_what_cannot_continue_on_another_scene_is_refused_naming_its_line():
    long_bullet = "a bullet that goes on " + "and on " * 30
    with pytest.raises(InvalidStoryboardError, match=r"line 5: a bullet has at most 160 characters \(this one has"):
        markdown_to_storyboard(f"# T\n\n## S\n\n- {long_bullet}\n- short\n")
    with pytest.raises(InvalidStoryboardError, match=r"line 7: a code line has at most 80 characters"):
        markdown_to_storyboard("# T\n\n## S\n\n```python\nx = 1\n" + "y = " + "1 + " * 30 + "1\n```\n")
    with pytest.raises(InvalidStoryboardError, match=r"line 3: a heading has at most 120 characters"):
        markdown_to_storyboard("# T\n\n## " + "Long " * 30 + "\n\nText.\n")
    with pytest.raises(InvalidStoryboardError, match=r"line 8: y = system\(1\): unknown name 'system'"):
        markdown_to_storyboard("# T\n\n## Decay\n\nIt falls.\n\n```plot\ny = system(1)\n```\n")


def test_front_matter_is_yaml_and_its_mistakes_are_named():
    board = markdown_to_storyboard(
        '---\ntitle: "Waves: an introduction"  # quoted, with a comment\n'
        "theme: physics\nauthor: someone\n---\n## Sound\n\nIt travels.\n"
    )
    assert (board.title, board.theme) == ("Waves: an introduction", "physics")
    with pytest.raises(InvalidStoryboardError, match=r"front matter: theme: 'astrology' is not one of"):
        markdown_to_storyboard("---\ntheme: astrology\n---\n# T\n\nText.\n")
    with pytest.raises(InvalidStoryboardError, match=r"front matter \(lines 1-3\) is not valid YAML"):
        markdown_to_storyboard("---\ntheme: [unclosed\n---\n# T\n\nText.\n")


def test_commonmark_details_a_hand_parser_got_wrong():
    board = markdown_to_storyboard(
        "# T\n\n## S\n\nAn equation follows\n$$ E = mc^2 $$\n\n"
        "- one item\n  wrapped onto a second line\n- two &amp; three\n\n<!-- a note to myself -->\n\n"
        "Images speak their alt text: ![a red circle](c.png).\n"
    )
    equation, bullets = board.scenes[1].visual, board.scenes[2].visual
    assert (equation.kind, equation.latex) == ("equation", "E = mc^2")
    assert board.scenes[1].narration == "An equation follows"
    assert bullets.bullets == ["one item wrapped onto a second line", "two & three"]
    assert board.scenes[2].narration.endswith("Images speak their alt text: a red circle.")
    assert "note to myself" not in " ".join(scene.narration for scene in board.scenes)


def test_paragraphs_before_the_first_heading_are_spoken_not_dropped():
    board = markdown_to_storyboard("---\ntitle: Tides\n---\nThe moon pulls the sea.\n\n## Springs\n\nBig tides.\n")
    assert [(scene.visual.title, scene.narration) for scene in board.scenes] == [
        ("Tides", "The moon pulls the sea."),
        ("Springs", "Big tides."),
    ]
    untitled = markdown_to_storyboard("Only a paragraph, and no heading at all.\n")
    assert (untitled.title, untitled.scenes[0].narration) == ("Lecture", "Only a paragraph, and no heading at all.")
