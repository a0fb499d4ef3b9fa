"""LaTeX injection is refused before TeX runs; and TeX itself is locked down as a second wall.

The second wall (renderer/tex_sandbox.py) is tested by handing TeX hostile input directly,
as if the guard had a hole: no helper program starts, nothing is written outside the
scratch directory, and an equation that would keep TeX busy for good is stopped at its limit.
"""

import json
import multiprocessing
import os
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from videojob.contract import EXIT_BAD_INPUT
from videojob.latex_guard import check_latex
from videojob.limits import LATEX_GLYPHS_MAX
from videojob.renderer import tex_sandbox

# The unit tests try every forbidden construct; these go end to end through the CLI.
ATTACKS = [r"\input{/etc/hostname}", r"^^5cinput{/etc/hostname}"]


@pytest.mark.parametrize("latex", ATTACKS)
def test_an_injected_equation_fails_as_bad_input_and_no_tex_runs(render_cli, tmp_path, latex):
    sentinel_bin = tmp_path / "bin"
    sentinel_bin.mkdir()
    for program in ("latex", "pdflatex", "xelatex", "lualatex", "dvisvgm"):
        fake = sentinel_bin / program
        fake.write_text(f"#!/bin/sh\necho ran > {tmp_path}/tex-ran\nexit 1\n")
        fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    source = tmp_path / "attack.json"
    source.write_text(
        json.dumps(
            {
                "title": "Attack",
                "scenes": [
                    {"narration": "Hello.", "visual": {"kind": "title_card", "title": "Fine"}},
                    {"narration": "Look.", "visual": {"kind": "equation", "latex": latex}},
                ],
            }
        )
    )
    run = render_cli(
        str(source),
        "--quality",
        "low",
        "-o",
        f"file://{tmp_path}/out",
        env={"PATH": f"{sentinel_bin}:{os.environ['PATH']}"},
    )
    assert run.returncode == EXIT_BAD_INPUT
    assert run.termination.reason == "InvalidStoryboard"
    assert "scenes.1.visual.equation.latex" in run.termination.message
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("videojob: error: InvalidStoryboard: ")
    assert not (tmp_path / "tex-ran").exists()
    assert not (tmp_path / "out").exists()
    assert not any(event.phase == "Rendering" for event in run.events)


HOSTNAME_PROBE = textwrap.dedent(r"""
    import sys, tempfile
    from pathlib import Path
    from videojob.renderer.tex_sandbox import harden_tex
    scratch = Path(tempfile.mkdtemp())
    if sys.argv[1] == "hardened":
        harden_tex(scratch)
    from manim import MathTex, tempconfig
    with tempconfig({"media_dir": str(scratch), "verbosity": "CRITICAL"}):
        try:
            MathTex(r"\input{/etc/hostname}")
        except ValueError:
            print("tex-failed")
        else:
            print("typeset")
""")


def _probe(mode: str) -> tuple[list[str], str]:
    run = subprocess.run(
        [sys.executable, "-P", "-c", HOSTNAME_PROBE, mode],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONSAFEPATH": "1"},
    )
    return run.stdout.split(), run.stderr


def test_even_past_the_guard_tex_refuses_to_read_etc_hostname():
    # Defence in depth: hand TeX the attack directly, as if the storyboard check had a hole.
    hardened, stderr = _probe("hardened")
    assert hardened == ["tex-failed"], stderr
    assert "Not reading from /etc/hostname (openin_any = p)" in stderr  # kpathsea's own refusal
    # The control: the same LaTeX in an unhardened TeX would have put the host name in the frame.
    unhardened, stderr = _probe("plain")
    assert unhardened == ["typeset"], stderr
    assert "Not reading from" not in stderr


def test_safe_latex_that_tex_cannot_typeset_is_bad_input_not_a_retry(render_cli, tmp_path):
    source = tmp_path / "typo.json"
    source.write_text(
        json.dumps(
            {
                "title": "Typo",
                "scenes": [{"narration": "Look.", "visual": {"kind": "equation", "latex": r"\fracc{1}{2}"}}],
            }
        )
    )
    run = render_cli(str(source), "--quality", "low", "-o", f"file://{tmp_path}/out", "--cache", "off")
    assert run.returncode == EXIT_BAD_INPUT, run.stderr
    assert run.termination.reason == "InvalidStoryboard"
    assert run.termination.message == r'scene 1: TeX could not typeset "\fracc{1}{2}": Undefined control sequence.'
    assert all(line.startswith("{") for line in run.stdout.splitlines())  # stdout: progress events only


