"""``videojob render``: argument parsing, the summary line, and errors as one clear line.

stderr carries the log lines: ``videojob: ...`` for a person, or with VIDEOJOB_LOG_FORMAT=json
(what the operator sets in the Pod) one JSON object per line naming the VideoJob's namespace,
name and uid (:mod:`videojob.logformat`). stdout carries only the progress lines there.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from videojob import logformat
from videojob.renderer.errors import failure_for
from videojob.renderer.progress import Progress, format_seconds, write_termination_message
from videojob.renderer.settings import RendererSettings
from videojob.storyboard import THEMES

if TYPE_CHECKING:
    from videojob.renderer.sources import RenderJob

log = logging.getLogger("videojob.renderer")
TEXT_FORMAT = "videojob: %(message)s"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="videojob", description="Narrated, animated explainer videos.")
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="render a Markdown lecture, a storyboard or a prompt to MP4")
    render.add_argument("source", nargs="?", type=Path, help="lecture.md, storyboard.json or storyboard.yaml")
    render.add_argument("--prompt", help="ask the configured LLM to write the storyboard")
    render.add_argument("--quality", choices=["low", "medium", "high"], help="480p15, 720p30 or 1080p30")
    render.add_argument("--theme", choices=sorted(THEMES), help="override the storyboard's theme")
    render.add_argument("--orientation", choices=["landscape", "portrait"], help="16:9, or 9:16 for reels")
    render.add_argument(
        "--contact-sheet",
        action="store_true",
        help="kept for older scripts: contact-sheet.png (every scene's finished picture) is always written now",
    )
    render.add_argument("--voice", help="voice chain, e.g. piper, espeak:de or openai:alloy,piper,espeak:en-us")
    render.add_argument("-o", "--output", help="file://DIR or s3://BUCKET/PREFIX (default file://out)")
    render.add_argument("--cache", help="scene cache: file://DIR, s3://BUCKET/PREFIX or off")
    render.add_argument("--progress", choices=["auto", "json", "bar", "none"], help="how to show progress")
    return parser


def _stop_on_sigterm(signum: int, _frame: object) -> None:
    """Kubernetes stops a Pod with SIGTERM; as PID 1 we would otherwise ignore it until SIGKILL.
    Stop the scene workers too, and leave no termination message: whoever stopped us knows why."""
    for worker in multiprocessing.active_children():
        worker.kill()
    log.warning("terminated")
    os._exit(128 + signum)


def _ensure_temporary_directory() -> None:
    # In the renderer Pod the root filesystem is read-only and TMPDIR points into a
    # scratch emptyDir that starts empty: without this, tempfile finds no usable directory.
    configured = os.environ.get("TMPDIR")
    if configured:
        os.makedirs(configured, exist_ok=True)


def _configure_logging() -> bool:
    """stderr's lines as VIDEOJOB_LOG_FORMAT/LEVEL say; True when they are JSON.

    Done before the settings are read, so that a bad setting is reported in the Pod's format
    too; a bad format or level falls back to text here, and the settings name the variable.
    Libraries log at WARNING and up; the level is the renderer's own loggers'.
    """
    try:
        fmt = logformat.check_format(os.environ.get("VIDEOJOB_LOG_FORMAT", "text"), "VIDEOJOB_LOG_FORMAT")
        level = logformat.check_level(os.environ.get("VIDEOJOB_LOG_LEVEL", "INFO"), "VIDEOJOB_LOG_LEVEL")
    except logformat.LogSettingError:
        fmt, level = "text", "INFO"
    logformat.configure("WARNING", fmt, sys.stderr, text_format=TEXT_FORMAT)
    logging.getLogger("videojob").setLevel(level)
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # our own retry loop reports what matters
    return logformat.resolve_format(fmt, sys.stderr) == "json"


def main(argv: list[str] | None = None) -> int:
    """The ``videojob`` command (console script)."""
    _ensure_temporary_directory()
    arguments = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    json_logs = _configure_logging()
    overrides = {
        name: getattr(arguments, name)
        for name in ("quality", "orientation", "theme", "voice", "output", "cache", "progress")
        if getattr(arguments, name)
    }
    try:
        settings = RendererSettings(**overrides)
    except ValidationError as error:
        problem = error.errors()[0]
        log.error("error: bad configuration: %s: %s", problem["loc"], problem["msg"])
        return 2
    if "job_uid" in settings.model_fields_set:  # a VideoJob's render (the Pod): every line names it
        logformat.bind_videojob(logformat.identity(settings.namespace, settings.job_name, settings.job_uid))
    progress = Progress(settings.progress)
    try:
        from videojob.renderer.pipeline import render_storyboard
        from videojob.renderer.sources import resolve_job

        progress.report("Scripting", "Writing the storyboard", 0.0)
        if settings.shards > 1:  # one Pod of a fanned-out render: the same storyboard as every other
            from videojob.renderer.shards import resolve_shared_job

            job = resolve_shared_job(arguments.source, arguments.prompt, settings)
        else:
            job = resolve_job(arguments.source, arguments.prompt, settings)
        index = settings.shard_index if settings.shards > 1 else None
        if index is None:  # a single-Pod render (or, without an index, one that finds every share cached)
            report = render_storyboard(job.storyboard, job.config, progress, job.usage)
        else:
            from videojob.renderer.shards import assembles, render_last_share, wait_bound_seconds

            if not assembles(index, settings.shards):
                return _render_share(job, progress, index, settings)
            # The last index: its own share, then the video of every share.
            wait = wait_bound_seconds(settings)
            report = render_last_share(job.storyboard, job.config, progress, settings.shards, job.usage, wait)
    except KeyboardInterrupt:
        progress.finish_line()
        log.warning("interrupted")
        return 130
    except Exception as error:  # every failure becomes one line and a termination message
        failure, exit_code = failure_for(error)
        write_termination_message(settings.termination_log, failure)
        progress.finish_line()
        log.error("error: %s: %s", failure.reason, failure.message, extra={"fields": {"reason": failure.reason}})
        return exit_code
    write_termination_message(settings.termination_log, report.result)
    progress.announce_end(report.result)
    progress.finish_line()
    output = report.result.output
    rendered = f"{report.scenes_rendered} scene{'' if report.scenes_rendered == 1 else 's'}"
    summary = (
        f"{output.url}  {format_seconds(output.duration_seconds)} of video, {output.size_bytes / 1e6:.1f} MB, "
        f"{rendered} rendered, {report.scenes_cached} cached, in {report.seconds:.1f}s"
    )
    if json_logs:
        figures = {
            "url": output.url,
            "duration_seconds": output.duration_seconds,
            "size_bytes": output.size_bytes,
            "scenes_rendered": report.scenes_rendered,
            "scenes_cached": report.scenes_cached,
            "seconds": round(report.seconds, 3),
        }
        log.info("rendered %s", summary, extra={"fields": figures})
    else:
        print(summary, file=sys.stderr if progress.mode == "json" else sys.stdout)
    return 0


def _render_share(job: RenderJob, progress: Progress, index: int, settings: RendererSettings) -> int:
    """Draw one share into the scene cache; the summary line says what it did (the last index uploads)."""
    from videojob.renderer.shards import render_share

    shares = settings.shards
    report, done = render_share(job.storyboard, job.config, progress, index, shares, job.usage)
    write_termination_message(settings.termination_log, done)
    progress.announce_end(done)
    progress.finish_line()
    summary = (
        f"share {index + 1}/{shares}: {len(report.scenes)} scenes in the cache, {report.rendered} rendered, "
        f"{report.cached} cached, in {report.seconds:.1f}s"
    )
    log.info(
        "%s",
        summary,
        extra={
            "fields": {
                "share": index,
                "shares": shares,
                "scenes_rendered": report.rendered,
                "scenes_cached": report.cached,
                "seconds": round(report.seconds, 3),
            }
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
