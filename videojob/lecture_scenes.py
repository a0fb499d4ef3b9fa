"""A lecture's blocks to storyboard scenes, by the rules in :mod:`videojob.markdown_lecture`.

Nothing the lecturer wrote is dropped. What is too long for one scene continues on the
next: lists of more bullets than a slide holds, code longer than a listing, and
narration longer than :data:`~videojob.limits.NARRATION_MAX_CHARS` (cut at sentence
ends, then clause and word breaks, onto "<heading> (continued)" title cards around the
visual). What cannot continue (a bullet too long for a slide line, more scenes than a
video holds) is refused, and every problem names the line of the lecture it is on.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from videojob import limits as L
from videojob.frame_words import WORDS, FrameWords, continued_mark, has_words_for, words_or_english
from videojob.markdown_blocks import comparison_visuals, diagram_visual, plot_visual, timeline_visual
from videojob.storyboard import InvalidStoryboardError, Storyboard, plain_message
from videojob.wide_characters import is_wide

log = logging.getLogger(__name__)

TAKEAWAY_HEADINGS = re.compile(r"^(key\s+)?(takeaways?|summary|recap|conclusions?|in short)\b", re.IGNORECASE)
REFUSAL = "the lecture cannot become a video"
_LANGUAGE = re.compile(r"^[a-z0-9+#-]{1,20}$")


@dataclass
class Block:
    """One block of the lecture: heading, paragraph, list, math or code, and the line it starts on."""

    kind: str
    text: str = ""
    level: int = 0
    line: int = 0
    items: list[str] = field(default_factory=list)
    item_lines: list[int] = field(default_factory=list)  # a list's items, or a table's rows
    rows: list[list[str]] = field(default_factory=list)  # a table's cells, its header row first
    language: str = ""


@dataclass
class _Draft:
    """A visual and the words around it, before narration too long for one scene is split."""

    visual: dict[str, Any]
    section: str  # what a continuation card is titled after
    section_number: int
    line: int
    first_in_section: bool
    before: list[str] = field(default_factory=list)  # spoken before the visual appears
    own: str = ""  # the visual's own words (its bullets), kept in one scene with it
    after: list[str] = field(default_factory=list)  # paragraphs that follow the section's last visual
    opens: bool = False  # a title card: shown first, whatever precedes it in the text


@dataclass(frozen=True)
class _Scene:
    narration: str
    visual: dict[str, Any]
    line: int
    section: str
    section_number: int


def refuse(*problems: str) -> InvalidStoryboardError:
    return InvalidStoryboardError(list(problems), summary=REFUSAL)


def with_stop(text: str) -> str:
    """``text`` ending as a sentence: a full stop, a Chinese or Japanese one after their characters."""
    if text.endswith((".", "!", "?", ":", "。", "！", "？", "：", "؟", "۔", "।")):
        return text
    return text + ("。" if is_wide(text[-1]) else ".")


def sentences(text: str) -> list[str]:
    return [part for part in re.split(r"(?<=[.!?])\s+", text.strip()) if part]


def shorten(text: str, limit: int) -> str:
    """``text`` for display in ``limit`` characters: cut at a word and marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:") + "…"


def fit_sentence(sentence: str, limit: int = L.NARRATION_MAX_CHARS) -> list[str]:
    """A sentence longer than one scene's narration, cut at clause breaks, else word breaks."""
    pieces = []
    while len(sentence) > limit:
        cut = max(sentence.rfind("; ", 0, limit), sentence.rfind(", ", 0, limit))
        if cut < limit // 2:
            cut = sentence.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit - 1  # one "word" longer than a scene (a URL, say): cut it, keep every character
        pieces.append(sentence[: cut + 1].strip())
        sentence = sentence[cut + 1 :].strip()
    return [*pieces, sentence] if sentence else pieces


def _pack(units: list[tuple[str, str]], limit: int) -> list[tuple[str, set[str]]]:
    """Units (text, part) joined greedily into pieces of at most ``limit`` characters."""
    pieces: list[tuple[str, set[str]]] = []
    for text, part in units:
        if pieces and len(pieces[-1][0]) + 1 + len(text) <= limit:
            pieces[-1] = (f"{pieces[-1][0]} {text}", pieces[-1][1] | {part})
        else:
            pieces.append((text, {part}))
    return pieces


def _continued(section: str, mark: str) -> str:
    return shorten(section, L.TITLE_MAX_CHARS - len(mark)) + mark