# Past the guard: TeX run the way Manim runs it (the programs found on PATH, in the scratch directory).
DIRECT_TEX = textwrap.dedent(r"""
    import subprocess, sys
    from pathlib import Path
    from videojob.renderer.tex_sandbox import harden_tex
    scratch = Path(sys.argv[2])
    if sys.argv[1] == "hardened":
        harden_tex(scratch)
    for command in sys.argv[3:]:
        done = subprocess.run(command.split(), cwd=scratch, capture_output=True, text=True)
        print(done.returncode, flush=True)
        sys.stderr.write(done.stdout + done.stderr)
""")
HELPERS = ("mktextfm", "mktexpk", "mktexmf", "mktextex", "mf", "mf-nowin", "kpsewhich")


def _tex_document(body: str) -> str:
    return "\\documentclass{article}\n\\pagestyle{empty}\n\\begin{document}\n" + body + "\n\\end{document}\n"


def _run_tex_directly(tmp_path, mode: str, documents: dict[str, str], *commands: str) -> tuple[list[str], str]:
    """TeX (and dvisvgm) on ``documents`` (name: body) in a fresh scratch directory, with every helper
    TeX could start replaced by a program that leaves a mark: the return codes and everything printed."""
    scratch = tmp_path / f"scratch-{mode}"
    scratch.mkdir()
    for name, body in documents.items():
        (scratch / f"{name}.tex").write_text(_tex_document(body))
    helpers = tmp_path / "helpers"
    helpers.mkdir(exist_ok=True)
    for program in HELPERS:
        fake = helpers / program
        fake.write_text(f'#!/bin/sh\necho "{program} $*" >> {tmp_path}/helpers-ran\nexit 1\n')
        fake.chmod(0o755)
    environment = {**os.environ, "PYTHONSAFEPATH": "1", "HOME": str(tmp_path / "home")}
    environment["PATH"] = f"{helpers}:{os.environ['PATH']}"
    run = subprocess.run(
        [sys.executable, "-P", "-c", DIRECT_TEX, mode, str(scratch), *commands],
        capture_output=True,
        text=True,
        timeout=180,
        env=environment,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.split(), run.stderr


def _files_outside_scratch(tmp_path) -> set[str]:
    """Every file under tmp_path (HOME, the scratch directory's parent) but the scratch and the helpers."""
    return {
        str(path.relative_to(tmp_path))
        for path in tmp_path.rglob("*")
        if path.is_file() and path.relative_to(tmp_path).parts[0] not in ("scratch-hardened", "helpers")
    }


# One document each: TeX stops at the first refused write.
ATTACKS_PAST_THE_GUARD = {
    "font": r"$\font\x=/etc/hostname \x a$",  # kpathsea would run mktextfm, then METAFONT, for it
    "shell": r"\immediate\write18{kpsewhich --version}",  # the restricted shell escape allows kpsewhich
    "up": r"\immediate\openout3=../escaped.tex \immediate\write3{x}\immediate\closeout3",
    "absolute": r"\immediate\openout4={TMP}/absolute.tex \immediate\write4{x}\immediate\closeout4",
    "home": r"\immediate\openout5=~/.bashrc \immediate\write5{x}\immediate\closeout5",
}


def _attacks(tmp_path) -> dict[str, str]:
    (tmp_path / "home").mkdir()
    return {name: body.replace("{TMP}", str(tmp_path)) for name, body in ATTACKS_PAST_THE_GUARD.items()}


def _latex_each(documents: dict[str, str]) -> list[str]:
    return [f"latex -interaction=batchmode {name}.tex" for name in documents]


def test_past_the_guard_tex_starts_no_helper_and_writes_only_in_its_scratch_directory(tmp_path):
    documents = _attacks(tmp_path)
    before = _files_outside_scratch(tmp_path)
    _, output = _run_tex_directly(tmp_path, "hardened", documents, *_latex_each(documents))
    assert not (tmp_path / "helpers-ran").exists(), (tmp_path / "helpers-ran").read_text()
    assert _files_outside_scratch(tmp_path) == before
    scratch = tmp_path / "scratch-hardened"
    assert not (scratch / "missfont.log").exists()
    assert "Font \\x=/etc/hostname not loadable" in (scratch / "font.log").read_text(errors="replace")
    assert "runsystem(kpsewhich --version)...disabled" in (scratch / "shell.log").read_text(errors="replace")
    for target in ("../escaped.tex", f"{tmp_path}/absolute.tex"):
        assert f"Not writing to {target} (openout_any = p)" in output


def test_the_control_unhardened_tex_starts_the_helpers(tmp_path):
    # Without the sandbox, the same documents make TeX start programs: the marks above mean something.
    documents = _attacks(tmp_path)
    _run_tex_directly(tmp_path, "plain", documents, *_latex_each(documents))
    ran = (tmp_path / "helpers-ran").read_text()
    assert "mktextfm /etc/hostname" in ran
    assert "kpsewhich --version" in ran
    assert (tmp_path / "scratch-plain" / "missfont.log").exists()


def test_tex_that_would_never_finish_is_stopped_at_its_cpu_limit(tmp_path):
    # array's column repetition: TeX was still working after 300 s.
    body = r"$\begin{array}{*{100000}{c}}x\end{array}$"
    assert check_latex(body.strip("$")) == body.strip("$")  # the guard lets it through: only the limit stops it
    started = time.monotonic()
    codes, output = _run_tex_directly(tmp_path, "hardened", {"busy": body}, "latex -interaction=batchmode busy.tex")
    elapsed = time.monotonic() - started
    assert codes == ["1"], output
    assert elapsed < tex_sandbox.WALL_SECONDS + 15
    note = (tmp_path / "scratch-hardened" / tex_sandbox.LIMIT_NOTE).read_text()
    assert "latex" in note and "limit" in note and "simplify the equation" in note, note


def test_an_equation_drawing_more_glyphs_than_allowed_is_refused_before_manim_parses_it(tmp_path):
    # Leaders turn 40 characters into 4000 glyphs (11 s and 700 MiB for Manim to parse).
    body = r"$\hbox to 4000pt{\xleaders\hbox to 1pt{x}\hfil}$"
    codes, output = _run_tex_directly(
        tmp_path,
        "hardened",
        {"many": body},
        "latex -interaction=batchmode many.tex",
        "dvisvgm --no-fonts --verbosity=0 --output=many.svg many.dvi",
    )
    assert codes == ["0", "1"], output
    scratch = tmp_path / "scratch-hardened"
    assert not (scratch / "many.svg").exists()
    assert (scratch / tex_sandbox.LIMIT_NOTE).read_text().strip() == (
        f"the equation draws 4000 glyphs, more than the {LATEX_GLYPHS_MAX} allowed"
    )


def test_a_scene_drawn_in_a_long_lived_process_leaves_its_environment_as_it_was(tmp_path):
    """render_scene confines TeX for its own scene only: a process that draws a scene (a test
    session, a notebook) and starts TeX afterwards must not find it paranoid and pointed at a
    scratch directory that is gone (it made every later TeX in the suite refuse its own file)."""
    from videojob.renderer.manim_render import SceneJob, render_scene
    from videojob.renderer.timing import plan_scene

    job = SceneJob(1, {"kind": "equation", "latex": r"a^2 + b^2 = c^2"}, "Look.", "math", plan_scene(1.0, 15),
                   854, 480, tmp_path / "scene.mp4")  # fmt: skip

    def draw_then_compare() -> None:
        before = dict(os.environ)
        render_scene(job)
        changed = {key for key in before.keys() | os.environ.keys() if before.get(key) != os.environ.get(key)}
        (tmp_path / "changed").write_text(" ".join(sorted(changed)))

    child = multiprocessing.get_context("fork").Process(target=draw_then_compare)
    child.start()
    child.join(timeout=300)
    assert child.exitcode == 0 and (tmp_path / "scene.mp4").exists(), f"the scene was not drawn (exit {child.exitcode})"
    assert (tmp_path / "changed").read_text() == "", "variables render_scene left changed"
