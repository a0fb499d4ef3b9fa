"""Run TeX and dvisvgm for Manim confined to the scene's scratch directory and bounded in cost.

The LaTeX guard (:mod:`videojob.latex_guard`) keeps dangerous equations from reaching TeX;
this is the second wall, for whatever a future hole in the guard lets through:

* kpathsea makes no fonts, formats or sources on demand (``MKTEX*=0``): a font name such as
  ``/etc/hostname`` would otherwise start ``mktextfm`` and METAFONT on the user's behalf;
* no shell escape, and TeX reads and writes only relative paths below its working directory
  (``openin_any``/``openout_any`` paranoid, ``TEXMFOUTPUT`` the scratch directory);
* each program runs through :func:`run_bounded` (this module run as a program), which gives it
  CPU, memory and wall-clock limits (an ``array`` preamble of ``*{100000}{c}`` keeps TeX busy
  for good) and refuses an SVG with more glyphs than Manim can draw in reasonable time (TeX
  leaders or ``\\romannumeral`` turn a short equation into thousands).

Manim looks the programs up on ``PATH`` when it typesets, so :func:`harden_tex` puts small
wrappers first on it; what a limit stopped is written to a note that :func:`tex_complaint`
turns into the message the user reads.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from videojob import limits as L

BOUNDED_PROGRAMS = ("latex", "dvisvgm")
HARDENED_TEX_ENVIRONMENT = {
    "shell_escape": "f",  # no \write18, not even the restricted list
    "openin_any": "p",  # paranoid: no absolute paths, no "..", no dot files
    "openout_any": "p",
    "MKTEXTFM": "0",  # a missing font is an error, not a METAFONT run
    "MKTEXPK": "0",
    "MKTEXMF": "0",
    "MKTEXTEX": "0",
    "MKTEXFMT": "0",
    "MKOCP": "0",
    "MKOFM": "0",
}
WALL_SECONDS = 3 * L.LATEX_CPU_SECONDS  # CPU time runs slower than the clock on a busy node
LIMIT_NOTE = "tex-limit.txt"  # in the scratch directory: which limit stopped TeX, for the user
_NOTE_VARIABLE = "VIDEOJOB_TEX_LIMIT_NOTE"
_WRAPPERS = ".tex-bin"
_DRAWN = re.compile(rb"<(?:use|rect)\b")
_path_before_hardening: str | None = None


def harden_tex(scratch: Path) -> None:
    """Make every TeX run this process starts from now on confined to ``scratch`` and bounded."""
    global _path_before_hardening
    if _path_before_hardening is None:
        _path_before_hardening = os.environ.get("PATH", os.defpath)
    wrappers = scratch / _WRAPPERS
    wrappers.mkdir(parents=True, exist_ok=True)
    for program in BOUNDED_PROGRAMS:
        real = shutil.which(program, path=_path_before_hardening)
        if real is None:
            continue  # Manim reports the missing program itself
        wrapper = wrappers / program
        command = [sys.executable, "-P", "-m", __name__, real]
        wrapper.write_text(f'#!/bin/sh\nexec {shlex.join(command)} "$@"\n')
        wrapper.chmod(0o755)
    os.environ.update(HARDENED_TEX_ENVIRONMENT)
    os.environ["TEXMFOUTPUT"] = str(scratch)
    os.environ[_NOTE_VARIABLE] = str(scratch / LIMIT_NOTE)
    os.environ["PATH"] = f"{wrappers}{os.pathsep}{_path_before_hardening}"


@contextlib.contextmanager
def tex_confined_to(scratch: Path) -> Iterator[None]:
    """:func:`harden_tex` for the length of a ``with`` block, then the environment as it was.

    A scene drawn in a long-lived process (a test, a notebook) must not leave TeX paranoid and
    pointed at a scratch directory that is gone: every TeX that process started later failed."""
    saved = os.environ.copy()
    harden_tex(scratch)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def tex_complaint(scratch: Path) -> str:
    """Why TeX did not typeset, in words the user can act on: the limit it hit, or TeX's first error."""
    note = scratch / LIMIT_NOTE
    if note.exists():
        return note.read_text().strip()
    for log in scratch.rglob("*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("! "):
                return line[2:].strip()[:200]
    return "check the LaTeX syntax"


def tex_failed(error: Exception, scratch: Path) -> bool:
    """Whether ``error`` (raised while Manim typeset) means TeX or dvisvgm refused the equation."""
    return "error converting to" in str(error) or (scratch / LIMIT_NOTE).exists()


def run_bounded(argv: list[str]) -> int:
    """Run ``argv`` (TeX or dvisvgm, as Manim called it) within the limits; its exit status."""
    program = Path(argv[0]).name

    def limit_resources() -> None:
        cpu = L.LATEX_CPU_SECONDS
        memory = L.LATEX_MEMORY_MIB * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    try:
        # Only Manim's own, fixed flags and generated file names reach here, never the user's text.
        done = subprocess.run(argv, preexec_fn=limit_resources, timeout=WALL_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        return _stopped(f"{program} ran past its limit of {WALL_SECONDS} s; simplify the equation")
    if done.returncode < 0 or done.returncode >= 128:
        return _stopped(
            f"{program} was stopped at its limit of {L.LATEX_CPU_SECONDS} CPU seconds or "
            f"{L.LATEX_MEMORY_MIB} MiB of memory; simplify the equation"
        )
    if program == "dvisvgm" and done.returncode == 0:
        return _check_svg(argv)
    return done.returncode


def _check_svg(argv: list[str]) -> int:
    output = next((Path(arg.split("=", 1)[1]) for arg in argv if arg.startswith("--output=")), None)
    if output is None or not output.exists():
        return 0
    drawn = len(_DRAWN.findall(output.read_bytes()))
    if drawn > L.LATEX_GLYPHS_MAX:
        output.unlink()
        return _stopped(f"the equation draws {drawn} glyphs, more than the {L.LATEX_GLYPHS_MAX} allowed")
    return 0


def _stopped(reason: str) -> int:
    note = os.environ.get(_NOTE_VARIABLE)
    if note:
        Path(note).write_text(reason + "\n")
    print(f"videojob: {reason}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(run_bounded(sys.argv[1:]))