def _split(draft: _Draft, mark: str, limit: int = L.NARRATION_MAX_CHARS) -> list[_Scene]:
    """The draft as one scene, or, when its narration is too long, several: the visual where the
    text reaches it (a title card first), "(continued)" title cards for the rest (``mark``, in the lecture's
    language, says they continue)."""
    narration = " ".join([*draft.before, *([draft.own] if draft.own else []), *draft.after])
    if len(narration) <= limit:
        return [_Scene(narration, draft.visual, draft.line, draft.section, draft.section_number)]
    units = [
        (piece, "before")
        for text in draft.before
        for sentence in sentences(text)
        for piece in fit_sentence(sentence, limit)
    ]
    units += [(draft.own, "own")] if draft.own else []
    units += [
        (piece, "after")
        for text in draft.after
        for sentence in sentences(text)
        for piece in fit_sentence(sentence, limit)
    ]
    pieces = _pack(units, limit)
    anchor = (
        0
        if draft.opens
        else next((index for index, (_, parts) in enumerate(pieces) if parts - {"before"}), len(pieces) - 1)
    )
    scenes = []
    for index, (text, _) in enumerate(pieces):
        if index == anchor:
            visual = draft.visual
        elif index == 0 and draft.first_in_section:
            visual = {"kind": "title_card", "title": draft.section}
        else:
            visual = {"kind": "title_card", "title": _continued(draft.section, mark)}
        scenes.append(_Scene(text, visual, draft.line, draft.section, draft.section_number))
    return scenes


class _SceneBuilder:
    def __init__(self, title: str | None, words: FrameWords) -> None:
        self.drafts: list[_Draft] = []
        self.title = title
        self.words = words  # the lecture's language's, for what the lecturer did not write
        self.fallbacks_used: set[str] = set()
        self.heading = ""
        self.heading_line = 1
        self.section_number = 0
        self.pending: list[str] = []  # paragraphs waiting for the next visual
        self.section_scenes = 0
        self.title_open = False

    @property
    def section(self) -> str:
        if not (self.heading or self.title):
            self.fallbacks_used.add("lecture")
        return self.heading or self.title or self.words.lecture

    def start_section(self, heading: str, line: int) -> None:
        self.finish_section()
        self.heading, self.pending, self.section_scenes, self.title_open = heading, [], 0, False
        self.heading_line = line
        self.section_number += 1

    def open_title(self, title: str, line: int) -> None:
        """The title card. Paragraphs under the title narrate the first visual after it, as in
        any section; with no visual before the next heading, they narrate the title card itself."""
        self.finish_section()
        self.section_number += 1
        self.heading, self.pending, self.section_scenes, self.heading_line = title, [], 0, line
        self._add({"kind": "title_card", "title": title}, line, before=[with_stop(title)], opens=True)
        self.title_open = True

    def paragraph(self, text: str) -> None:
        self.pending.append(text)

    def visual(self, visual: dict[str, Any], line: int, spoken: list[str] | None = None) -> None:
        speak_heading = self.heading and not self.section_scenes and not self.title_open
        self.title_open = False
        before = self.pending or ([with_stop(self.heading)] if speak_heading else [])
        own = " ".join(with_stop(item) for item in spoken or [])
        self.pending = []
        if not (before or own or self.heading):
            self.fallbacks_used.add("next")
        said = before if before or own else [with_stop(self.heading) if self.heading else self.words.next]
        self._add(visual, line, before=said, own=own)
        self.section_scenes += 1

    def finish_section(self) -> None:
        if not self.pending:
            return
        if self.title_open:
            title_scene = self.drafts[-1]
            title_scene.visual["subtitle"] = shorten(sentences(self.pending[0])[0], L.SUBTITLE_MAX_CHARS)
            title_scene.after += self.pending
        elif self.section_scenes:  # trailing paragraphs explain the section's last visual
            self.drafts[-1].after += self.pending
        else:
            self._add({"kind": "title_card", "title": self.section}, self.heading_line, before=self.pending, opens=True)
        self.pending = []

    def _add(self, visual: dict[str, Any], line: int, before: list[str], own: str = "", opens: bool = False) -> None:
        first = not any(draft.section_number == self.section_number for draft in self.drafts)
        self.drafts.append(
            _Draft(visual, self.section, self.section_number, line, first, before=list(before), own=own, opens=opens)
        )

    def scenes(self, language: str) -> list[_Scene]:
        mark = continued_mark(language)
        return [scene for draft in self.drafts for scene in _split(draft, mark)]


def _is_takeaways_heading(heading: str) -> bool:
    """ "Key takeaways", "Summary"... in English, or the takeaways heading of any language the table knows."""
    known = {words.takeaways.casefold() for words in WORDS.values()}
    return bool(TAKEAWAY_HEADINGS.match(heading)) or heading.strip().casefold() in known


def _check_length(text: str, limit: int, what: str, line: int, advice: str) -> None:
    if len(text) > limit:
        raise refuse(f"line {line}: {what} has at most {limit} characters (this one has {len(text)}): {advice}")


def _add_list(builder: _SceneBuilder, block: Block) -> None:
    takeaways = _is_takeaways_heading(builder.heading)
    limit = L.TAKEAWAYS_MAX if takeaways else L.BULLETS_MAX
    items = [(item, line) for item, line in zip(block.items, block.item_lines, strict=True) if item]
    for item, line in items:
        _check_length(item, L.ITEM_MAX_CHARS, "a bullet", line, "shorten it, or say the rest in a paragraph")
    for start in range(0, len(items), limit):
        chunk = [item for item, _ in items[start : start + limit]]
        if takeaways:
            visual: dict[str, Any] = {"kind": "key_takeaways", "heading": builder.heading, "points": chunk}
        else:
            visual = {"kind": "bullet_list", "bullets": chunk}
            if builder.heading:
                visual["heading"] = builder.heading
        builder.visual(visual, items[start][1], spoken=chunk)


