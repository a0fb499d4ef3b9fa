"""A Markdown lecture to a storyboard, deterministically and without a language model.

The mapping a lecturer can predict:

* the first ``#`` heading is the video's title and its opening title card;
* every other heading starts a section; inside a section each visual block (a list,
  a ``$$...$$`` display equation, a fenced code block) becomes one scene, narrated by
  the paragraphs just before it (paragraphs after the last visual join that scene);
* a list under a heading such as "Key takeaways" or "Summary" becomes the
  key-takeaways card; a section with no visual becomes a title card;
* list items are also spoken, so each bullet appears as the narrator reaches it;
* a pipe table becomes a comparison, and fenced blocks in the ``diagram``, ``timeline`` and
  ``plot`` languages become those templates (the syntax: :mod:`videojob.markdown_blocks`);
* optional YAML front matter (``---`` / ``key: value`` / ``---``) sets ``title``, ``theme``
  and ``language``;
* nothing written is dropped: long lists and code listings continue on further scenes,
  narration too long for one scene continues on "(continued)" scenes, and what cannot
  fit (a bullet longer than a slide line, too many scenes for one video) is refused with
  the line it is on.

The Markdown itself is read by markdown-it-py (CommonMark), with one block rule of our
own for ``$$`` display math and GFM's table rule; :mod:`videojob.lecture_scenes` turns the blocks into
scenes.

It is the core's, not the renderer's, and needs nothing heavy (no Manim, no TeX): the renderer draws
what :func:`lecture_of_spec` returns, and the gateway (a 422 naming ``markdown``) and the operator
(InvalidStoryboard before any Job) call the same function, so a lecture is refused before a Pod
starts, in the words the renderer would have used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.token import Token

from videojob.lecture_scenes import Block, blocks_to_storyboard
from videojob.markdown_blocks import DRAWING_LANGUAGES
from videojob.storyboard import InvalidStoryboardError, Storyboard

if TYPE_CHECKING:
    from videojob.spec import VideoJobSpec

FRONT_MATTER_KEYS = ("title", "theme", "language")


@dataclass(frozen=True)
class FrontMatter:
    values: dict[str, str] = field(default_factory=dict)
    body_line: int = 1  # the line of the file where the Markdown after the front matter starts


def _math_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """``$$ ... $$`` starting a line, on one line or several: one display equation.

    It may interrupt a paragraph (as it always could here); an unclosed ``$$`` is left as text.
    """
    if state.is_code_block(start):
        return False
    first = state.src[state.bMarks[start] + state.tShift[start] : state.eMarks[start]].rstrip()
    if not first.startswith("$$"):
        return False
    rest = first[2:]
    if len(rest) >= 2 and rest.endswith("$$"):
        content, last = rest[:-2], start
    else:
        lines, last = [rest], start
        while not lines[-1].endswith("$$"):
            last += 1
            if last >= end:
                return False
            lines.append(state.src[state.bMarks[last] + state.tShift[last] : state.eMarks[last]].rstrip())
        content = "\n".join(lines).removesuffix("$$")
    if silent:
        return True
    token = state.push("math_block", "math", 0)
    token.content = content.strip()
    token.map = [start, last + 1]
    token.block = True
    state.line = last + 1
    return True


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark").enable("table")
    parser.block.ruler.before(
        "fence", "math_block", _math_block, {"alt": ["paragraph", "reference", "blockquote", "list"]}
    )
    return parser


_PARSER = _parser()


def inline_to_speech(token: Token) -> str:
    """An inline token's words: emphasis, links and code marks gone, images by their alt text,
    inline HTML left out and ``$`` signs dropped, so the narrator reads words, not punctuation."""
    words = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            words.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            words.append(" ")
        elif child.type == "image":
            words.append(child.content)
    return re.sub(r"\s+", " ", "".join(words).replace("$", "")).strip()


def split_front_matter(text: str) -> tuple[FrontMatter, str]:
    """The lecture's front matter (YAML between two ``---`` lines at the very top) and the rest."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return FrontMatter(), text
    end = next((number for number, line in enumerate(lines[1:], start=1) if line.strip() in ("---", "...")), None)
    if end is None:
        return FrontMatter(), text  # a lone "---" is a thematic break, not front matter
    try:
        data = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as error:
        raise InvalidStoryboardError(
            [f"front matter (lines 1-{end + 1}) is not valid YAML: {error}"],
            summary="the lecture cannot become a video",
        ) from None
    except RecursionError:  # PyYAML recurses into nested values; front matter is flat
        raise InvalidStoryboardError(
            [f"front matter (lines 1-{end + 1}) nests too deeply: it takes 'key: value' lines"],
            summary="the lecture cannot become a video",
        ) from None
    if not isinstance(data, dict):
        raise InvalidStoryboardError(
            [f"front matter (lines 1-{end + 1}) must be 'key: value' lines"],
            summary="the lecture cannot become a video",
        )
    values = {}
    for key, value in data.items():
        name = str(key).strip().lower()
        if name in FRONT_MATTER_KEYS and value is not None:
            if not isinstance(value, (str, int, float)):
                raise InvalidStoryboardError(
                    [f"front matter: {name} must be a single value, not {value!r}"],
                    summary="the lecture cannot become a video",
                )
            values[name] = str(value).strip()
    return FrontMatter(values, body_line=end + 2), "\n".join(lines[end + 1 :])


