"""The status model is the shape the operator writes: nothing it writes would be pruned by the API server."""

from datetime import UTC, datetime
from typing import get_args

import pytest

from videojob.contract import RendererPhase, Result, StoredOutput, Subtitles, Usage
from videojob.operator import reasons
from videojob.operator.status import OWNED_KEYS, Observation, compute_status
from videojob.status import CONDITION_TYPES, PHASES, OutputStatus, UsageStatus, VideoJobStatus

NOW = datetime(2026, 11, 21, 10, 30, tzinfo=UTC)
VIDEOJOB = {
    "metadata": {"name": "lesson", "namespace": "ns", "uid": "u1", "generation": 3},
    "spec": {"source": {"markdown": "# A"}, "retries": 2},
}


def _aliases(model) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def test_the_status_has_exactly_the_keys_the_operator_owns():
    assert _aliases(VideoJobStatus) == set(OWNED_KEYS)


def test_phases_and_condition_types_are_the_operators_and_the_renderers():
    assert set(get_args(RendererPhase)) <= set(PHASES)
    assert set(PHASES) == {
        reasons.PENDING,
        reasons.QUEUED,
        reasons.SUSPENDED,
        *reasons.RENDERER_PHASES,
        *reasons.TERMINAL_PHASES,
    }
    assert CONDITION_TYPES == (reasons.ACCEPTED, reasons.PROGRESSING, reasons.SUCCEEDED, reasons.FAILED)


def test_the_renderers_result_fits_the_status_output_and_usage():
    # The API server prunes what the schema does not name: a field missing here would vanish from status.
    assert _aliases(StoredOutput) <= _aliases(OutputStatus)
    assert _aliases(Usage) <= _aliases(UsageStatus)
    result = Result(
        output=StoredOutput(
            bucket="videos",
            key="o/video.mp4",
            size_bytes=10,
            sha256="0" * 64,
            duration_seconds=61.5,
            subtitles=Subtitles(vtt="o/v.vtt", srt="o/v.srt"),
            cached=True,
        ),
        usage=Usage(llm_prompt_tokens=5, scenes_rendered=3),
    )
    wire = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    output = OutputStatus.model_validate(wire["output"])
    assert output.model_dump(mode="json", by_alias=True, exclude_none=True) == wire["output"]
    assert UsageStatus.model_validate(wire["usage"]).model_dump(mode="json", by_alias=True) == wire["usage"]


@pytest.mark.parametrize(
    "seen",
    [
        Observation(now=NOW, queue_position=2, queue_length=5),
        Observation(now=NOW),
        Observation(now=NOW, invalid_spec="spec.source must set exactly one of prompt, markdown or storyboard"),
    ],
    ids=["queued", "pending", "invalid-spec"],
)
def test_what_the_operator_computes_validates_as_a_status(seen):
    status = compute_status(VIDEOJOB, seen)
    typed = VideoJobStatus.model_validate(status)
    assert typed.phase == status["phase"] and typed.observed_generation == 3
    assert [c.type for c in typed.conditions or []] == list(CONDITION_TYPES)
    assert typed.model_dump(mode="json", by_alias=True, exclude_none=True).keys() == status.keys()


def test_a_long_invalid_spec_message_still_makes_a_status_the_api_server_accepts():
    status = compute_status(VIDEOJOB, Observation(now=NOW, invalid_spec="spec.source.markdown: " + "x" * 5000))
    typed = VideoJobStatus.model_validate(status)  # over STAGE_MAX_CHARS the whole status patch would be refused
    assert typed.stage is not None and typed.stage.startswith("Invalid spec: spec.source.markdown")
