"""The code template: a listing as large as the frame lets it be, every line whole where it can be.

The listing is set at the largest size of the scale's code range (:data:`CODE_LARGEST` down to the
smallest size) at which its longest line fits the safe area whole: a short listing fills the frame, a
wide one is set smaller. Line numbers are dropped when only that keeps the longest line whole at the
smallest size. Only then are long lines wrapped, and the rest of a wrapped line is shown the way an
editor shows a soft wrap, never like a new statement: a hanging indent past the line's own, a
continuation mark in the gutter where a line number would be, and the colours of the line it
continues (a comment's rest stays a comment). A listing too long for the frame at the smallest
size is shown in pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from manim import RIGHT, Code, Text
from pygments import lex
from pygments.lexers import get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.token import Token
from pygments.util import ClassNotFound

from videojob.renderer import layout as L
from videojob.renderer.layout import Page, Part
from videojob.renderer.scenes.base import TemplateScene
from videojob.renderer.themes import MONOSPACE

CODE_LARGEST = L.HEADING  # a short listing's size: as large as a heading, no larger
CONTINUED = "↪"  # in the gutter beside the rest of a wrapped line (DejaVu Sans Mono has it)
HANGING_INDENT = 4  # columns past the line's own indent where its rest continues
STYLE = "monokai"
# Manim draws a listing as one Text on a fixed-size surface, and drops the glyphs of rows past its edge.
ROWS_PER_LISTING = 20


@dataclass(frozen=True)
class Row:
    """One row of the listing: a source line (``number``, from 1) or the rest of one (``continued``)."""

    number: int
    text: str
    continued: bool = False
    before: int = 0  # visible characters of its line on the rows before it


def _lexer_name(language: str) -> str:
    try:
        get_lexer_by_name(language)
        return language
    except ClassNotFound:
        return "text"


def columns_of(line: str) -> int:
    return sum(2 if L.is_wide(char) else 1 for char in line)


def wrap_code(source: list[str], columns: int) -> list[Row]:
    """Source lines cut at ``columns``; the rest of a long line continues on rows of its own, hanging
    past the line's indent."""
    rows = []
    for number, line in enumerate(source, start=1):
        indent = len(line) - len(line.lstrip(" "))
        hang = " " * min(indent + HANGING_INDENT, columns // 6)  # a narrow frame: a shorter hang, the mark says it
        continued, before = False, 0
        while len(line) > columns:
            # After a space or punctuation when there is one late enough, never inside a name or a number.
            cut = _cut(line, columns)
            piece = line[:cut].rstrip() or line[:cut]
            rows.append(Row(number, piece, continued, before))
            before += sum(not char.isspace() for char in piece)
            line, continued = hang + line[cut:].lstrip(" "), True
        rows.append(Row(number, line or " ", continued, before))  # a space: the lexer drops a page's blank edges
    return rows


def _cut(line: str, columns: int) -> int:
    """Where to cut ``line`` to fit ``columns``: after a space or punctuation when there is one late enough,
    never inside a name or a number, nor right after a lone symbol that starts what follows it (a ``#``
    or ``//`` opening a comment goes to the next row with its words)."""
    end = columns
    while True:
        cut = max(line.rfind(mark, columns // 2, end) for mark in " ,;([{=")
        if cut <= 0:
            return columns
        last = line[:cut].rstrip().rsplit(" ", 1)[-1]
        if line[cut] != " " or not last or any(char.isalnum() or char in ")]}'\"" for char in last):
            return cut + 1
        end = line.rfind(" ", 0, cut - len(last)) + 1 or 0  # before the symbol: it goes with what follows
        if end <= columns // 2:
            return cut + 1


class CodeListingScene(TemplateScene):
    def build(self) -> list[Page]:
        layout = self.layout
        self.language = _lexer_name(self.visual.language)
        source = self.visual.code.expandtabs(4).splitlines() or [" "]
        longest = max(source, key=columns_of)
        size, numbered = None, True
        for numbered in (True, False):
            size = self._largest_whole(longest, len(source), numbered)
            if size is not None:
                break
        if size is None:  # too wide even at the smallest size without numbers: wrapped, numbered
            size, numbered = L.SMALLEST, True
            rows, listing = self._wrapped(source, longest)
        else:
            rows = [Row(number, line or " ") for number, line in enumerate(source, start=1)]
            listing = self._listing(rows[:ROWS_PER_LISTING], size, numbered)
            while listing.width > layout.width and size > L.SMALLEST:  # the proportion rounded up: a point less
                size -= 1
                listing = self._listing(rows[:ROWS_PER_LISTING], size, numbered)
        while listing.height > layout.height and size > L.SMALLEST:  # too tall: smaller, keeping every line
            size = max(float(L.SMALLEST), min(size - 1, float(int(size * layout.height / listing.height))))
            listing = self._listing(rows[:ROWS_PER_LISTING], size, numbered)
        if len(rows) <= ROWS_PER_LISTING and listing.height <= layout.height:
            listing.move_to((0, (layout.top + layout.bottom) / 2, 0))
            return [Page([Part(listing, 0)])]
        # Too long for one page even at the smallest size: as many rows a page as fit, measured once.
        first = self._listing(rows[:1], size, numbered)
        shown = min(len(rows), ROWS_PER_LISTING)
        pitch = (listing.height - first.height) / max(1, shown - 1)
        per_page = min(ROWS_PER_LISTING, max(1, 1 + int((layout.height - first.height) / max(pitch, 1e-6))))
        pages = [
            self._listing(rows[start : start + per_page], size, numbered) for start in range(0, len(rows), per_page)
        ]
        for page in pages:
            page.move_to((0, (layout.top + layout.bottom) / 2, 0))
        return [Page([Part(page, index)]) for index, page in enumerate(pages)]

    def _largest_whole(self, longest: str, lines: int, numbered: bool) -> float | None:
        """The largest code size at which ``longest`` fits the safe area's width whole (None: none does),
        measured on a listing of that line alone at the smallest size (numbered as the last line, the widest
        number): its glyphs and numbers grow in proportion to the size, the window's padding does not."""
        probe = self._listing([Row(lines, longest)], float(L.SMALLEST), numbered)
        growing = probe.code_lines.width + (probe.line_numbers.width if numbered else 0.0)
        fixed = probe.width - growing
        size = min(float(CODE_LARGEST), float(int(L.SMALLEST * (self.layout.width - fixed) / max(growing, 1e-6))))
        return size if size >= L.SMALLEST else None

    def _wrapped(self, source: list[str], longest: str) -> tuple[list[Row], Code]:
        """The source wrapped to as many columns as fit at the smallest size, and its first page's listing."""
        width, size = self.layout.width, float(L.SMALLEST)
        probe = self._listing([Row(len(source), longest)], size, True)
        advance = probe.code_lines.width / max(1, columns_of(longest))
        columns = max(8, int((width - (probe.width - probe.code_lines.width)) / advance))
        while True:
            rows = wrap_code(source, columns)
            listing = self._listing(rows[:ROWS_PER_LISTING], size, True)
            if listing.width <= width or columns == 8:
                return rows, listing
            columns = max(8, columns - 2)

    def _listing(self, rows: list[Row], size: float, numbered: bool) -> Code:
        listing = Code(
            code_string="\n".join(row.text for row in rows),
            language=self.language,
            formatter_style=STYLE,
            background="window",
            add_line_numbers=numbered,
            line_numbers_from=rows[0].number,
            paragraph_config={"font": MONOSPACE, "font_size": size},
        )
        if any(row.continued for row in rows) and len(listing.code_lines) == len(rows):
            self._colour_as_source(listing, rows)
            if numbered:
                self._mark_continuations(listing, rows, size)
        return listing

    def _mark_continuations(self, listing: Code, rows: list[Row], size: float) -> None:
        """Each row's gutter label: its source line's number, or the continuation mark."""
        drawn: dict[str, Text] = {}  # a mark drawn once, copied onto each of its rows
        for index, row in enumerate(rows):
            old = listing.line_numbers[index]
            label = CONTINUED if row.continued else str(row.number)
            if label not in drawn:
                drawn[label] = Text(label, font=MONOSPACE, font_size=size, color=old.get_color())
            new = drawn[label].copy().move_to(old.get_center()).align_to(old, RIGHT)
            listing.line_numbers.submobjects[index] = new

    def _colour_as_source(self, listing: Code, rows: list[Row]) -> None:
        """Colour every row's glyphs as its source line is highlighted: a row lexed alone would read the
        rest of a comment or a string as code."""
        numbers = sorted({row.number for row in rows})
        source = self.visual.code.expandtabs(4).splitlines() or [" "]
        lines = [source[number - 1] for number in numbers]
        style = get_style_by_name(STYLE)
        foreground = "#" + (style.style_for_token(Token.Text)["color"] or "f8f8f2")
        colours: list[list[str]] = [[] for _ in lines]
        line = 0
        lexer = get_lexer_by_name(self.language, stripnl=False, ensurenl=True)
        for token, value in lex("\n".join(lines), lexer):
            colour = style.style_for_token(token)["color"]
            for char in value:
                if char == "\n":
                    line += 1
                elif not char.isspace() and line < len(colours):
                    colours[line].append(f"#{colour}" if colour else foreground)
        by_number = dict(zip(numbers, colours, strict=True))
        for index, row in enumerate(rows):
            glyphs = listing.code_lines[index].submobjects
            wanted = by_number[row.number][row.before : row.before + len(glyphs)]
            if len(wanted) == len(glyphs):  # a glyph per visible character; else Manim's own colours stay
                for glyph, colour in zip(glyphs, wanted, strict=True):
                    glyph.set_color(colour)

    def compose(self) -> None:
        pages = self.build()
        # Markers the narration never contains: the pages turn evenly through the speech.
        self.present(pages, [f"\0page {index}" for index in range(len(pages))])


__all__ = ["CONTINUED", "CodeListingScene", "Row", "wrap_code"]