def _add_code(builder: _SceneBuilder, block: Block) -> None:
    lines = block.text.splitlines() or [""]
    for number, text in enumerate(lines):
        _check_length(text, L.CODE_MAX_COLUMNS, "a code line", block.line + number, "wrap it")
    language = block.language if _LANGUAGE.match(block.language) else "text"  # only the highlighting
    for start in range(0, len(lines), L.CODE_MAX_LINES):
        chunk = "\n".join(lines[start : start + L.CODE_MAX_LINES])
        builder.visual(
            {"kind": "code", "code": chunk if chunk.strip() else " ", "language": language}, block.line + start
        )


_DRAWINGS = {"diagram": diagram_visual, "timeline": timeline_visual, "plot": plot_visual}


def _add_table(builder: _SceneBuilder, block: Block) -> None:
    for visual, line in comparison_visuals(block.rows, block.item_lines):
        builder.visual(visual, line)


def _too_many_scenes(scenes: list[_Scene]) -> str:
    sections = len({scene.section_number for scene in scenes})
    if sections == len(scenes):
        return f"{sections} sections; a video holds at most {L.SCENES_MAX} scenes: split the lecture"
    return (
        f"{sections} section{'' if sections == 1 else 's'} make{'s' if sections == 1 else ''} "
        f"{len(scenes)} scenes (long lists, code and narration continue on further scenes); a video holds "
        f"at most {L.SCENES_MAX} scenes: split the lecture"
    )


def _where(item: Any, scenes: list[_Scene], meta: dict[str, Any]) -> str:
    """A validation problem located in the lecture: the scene's line and section, or the front matter."""
    loc = item["loc"]
    if len(loc) > 1 and loc[0] == "scenes" and isinstance(loc[1], int) and loc[1] < len(scenes):
        scene = scenes[loc[1]]
        field_path = ".".join(str(part) for part in loc[2:])
        return f"line {scene.line} (section {scene.section!r}): {field_path}: {plain_message(item)}"
    where = ".".join(str(part) for part in loc)
    source = "front matter: " if loc and loc[0] in meta else ""
    return f"{source}{where}: {plain_message(item)}"


def _warn_of_english(language: str, used: set[str]) -> None:
    if used and not has_words_for(language):
        english = words_or_english("en")
        said = " and ".join(repr(getattr(english, word)) for word in sorted(used))
        log.warning(
            "language %r: no words of its own for what the lecture leaves out, so %s in English; give the "
            "lecture a title (a '# heading' or 'title:' in its front matter) and each section a heading",
            language,
            said,
        )


def blocks_to_storyboard(blocks: list[Block], meta: dict[str, Any], warn: bool = True) -> Storyboard:
    """The validated storyboard for a lecture's blocks; ``meta`` holds the front matter (and overrides).
    ``warn``: log when English words fill in for the lecture's language (the renderer's log says so; a
    check before the render need not)."""
    title = meta.get("title")
    if title is not None:
        _check_length(title, L.TITLE_MAX_CHARS, "the front matter's title", 1, "shorten it")
    language = meta.get("language", "en")
    builder = _SceneBuilder(title, words_or_english(language))
    for block in blocks:
        if block.kind == "heading":
            if not block.text:
                raise refuse(f"line {block.line}: the heading is empty: give it a title, or remove the #")
            _check_length(block.text, L.TITLE_MAX_CHARS, "a heading", block.line, "shorten it")
            if title is None and block.level == 1:
                title = builder.title = block.text
                builder.open_title(block.text, block.line)
            else:
                builder.start_section(block.text, block.line)
        elif block.kind == "paragraph":
            builder.paragraph(block.text)
        elif block.kind == "list":
            _add_list(builder, block)
        elif block.kind == "math":
            builder.visual({"kind": "equation", "latex": block.text}, block.line)
        elif block.kind == "code" and block.language in _DRAWINGS:
            builder.visual(_DRAWINGS[block.language](block.text, block.line), block.line)
        elif block.kind == "table":
            _add_table(builder, block)
        elif block.kind == "code":
            _add_code(builder, block)
    builder.finish_section()
    scenes = builder.scenes(language)
    if not scenes:
        raise refuse("it has no headings, paragraphs, lists, equations or code: there is nothing to narrate")
    if len(scenes) > L.SCENES_MAX:
        raise refuse(_too_many_scenes(scenes))
    if title is None:
        builder.fallbacks_used.add("lecture")
    if warn:
        _warn_of_english(language, builder.fallbacks_used)
    data = {
        "title": title or builder.words.lecture,
        "theme": meta.get("theme", "default"),
        "language": language,
        "scenes": [{"narration": scene.narration, "visual": scene.visual} for scene in scenes],
    }
    try:
        return Storyboard.model_validate(data)
    except ValidationError as error:
        raise refuse(*(_where(item, scenes, meta) for item in error.errors())) from None
