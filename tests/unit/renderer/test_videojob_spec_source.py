"""What the operator mounts (the VideoJob spec) becomes a storyboard and one resolved render config."""

import json
from pathlib import Path

import pytest
import yaml

from support import REPO_ROOT
from videojob.renderer.errors import InvalidSourceError
from videojob.renderer.narration import choose_voices
from videojob.renderer.settings import RendererSettings
from videojob.renderer.sources import resolve_job
from videojob.spec import VideoJobSpec, renderer_spec_json

SAMPLES = REPO_ROOT / "manifests" / "samples"


def _spec(**fields) -> VideoJobSpec:
    return VideoJobSpec.model_validate({"source": {"markdown": "# T\n\nHello."}, **fields})


def _job(spec: VideoJobSpec, tmp_path: Path, **settings):
    path = tmp_path / "spec.json"
    path.write_text(renderer_spec_json(spec))
    return resolve_job(None, None, RendererSettings(spec_file=path, **settings))


@pytest.mark.parametrize("sample", ["videojob_v1alpha1_storyboard.yaml", "videojob_v1alpha1_markdown.yaml"])
def test_the_offline_samples_that_ship_become_valid_storyboards(sample, tmp_path):
    spec = VideoJobSpec.model_validate(yaml.safe_load((SAMPLES / sample).read_text())["spec"])
    job = _job(spec, tmp_path)
    assert job.storyboard.theme == spec.theme and len(job.storyboard.scenes) >= 3
    assert job.usage.llm_prompt_tokens == 0


def test_the_markdown_sample_renders_the_scenes_it_always_did(tmp_path):
    spec = VideoJobSpec.model_validate(
        yaml.safe_load((SAMPLES / "videojob_v1alpha1_markdown.yaml").read_text())["spec"]
    )
    board = _job(spec, tmp_path).storyboard
    kinds = [scene.visual.kind for scene in board.scenes]
    assert kinds == ["title_card", "equation", "diagram", "comparison", "timeline"]
    assert board.scenes[1].narration.startswith("In a right triangle")
    assert board.scenes[2].visual.shapes[0].legs == (3.0, 4.0)  # its right triangle, drawn to scale


def test_the_crd_flat_scene_form_maps_onto_the_catalogue(tmp_path):
    spec = VideoJobSpec.model_validate(
        {
            "theme": "biology",
            "source": {
                "storyboard": {
                    "title": "Leaves",
                    "scenes": [
                        {"template": "title", "title": "Leaves", "narration": "Hi."},
                        {"template": "bullets", "title": "Inputs", "bullets": ["Light"], "narration": "Light."},
                        {"template": "equation", "latex": "a=b", "title": "Balance", "narration": "Equal."},
                    ],
                }
            },
        }
    )
    storyboard = _job(spec, tmp_path).storyboard
    title, bullets, equation = (scene.visual for scene in storyboard.scenes)
    assert (title.kind, title.title) == ("title_card", "Leaves")
    assert (bullets.kind, bullets.heading, bullets.bullets) == ("bullet_list", "Inputs", ["Light"])
    assert (equation.kind, equation.caption) == ("equation", "Balance")
    assert storyboard.theme == "biology"


@pytest.mark.parametrize(
    ("voice", "language", "chain"),
    [
        ({"provider": "espeak"}, "en", "espeak:en-us"),
        ({"provider": "espeak", "name": "en-gb"}, "en", "espeak:en-gb"),
        ({"provider": "espeak"}, "de", "espeak:de"),
        ({"provider": "openai", "name": "nova"}, "en", "openai:nova,piper:en_US-joe-medium,espeak:en-us"),
        ({"provider": "openai"}, "fr", "openai:alloy,espeak:fr-fr"),
        ({"provider": "none"}, "en", "none:silent"),
    ],
)
def test_the_spec_voice_becomes_a_chain_with_an_offline_fallback(voice, language, chain, tmp_path):
    job = _job(_spec(voice=voice, language=language), tmp_path, voice="openai:shimmer")  # the spec wins
    assert job.config.voice_chain == chain
    assert job.storyboard.language == language


def test_without_a_voice_the_storyboard_language_is_spoken_and_a_written_chain_is_kept():
    assert [voice.spec for voice in choose_voices(None, "de")] == ["espeak:de"]
    assert [voice.spec for voice in choose_voices(None, "en")] == ["piper:en_US-joe-medium", "espeak:en-us"]
    assert [voice.spec for voice in choose_voices("openai:alloy, en-gb", "de")] == ["openai:alloy", "espeak:en-gb"]
    assert [voice.spec for voice in choose_voices("openai,espeak", "es")] == ["openai:alloy", "espeak:es"]


def test_spec_quality_and_llm_override_the_pod_settings(tmp_path):
    spec = _spec(quality="high", llm={"provider": "openai", "model": "gpt-x", "baseURL": "http://llm:8000/v1"})
    config = _job(spec, tmp_path, quality="low").config
    assert (config.quality, config.openai_speech.base_url) == ("high", "http://llm:8000/v1")


def test_every_language_the_spec_admits_the_storyboard_carries(tmp_path):
    job = _job(_spec(language="zh-Hant-TW"), tmp_path)
    assert (job.storyboard.language, job.config.voice_chain) == ("zh-Hant-TW", "espeak:cmn-latn-pinyin")


def test_an_unknown_theme_setting_is_bad_input(tmp_path):
    with pytest.raises(InvalidSourceError, match="unknown theme 'astrology'; use one of: default"):
        _job(_spec(), tmp_path, theme="astrology")


def test_the_config_is_frozen(tmp_path):
    config = _job(_spec(), tmp_path).config
    with pytest.raises(AttributeError):
        config.quality = "high"  # type: ignore[misc,unused-ignore]  # frozen: the point of the test
    assert "sk-" not in repr(_job(_spec(), tmp_path, openai_api_key="sk-secret").config)


def test_the_operator_environment_names_are_understood(monkeypatch):
    for name, value in {
        "VIDEOJOB_NAME": "lesson",
        "VIDEOJOB_UID": "u-1",
        "VIDEOJOB_SHARDS": "3",
        "JOB_COMPLETION_INDEX": "1",
        "VIDEOJOB_OUTPUT_BUCKET": "videos",
        "VIDEOJOB_OUTPUT_PREFIX": "outputs/ns/lesson/u-1/",
        "AWS_ACCESS_KEY_ID": "ak",
        "AWS_SECRET_ACCESS_KEY": "sk",
    }.items():
        monkeypatch.setenv(name, value)
    settings = RendererSettings()
    assert (settings.job_name, settings.job_uid, settings.shards, settings.shard_index) == ("lesson", "u-1", 3, 1)
    assert (settings.output, settings.output_prefix) == ("s3://videos", "outputs/ns/lesson/u-1/")
    assert (settings.s3_access_key, settings.s3_secret_key.get_secret_value()) == ("ak", "sk")
    assert json.dumps(str(settings.s3_secret_key)) != '"sk"'