def parse_blocks(body: str, first_line: int = 1) -> list[Block]:
    """The lecture's blocks in order, each with the line (of the whole file) it starts on.

    Lists are flattened: every item (nested ones too) is one bullet. A code or math block
    inside a list ends that list's bullets, appears in its place, and later items form a new list.
    """
    blocks: list[Block] = []
    list_depth = 0
    in_heading: int | None = None
    open_list: Block | None = None
    table: Block | None = None

    def line_of(token: Token) -> int:
        return first_line + (token.map[0] if token.map else 0)

    for token in _PARSER.parse(body):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            if list_depth == 0 or open_list is None:
                open_list = Block("list", line=line_of(token))
                blocks.append(open_list)
            list_depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
            if list_depth == 0:
                open_list = None
        elif kind == "list_item_open":
            if open_list is None:  # the list went on after a code block inside it
                open_list = Block("list", line=line_of(token))
                blocks.append(open_list)
            open_list.items.append("")
            open_list.item_lines.append(line_of(token))
        elif kind == "table_open":
            table = Block("table", line=line_of(token))
            blocks.append(table)
        elif kind == "table_close":
            table = None
        elif kind == "tr_open" and table is not None:
            table.rows.append([])
            table.item_lines.append(line_of(token))
        elif kind == "heading_open":
            in_heading = int(token.tag[1:])
        elif kind == "heading_close":
            in_heading = None
        elif kind == "inline":
            text = inline_to_speech(token)
            if table is not None:
                table.rows[-1].append(text)
            elif in_heading is not None:
                blocks.append(Block("heading", text=text, level=in_heading, line=line_of(token)))
            elif list_depth and open_list is not None:
                open_list.items[-1] = f"{open_list.items[-1]} {text}".strip()
            elif text:
                blocks.append(Block("paragraph", text=text, line=line_of(token)))
        elif kind in ("fence", "code_block", "math_block"):
            if kind == "math_block":
                block = Block("math", text=token.content, line=line_of(token))
            else:
                language = (token.info.split() or ["text"])[0].lower() if kind == "fence" else "text"
                code = "\n".join(line.rstrip() for line in token.content.splitlines())
                code = code if language in DRAWING_LANGUAGES else code.strip("\n")  # drawings count their lines
                block = Block("code", text=code, language=language, line=line_of(token) + (1 if kind == "fence" else 0))
            if block.text or kind != "math_block":
                blocks.append(block)
            if list_depth:
                open_list = None
    return [block for block in blocks if block.kind != "list" or any(block.items)]


def markdown_to_storyboard(
    text: str, theme: str | None = None, language: str | None = None, *, warn: bool = True
) -> Storyboard:
    """The storyboard for a Markdown lecture; raises InvalidStoryboardError (naming the line) when it
    cannot be one. ``theme`` and ``language``, when given, win over the front matter's."""
    front, body = split_front_matter(text)
    meta: dict[str, Any] = dict(front.values)
    if theme:
        meta["theme"] = theme
    if language:
        meta["language"] = language
    return blocks_to_storyboard(parse_blocks(body, front.body_line), meta, warn)


def lecture_of_spec(spec: VideoJobSpec, *, warn: bool = True) -> Storyboard | None:
    """The storyboard of a VideoJob's Markdown lecture as its renderer will parse it (None for another source);
    raises InvalidStoryboardError naming the line.

    The renderer draws this; the gateway and the operator call it too, so that a lecture the renderer
    would refuse is refused where the VideoJob is written, before any Pod, in the same words. It is
    parsed in ``spec.language`` from the start (the words a lecture leaves out are written in it);
    "en", the CRD's default, leaves the front matter's language. ``warn=False``: a check, not the
    render, so the renderer's warning about English words filling in is left to the renderer's log.
    """
    if spec.source.markdown is None:
        return None
    language = spec.language if spec.language != "en" else None
    return markdown_to_storyboard(spec.source.markdown, language=language, warn=warn)
