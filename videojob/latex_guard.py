"""Reject LaTeX that could read files, write files, run programs or redefine TeX.

Equations in a storyboard are typeset by a real TeX, and TeX is a programming
language with file I/O. The renderer also runs TeX with shell escape off and
``openin_any=p`` (defence in depth), but dangerous input must never reach TeX at
all: this check runs while the storyboard is validated, so an unsafe equation is
a bad-input error (never retried), not a render failure.

Fonts count as files: ``\\font\\x=/etc/hostname`` makes kpathsea look for (and, unless
told not to, generate) a font of that name. Constructs that multiply a short input into
thousands of glyphs (leaders, ``\\romannumeral``, box copies) are refused too; the
sandbox (``renderer/tex_sandbox.py``) bounds whatever cost is left.

The rules are deliberately conservative for math: no primitives that touch files
or category codes, no macro definitions, no ``^^`` character escapes (which can
spell a backslash and so smuggle a forbidden command past a textual check), and
only math environments.

Two more kinds are safe but are refused here rather than left to fail later, each with what to
write instead (:data:`REFUSED_WITH_ADVICE`): the graphics package's boxes (``\\scalebox``,
``\\resizebox``, ``\\rotatebox``, ``\\reflectbox``), which the equation template does not load, so
TeX stops at them with "Undefined control sequence" after a renderer Pod has started; and the
sizes that shrink math or text to half (``\\scriptscriptstyle``, ``\\tiny``), below the smallest text
the layout ever draws (the layout sizes each equation to stay readable on its own).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic_core import PydanticCustomError

from videojob import limits as L

FORBIDDEN_COMMANDS = frozenset(
    {
        # file and terminal I/O
        "input",
        "include",
        "includeonly",
        "InputIfFileExists",
        "IfFileExists",
        "read",
        "readline",
        "write",
        "message",
        "immediate",
        "newread",
        "newwrite",
        "verbatiminput",
        "lstinputlisting",
        "includegraphics",
        "includepdf",
        "special",
        "filecontents",
        "write18",
        "ShellEscape",
        "directlua",
        "latelua",
        "jobname",
        "endinput",
        "dump",
        "primitive",
        # fonts are files too, found (or generated) by kpathsea
        "font",
        "fontname",
        "fontdimen",
        "hyphenchar",
        "skewchar",
        "fontencoding",
        "fontfamily",
        "fontseries",
        "fontshape",
        "selectfont",
        "usefont",
        "DeclareFontFamily",
        "DeclareFontShape",
        "DeclareSymbolFont",
        "DeclareMathAlphabet",
        "SetSymbolFont",
        "SetMathAlphabet",
        # turning a few characters into thousands of glyphs
        "leaders",
        "cleaders",
        "xleaders",
        "dotfill",
        "hrulefill",
        "romannumeral",
        "setbox",
        "box",
        "copy",
        "unhbox",
        "unvbox",
        "unhcopy",
        "unvcopy",
        "sbox",
        "savebox",
        "usebox",
        "newsavebox",
        # changing how TeX reads its input
        "catcode",
        "lccode",
        "uccode",
        "sfcode",
        "mathcode",
        "delcode",
        "endlinechar",
        "escapechar",
        "newlinechar",
        "scantokens",
        "csname",
        "endcsname",
        "expandafter",
        "noexpand",
        "string",
        "meaning",
        "detokenize",
        "unexpanded",
        "afterassignment",
        "aftergroup",
        "everyjob",
        "everypar",
        "everymath",
        "everydisplay",
        "everyhbox",
        "everyvbox",
        "everycr",
        "everyeof",
        "output",
        "shipout",
        # defining or redefining macros
        "def",
        "edef",
        "gdef",
        "xdef",
        "let",
        "futurelet",
        "global",
        "long",
        "outer",
        "protected",
        "newcommand",
        "renewcommand",
        "providecommand",
        "DeclareRobustCommand",
        "DeclareMathOperator",
        "newenvironment",
        "renewenvironment",
        "newif",
        "newcount",
        "newtoks",
        "countdef",
        "toksdef",
        "chardef",
        "mathchardef",
        "loop",
        "repeat",
        "makeatletter",
        "makeatother",
        # document structure: the template owns it
        "documentclass",
        "usepackage",
        "RequirePackage",
        "begingroup",
        "endgroup",
        "batchmode",
        "nonstopmode",
        "scrollmode",
        "errorstopmode",
        "errmessage",
        "errhelp",
        "url",
        "href",
        "hyperref",
    }
)

ALLOWED_ENVIRONMENTS = frozenset(
    {
        "matrix",
        "pmatrix",
        "bmatrix",
        "Bmatrix",
        "vmatrix",
        "Vmatrix",
        "smallmatrix",
        "cases",
        "aligned",
        "alignedat",
        "gathered",
        "split",
        "array",
        "subarray",
    }
)

# Whole families: pdfTeX's extensions (images, objects, map files, file dates), the engines'
# scripting, terminal and log output, and every \open.../\close... stream primitive.
FORBIDDEN_PREFIXES = ("pdf", "XeTeX", "lua", "tracing", "show", "open", "close")

_NOT_LOADED = (
    "comes from the graphics package, which equations are not typeset with, so TeX would stop at it "
    "(Undefined control sequence): remove it; the layout sizes every equation to fit the frame"
)
_TOO_SMALL = (
    "at half size, below the smallest text the video ever shows (a viewer on a phone could not read it): "
    "remove it; the layout sizes every equation to stay readable"
)
# Safe commands refused all the same, each with what to do instead (see the module's docstring).
REFUSED_WITH_ADVICE = {
    "scalebox": _NOT_LOADED,
    "resizebox": _NOT_LOADED,
    "rotatebox": _NOT_LOADED,
    "reflectbox": _NOT_LOADED,
    "scriptscriptstyle": f"sets math {_TOO_SMALL}",
    "tiny": f"sets text {_TOO_SMALL}",
}

_CONTROL_SEQUENCE = re.compile(r"\\([A-Za-z@]+|.)", re.DOTALL)
_ENVIRONMENT = re.compile(r"\\(begin|end)(?![A-Za-z])\s*(\{([^}]*)\})?")


class UnsafeLatexError(ValueError):
    """The LaTeX may not be typeset; the message names the offending construct."""


def check_latex(source: str) -> str:
    """``source`` unchanged if it is safe to hand to TeX, else :class:`UnsafeLatexError`."""
    if len(source) > L.LATEX_MAX_CHARS:
        raise UnsafeLatexError(f"LaTeX is longer than {L.LATEX_MAX_CHARS} characters")
    if "^^" in source:
        raise UnsafeLatexError("'^^' character escapes are not allowed in LaTeX")
    if "\x00" in source or any(ord(c) < 32 and c not in "\n\t\r" for c in source):
        raise UnsafeLatexError("control characters are not allowed in LaTeX")
    for match in _CONTROL_SEQUENCE.finditer(source):
        name = match.group(1)
        if "@" in name:
            raise UnsafeLatexError(f"internal command \\{name} is not allowed in LaTeX")
        if name in FORBIDDEN_COMMANDS or name.startswith(FORBIDDEN_PREFIXES):
            raise UnsafeLatexError(f"\\{name} is not allowed in LaTeX (storyboard equations are math only)")
        if name in REFUSED_WITH_ADVICE:
            raise UnsafeLatexError(f"\\{name} {REFUSED_WITH_ADVICE[name]}")
    for match in _ENVIRONMENT.finditer(source):
        # A bare \end is TeX's "stop the job"; \begin and \end must name a math environment.
        if match.group(2) is None:
            raise UnsafeLatexError(f"\\{match.group(1)} must be followed by {{environment}}")
        environment = match.group(3).strip().rstrip("*")
        if environment not in ALLOWED_ENVIRONMENTS:
            allowed = ", ".join(sorted(ALLOWED_ENVIRONMENTS))
            raise UnsafeLatexError(f"environment {{{match.group(3)}}} is not allowed; use one of: {allowed}")
    _check_braces(source)
    return source


def _check_braces(source: str) -> None:
    depth = 0
    escaped = False
    for char in source:
        if escaped:
            escaped = False
            continue
        if char == "\\":
            escaped = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise UnsafeLatexError("LaTeX has a '}' without a matching '{'")
    if depth:
        raise UnsafeLatexError("LaTeX has a '{' without a matching '}'")


def check_scene_latex(scene: Mapping[str, Any]) -> Mapping[str, Any]:
    """A VideoJob's loosely typed scene unchanged once every ``latex`` in it (flat ``latex`` or
    ``visual.latex``) passed :func:`check_latex`; else a validation error naming that field.

    The spec's scenes are checked in depth only by the renderer, but an unsafe equation must be
    refused where the VideoJob is written (the gateway's 422, the operator's InvalidSpec before
    any Job), not after a Pod has started.
    """
    visual = scene.get("visual")
    places = [("latex", scene.get("latex"))]
    if isinstance(visual, Mapping):
        places.append(("visual.latex", visual.get("latex")))
    for field, latex in places:
        if isinstance(latex, str):
            try:
                check_latex(latex)
            except UnsafeLatexError as error:
                raise PydanticCustomError(
                    "unsafe_latex", "{field}: {problem}", {"field": field, "problem": str(error)}
                ) from None
    return scene


def admission_rule() -> str:
    """A CEL rule for the CRD that refuses the guard's commands and ``^^`` escapes in a ``latex`` field.

    Only a first wall: admission cannot decode what :func:`check_latex` decodes (``^^5c`` is refused
    whole; a backslash spelled by ``\\csname`` is refused by name) or check environments and braces,
    so the operator and the gateway run the full guard. A backslash counts when an even number of
    backslashes come before it (``\\\\input`` is a line break, then the word).
    """
    return f"!self.matches('{_cel_string(admission_pattern())}') && !self.contains('^^')"


def admission_pattern() -> str:
    """The RE2 pattern of :func:`admission_rule`: a forbidden command after an even run of backslashes."""
    names = "|".join(sorted(FORBIDDEN_COMMANDS))
    prefixes = "|".join(FORBIDDEN_PREFIXES)
    return rf"(^|[^\\])(\\\\)*\\(({names})([^A-Za-z@]|$)|({prefixes})[A-Za-z]*)"


def _cel_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


ADMISSION_MESSAGE = (
    "must be math only: commands that read or write files, load fonts, or redefine TeX "
    "(\\input, \\write18, \\font, \\catcode, \\def, ...) and ^^ escapes are not allowed"
)
