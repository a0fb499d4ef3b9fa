"""What the contact sheet adds to a render: the upload of a video without it and with it, side by side.

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/contact_sheet.py [--lecture examples/lecture.md]
        [--quality low] [--repeat 5]

First the lecture is rendered once, as a user would (`videojob render`, an empty scene cache),
for its wall and CPU seconds: the scale the sheet's cost is read against. Then, in this process,
the stored video is published again and again from the render's own files, alternating
"without" (the video, subtitles and thumbnail: the baseline) and "with" (the sheet drawn from
the scenes' last frames, then uploaded among them), so both see the same load; the medians are
shown. The last line draws the largest sheet there can be (the storyboard's scene limit, each
picture 1080p: the lecture's frames scaled up, so an estimate) for the worst case. Uploads go
to a folder (file://): to S3 the sheet is one more PUT of the size shown. Not a test: it prints
its figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PIL import Image

from videojob.contract import Result
from videojob.limits import SCENES_MAX
from videojob.renderer.assemble import AssembledVideo
from videojob.renderer.cache import VIDEO_FILES, SceneCache
from videojob.renderer.contact_sheet import SHEET_NAME, cached_pictures, draw_contact_sheet
from videojob.renderer.pipeline import scene_keys
from videojob.renderer.publish import publish
from videojob.renderer.settings import RendererSettings
from videojob.renderer.sources import resolve_job
from videojob_devenv import REPO_ROOT

RUN_CLI = "import sys; from videojob.renderer.cli import main; sys.exit(main())"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def render_once(lecture: Path, quality: str, work: Path) -> tuple[float, float, Result]:
    """One cold `videojob render`: its wall seconds, CPU seconds (all its workers) and result."""
    termination = work / "termination.json"
    env = {
        **os.environ,
        "PYTHONSAFEPATH": "1",
        "VIDEOJOB_TERMINATION_LOG": str(termination),
        "VIDEOJOB_CACHE": f"file://{work / 'cache'}",
        "VIDEOJOB_OUTPUT": f"file://{work / 'out'}",
        "VIDEOJOB_QUALITY": quality,
        "VIDEOJOB_PROGRESS": "none",
    }
    env.pop("OPENAI_API_KEY", None)
    started, cpu_started = time.monotonic(), _children_cpu()
    command = [sys.executable, "-P", "-c", RUN_CLI, "render", str(lecture)]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, cwd=work)
    return (
        time.monotonic() - started,
        _children_cpu() - cpu_started,
        Result.model_validate_json(termination.read_text()),
    )


def timed(action: Callable[[], object]) -> tuple[float, float]:
    started, cpu_started = time.monotonic(), time.process_time()
    action()
    return time.monotonic() - started, time.process_time() - cpu_started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lecture", type=Path, default=REPO_ROOT / "examples" / "lecture.md")
    parser.add_argument("--quality", default="low", choices=["low", "medium", "high"])
    parser.add_argument("--repeat", type=int, default=5, help="publishes of each, alternating; medians shown")
    arguments = parser.parse_args()
    lecture = arguments.lecture.resolve()
    print(
        f"lecture: {lecture.name}   quality: {arguments.quality}   cpus: {len(os.sched_getaffinity(0))}   "
        f"load average before: {os.getloadavg()[0]:.1f}   publishes of each: {arguments.repeat}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-contact-sheet-") as scratch:
        work = Path(scratch)
        render_wall, render_cpu, result = render_once(lecture, arguments.quality, work)
        settings = RendererSettings(cache=f"file://{work / 'cache'}", output=f"file://{work / 'out'}",
                                    quality=arguments.quality)  # fmt: skip
        job = resolve_job(lecture, None, settings)
        out = work / "out"
        video = AssembledVideo(
            video=out / VIDEO_FILES["video"],
            vtt=out / VIDEO_FILES["vtt"],
            srt=out / VIDEO_FILES["srt"],
            thumbnail=out / VIDEO_FILES["thumbnail"],
            duration_seconds=result.output.duration_seconds,
            voices=(),
        )
        keys = scene_keys(job.storyboard, job.config)
        pictures = cached_pictures(SceneCache.open(job.config.cache, job.config.s3), keys, work / "pictures")
        assert pictures, "the render left no last frames in its scene cache"
        runs: dict[str, list[tuple[float, float]]] = {"without": [], "with": []}
        for attempt in range(arguments.repeat):
            for label in runs:
                target = work / f"publish-{label}-{attempt}"
                config = replace(job.config, output=f"file://{target}", output_prefix="")

                def once(label: str = label, target: Path = target, config=config) -> None:
                    sheet = (
                        draw_contact_sheet(job.storyboard, config, pictures, target / "sheet")
                        if label == "with"
                        else None
                    )
                    publish(video, config, cached=False, contact_sheet=sheet)

                runs[label].append(timed(once))
        sheet_path = work / f"publish-with-0/{SHEET_NAME}"
        with Image.open(sheet_path) as sheet:
            shape = f"{sheet.width}x{sheet.height}"
        manifest = json.loads((work / "publish-with-0/manifest.json").read_text())
        print(
            f"render (cold, for scale): {len(keys)} scenes ({result.usage.scenes_rendered} drawn), "
            f"{result.output.duration_seconds:.1f} s of video, wall {render_wall:.1f} s, cpu {render_cpu:.1f} s"
        )
        print(f"{'publish':<28} {'wall s':>8} {'cpu s':>8} {'files':>6} {'bytes':>10}")
        for label, measured in runs.items():
            files = (
                manifest["files"]
                if label == "with"
                else {k: v for k, v in manifest["files"].items() if k != SHEET_NAME}
            )
            size = sum(entry["sizeBytes"] for entry in files.values())
            wall = statistics.median(run[0] for run in measured)
            cpu = statistics.median(run[1] for run in measured)
            print(f"{label + ' the contact sheet':<28} {wall:8.3f} {cpu:8.3f} {len(files):>6} {size:>10}")
        print(f"the sheet: {shape}, {manifest['files'][SHEET_NAME]['sizeBytes']} bytes")

        large = work / "large"
        large.mkdir()
        scaled = []
        for index in range(SCENES_MAX):
            with Image.open(pictures[index % len(pictures)]) as picture:
                path = large / f"{index:03d}.png"
                picture.convert("RGB").resize((1920, 1080), Image.Resampling.LANCZOS).save(path)
                scaled.append(path)
        board = job.storyboard.model_copy(
            update={"scenes": [job.storyboard.scenes[i % len(keys)] for i in range(SCENES_MAX)]}
        )
        wall, cpu = timed(lambda: draw_contact_sheet(board, job.config, scaled, large / "sheet"))
        size = (large / "sheet" / SHEET_NAME).stat().st_size
        print(f"largest sheet ({SCENES_MAX} scenes at 1080p, estimated): draw wall {wall:.3f} s, cpu {cpu:.3f} s, "
              f"{size} bytes")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
