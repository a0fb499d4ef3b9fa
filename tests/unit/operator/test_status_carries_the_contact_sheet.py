"""The contact sheet's key travels from the termination message into status.output, and the CRD keeps it."""

from __future__ import annotations

import json

import yaml

from support import REPO_ROOT
from videojob.contract import Result, StoredOutput, Usage, encode_termination_message, parse_termination_message
from videojob.crd import CRD_FILE
from videojob.operator.status import Observation, compute_status
from videojob.status import VideoJobStatus

PREFIX = "outputs/team-a/lesson/x/"


def _result_message(**extra: str) -> str:
    output = {
        "bucket": "videos",
        "key": PREFIX + "video.mp4",
        "sizeBytes": 1234567,
        "sha256": "a" * 64,
        "durationSeconds": 61.5,
        "thumbnail": PREFIX + "thumbnail.png",
        **extra,
    }
    return encode_termination_message(Result(output=StoredOutput.model_validate(output), usage=Usage()))


def _succeeded(kube, message: str) -> dict:
    done = kube.pod(phase="Succeeded", state=kube.terminated(0, "Completed", message))
    job = kube.job(succeeded=1, conditions=[kube.job_condition("Complete", "CompletionsReached")])
    return compute_status(kube.videojob(), Observation(now=kube.NOW, job=job, pods=[done]))


def test_a_renderers_contact_sheet_is_in_the_status_output(kube):
    status = _succeeded(kube, _result_message(contactSheet=PREFIX + "contact-sheet.png"))
    assert status["output"]["contactSheet"] == PREFIX + "contact-sheet.png"
    assert VideoJobStatus.model_validate(status).output.contact_sheet == PREFIX + "contact-sheet.png"


def test_a_result_from_a_renderer_without_contact_sheets_still_succeeds_without_one(kube):
    status = _succeeded(kube, _result_message())
    assert status["phase"] == "Succeeded" and "contactSheet" not in status["output"]


def test_an_operator_that_knows_no_contact_sheet_still_reads_the_result():
    # An older operator's StoredOutput lacks the field; the contract ignores keys it does not know,
    # which is what lets a newer renderer's result through. Shown with a key no version has.
    message = json.loads(_result_message(contactSheet=PREFIX + "contact-sheet.png"))
    message["output"]["sheetFromTheFuture"] = "x"
    parsed = parse_termination_message(json.dumps(message))
    assert isinstance(parsed, Result) and parsed.output.key == PREFIX + "video.mp4"


def test_the_crd_keeps_the_contact_sheet_in_status_so_the_api_server_does_not_prune_it():
    crd = yaml.safe_load((REPO_ROOT / "manifests" / "crd" / CRD_FILE).read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    output = schema["properties"]["status"]["properties"]["output"]["properties"]
    assert output["contactSheet"]["type"] == "string"
    assert "every scene" in output["contactSheet"]["description"]


def _longest_result(**output: str) -> Result:
    # The longest keys a VideoJob can have: a 256-character spec.output.prefix, a 63-character namespace
    # and a 253-character name.
    prefix = f"{'p' * 255}/outputs/{'n' * 63}/{'v' * 253}/0f0e1234-5678-9abc-def0-123456789abc/"
    return Result(
        output=StoredOutput.model_validate(
            {
                "bucket": "b" * 63,
                "key": prefix + "video.mp4",
                "url": f"s3://{'b' * 63}/{prefix}video.mp4",
                "sizeBytes": 10**12,
                "sha256": "a" * 64,
                "durationSeconds": 1234.567,
                "subtitles": {"vtt": prefix + "video.vtt", "srt": prefix + "video.srt"},
                "thumbnail": prefix + "thumbnail.png",
                "manifest": prefix + "manifest.json",
                "contactSheet": prefix + "contact-sheet.png",
                **output,
            }
        ),
        usage=Usage(llmPromptTokens=10**9, ttsCharacters=10**9, cpuSeconds=123456.789, peakMemoryBytes=10**12),
    )


def test_the_longest_keys_still_fit_the_termination_message_and_the_status_keeps_the_video(kube):
    result = _longest_result()
    message = encode_termination_message(result)
    assert len(message.encode()) <= 4096
    read = parse_termination_message(message)
    assert isinstance(read, Result)
    assert (read.output.key, read.output.subtitles, read.output.thumbnail) == (
        result.output.key,
        result.output.subtitles,
        result.output.thumbnail,
    )
    status = _succeeded(kube, message)
    assert status["output"]["url"] == result.output.url  # written back by the operator
    assert status["usage"]["peakMemoryBytes"] == 10**12


def test_a_result_with_short_keys_keeps_everything(kube):
    message = _result_message(contactSheet=PREFIX + "contact-sheet.png", manifest=PREFIX + "manifest.json")
    output = _succeeded(kube, message)["output"]
    assert (output["contactSheet"], output["manifest"]) == (PREFIX + "contact-sheet.png", PREFIX + "manifest.json")
