"""A Markdown lecture to a storyboard, deterministically and without a language model.

The mapping a lecturer can predict:

* the first ``#`` heading is the video's title and its opening title card;
* every other heading starts a section; inside a section each visual block (a list,
  a ``$$...$$`` display equation, a fenced code block) becomes one scene, narrated by
  the paragraphs just before it (paragraphs after the last visual join that scene);
* a list under a heading such as "Key takeaways" or "Summary" becomes the
  key-takeaways card; a section with no visual becomes a title card;
* list items are also spoken, so each bullet appears as the narrator reaches it;
* a fenced block in the ``plot`` language draws a function: ``y = x^2`` and optionally
  ``x = -3..3`` (and ``y = ...`` ranges the same way) on their own lines;
* optional front matter (``---`` / ``key: value`` / ``---``) sets ``title``, ``theme``
  and ``language``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from videojob.storyboard import Storyboard, parse_storyboard

MAX_BULLETS = 7
MAX_CODE_LINES = 20
MAX_NARRATION = 1400
TAKEAWAY_HEADINGS = re.compile(r"^(key\s+)?(takeaways?|summary|recap|conclusions?|in short)\b", re.IGNORECASE)

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_FENCE = re.compile(r"^\s{0,3}(```+|~~~+)\s*([\w+#-]*)")


@dataclass
class _Block:
    kind: str  # heading, paragraph, list, math, code
    text: str = ""
    level: int = 0
    items: list[str] = field(default_factory=list)
    language: str = ""


def _inline_to_speech(text: str) -> str:
    """Markdown inline syntax removed, so the narrator reads words, not punctuation."""
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"(\*\*|__|\*|_)(\S(?:.*?\S)?)\1", r"\2", text)
    text = text.replace("$", "")
    return re.sub(r"\s+", " ", text).strip()


def _blocks(lines: list[str]) -> list[_Block]:
    blocks: list[_Block] = []
    paragraph: list[str] = []
    index = 0

    def flush_paragraph() -> None:
        if paragraph:
            blocks.append(_Block("paragraph", text=_inline_to_speech(" ".join(paragraph))))
            paragraph.clear()

    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        fence = _FENCE.match(line)
        if fence:
            flush_paragraph()
            marker, language = fence.group(1), fence.group(2) or "text"
            body = []
            index += 1
            while index < len(lines) and not lines[index].strip().startswith(marker):
                body.append(lines[index].rstrip())
                index += 1
            blocks.append(_Block("code", text="\n".join(body).strip("\n"), language=language.lower()))
        elif stripped.startswith("$$"):
            flush_paragraph()
            content = stripped[2:]
            while not content.rstrip().endswith("$$") and index + 1 < len(lines):
                index += 1
                content += "\n" + lines[index].strip()
            latex = content.rstrip().removesuffix("$$").strip()
            if latex:
                blocks.append(_Block("math", text=latex))
        elif heading := _HEADING.match(line):
            flush_paragraph()
            blocks.append(_Block("heading", text=_inline_to_speech(heading.group(2)), level=len(heading.group(1))))
        elif item := _LIST_ITEM.match(line):
            flush_paragraph()
            if not blocks or blocks[-1].kind != "list" or blocks[-1].text == "closed":
                blocks.append(_Block("list"))
            blocks[-1].items.append(_inline_to_speech(item.group(1)))
        elif not stripped:
            flush_paragraph()
            if blocks and blocks[-1].kind == "list":
                blocks[-1].text = "closed"
        elif blocks and blocks[-1].kind == "list" and blocks[-1].text != "closed" and line[:1].isspace():
            blocks[-1].items[-1] += " " + _inline_to_speech(stripped)  # a wrapped list item
        else:
            paragraph.append(stripped)
        index += 1
    flush_paragraph()
    return blocks


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            meta = {}
            for entry in lines[1:end]:
                key, _, value = entry.partition(":")
                if value:
                    meta[key.strip().lower()] = value.strip().strip("\"'")
            return meta, "\n".join(lines[end + 1:])
    return {}, text


def _sentences(text: str) -> list[str]:
    return [part for part in re.split(r"(?<=[.!?])\s+", text) if part]


def _split_narration(text: str) -> list[str]:
    """Narration longer than one scene allows, cut at sentence ends into pieces that fit."""
    pieces, current = [], ""
    for sentence in _sentences(text):
        sentence = sentence[:MAX_NARRATION]
        if current and len(current) + 1 + len(sentence) > MAX_NARRATION:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    return pieces + [current] if current else pieces or [text[:MAX_NARRATION]]


def _with_stop(text: str) -> str:
    return text if text.endswith((".", "!", "?", ":")) else text + "."


class _SceneBuilder:
    def __init__(self) -> None:
        self.scenes: list[dict[str, Any]] = []
        self.heading = ""
        self.pending: list[str] = []  # paragraphs waiting for the next visual
        self.section_scenes = 0
        self.title_open = False

    def start_section(self, heading: str) -> None:
        self.finish_section()
        self.heading, self.pending, self.section_scenes, self.title_open = heading, [], 0, False

    def open_title(self, title: str) -> None:
        """The title card. Paragraphs under the title narrate the first visual after it, as in
        any section; with no visual before the next heading, they narrate the title card itself."""
        self.finish_section()
        self._add(_with_stop(title), {"kind": "title_card", "title": title[:120]})
        self.heading, self.pending, self.section_scenes, self.title_open = title, [], 0, True

    def paragraph(self, text: str) -> None:
        self.pending.append(text)

    def visual(self, visual: dict[str, Any], spoken: list[str] | None = None) -> None:
        speak_heading = self.heading and not self.section_scenes and not self.title_open
        self.title_open = False
        words = self.pending or ([_with_stop(self.heading)] if speak_heading else [])
        narration = " ".join(words + [_with_stop(item) for item in spoken or []])
        self.pending = []
        self._add(narration or _with_stop(self.heading or "Next"), visual)
        self.section_scenes += 1

    def finish_section(self) -> None:
        if not self.pending:
            return
        if self.title_open:
            title_scene = self.scenes[-1]
            title_scene["visual"]["subtitle"] = _sentences(self.pending[0])[0][:200]
            title_scene["narration"] = " ".join([title_scene["narration"], *self.pending])
        elif self.section_scenes:  # trailing paragraphs explain the section's last visual
            self.scenes[-1]["narration"] = " ".join([self.scenes[-1]["narration"], *self.pending])
        elif self.heading:
            self._add(" ".join(self.pending), {"kind": "title_card", "title": self.heading[:120]})
        self.pending = []

    def _add(self, narration: str, visual: dict[str, Any]) -> None:
        self.scenes.append({"narration": narration, "visual": visual})

    def split_long_narration(self) -> list[dict[str, Any]]:
        scenes = []
        for scene in self.scenes:
            for piece in _split_narration(scene["narration"]):
                scenes.append({"narration": piece, "visual": scene["visual"]})
        return scenes


def markdown_to_storyboard(text: str, theme: str | None = None) -> Storyboard:
    """The storyboard for a Markdown lecture; raises InvalidStoryboardError when it cannot be one."""
    meta, body = _front_matter(text)
    title = meta.get("title")
    builder = _SceneBuilder()
    for block in _blocks(body.splitlines()):
        if block.kind == "heading" and title is None and block.level == 1:
            title = block.text
            builder.open_title(title)
        elif block.kind == "heading":
            builder.start_section(block.text)
        elif block.kind == "paragraph":
            builder.paragraph(block.text)
        elif block.kind == "list":
            _add_list(builder, block.items)
        elif block.kind == "math":
            builder.visual({"kind": "equation", "latex": block.text})
        elif block.kind == "code" and block.language == "plot":
            builder.visual(_plot_visual(block.text))
        elif block.kind == "code":
            lines = block.text.splitlines() or [""]
            for start in range(0, len(lines), MAX_CODE_LINES):
                chunk = "\n".join(line[:80] for line in lines[start:start + MAX_CODE_LINES])
                builder.visual({"kind": "code", "code": chunk or " ", "language": block.language[:20] or "text"})
    builder.finish_section()
    data = {
        "title": (title or "Lecture")[:120],
        "theme": theme or meta.get("theme", "default"),
        "language": meta.get("language", "en"),
        "scenes": builder.split_long_narration(),
    }
    return parse_storyboard(data)


_RANGE = re.compile(r"^\s*([xy])\s*(?:=|:|in)\s*(-?[\d.]+)\s*\.\.\s*(-?[\d.]+)\s*$")


def _plot_visual(text: str) -> dict[str, Any]:
    """A ``plot`` fence: ``y = EXPRESSION`` plus optional ``x = A..B`` / ``y = A..B`` lines."""
    visual: dict[str, Any] = {"kind": "function_plot", "expression": ""}
    for line in text.splitlines():
        if match := _RANGE.match(line):
            axis, low, high = match.groups()
            visual[f"{axis}_min"], visual[f"{axis}_max"] = float(low), float(high)
        elif line.strip():
            visual["expression"] = re.sub(r"^\s*(y|f\(x\))\s*=\s*", "", line).strip()
    return visual


def _add_list(builder: _SceneBuilder, items: list[str]) -> None:
    takeaways = bool(TAKEAWAY_HEADINGS.match(builder.heading))
    limit = 6 if takeaways else MAX_BULLETS
    for start in range(0, len(items), limit):
        chunk = [item[:160] for item in items[start:start + limit]]
        if takeaways:
            visual = {"kind": "key_takeaways", "points": chunk}
        else:
            visual = {"kind": "bullet_list", "bullets": chunk}
            if builder.heading:
                visual["heading"] = builder.heading[:120]
        builder.visual(visual, spoken=chunk)
