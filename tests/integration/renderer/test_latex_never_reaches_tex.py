"""LaTeX injection is refused before TeX runs; and TeX itself is locked down as a second wall."""

import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from videojob.contract import EXIT_BAD_INPUT

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
    from videojob.renderer.manim_render import harden_tex
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
