"""What the operator mounts (the VideoJob spec) becomes a storyboard and the job's own settings."""

from pathlib import Path

import pytest
import yaml

from videojob.renderer.settings import RendererSettings
from videojob.renderer.spec_source import settings_for, storyboard_for, voice_chain
from videojob.spec import VideoJobSpec

SAMPLES = Path(__file__).resolve().parents[3] / "manifests" / "samples"


def _spec(**fields) -> VideoJobSpec:
    return VideoJobSpec.model_validate({"source": {"markdown": "# T\n\nHello."}, **fields})


@pytest.mark.parametrize("sample", ["videojob_v1alpha1_storyboard.yaml", "videojob_v1alpha1_markdown.yaml"])
def test_the_offline_samples_that_ship_become_valid_storyboards(sample):
    spec = VideoJobSpec.model_validate(yaml.safe_load((SAMPLES / sample).read_text())["spec"])
    storyboard, usage = storyboard_for(spec, RendererSettings())
    assert storyboard.theme == spec.theme and len(storyboard.scenes) >= 3
    assert usage.llm_prompt_tokens == 0


def test_the_crd_flat_scene_form_maps_onto_the_catalogue():
    spec = VideoJobSpec.model_validate({"theme": "biology", "source": {"storyboard": {"title": "Leaves", "scenes": [
        {"template": "title", "title": "Leaves", "narration": "Hi."},
        {"template": "bullets", "title": "Inputs", "bullets": ["Light"], "narration": "Light."},
        {"template": "equation", "latex": "a=b", "title": "Balance", "narration": "Equal."}]}}})
    storyboard, _ = storyboard_for(spec, RendererSettings())
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
        ({"provider": "openai", "name": "nova"}, "en", "openai:nova,espeak:en-us"),
        ({"provider": "none"}, "en", "none:silent"),
    ],
)
def test_the_spec_voice_becomes_a_chain_with_an_offline_fallback(voice, language, chain):
    assert voice_chain(_spec(voice=voice, language=language)) == chain


def test_spec_quality_and_llm_override_the_pod_settings():
    spec = _spec(quality="high", llm={"provider": "openai", "model": "gpt-x", "baseURL": "http://llm:8000/v1"})
    settings = settings_for(spec, RendererSettings(quality="low"))
    assert (settings.quality, settings.llm_model, settings.llm_base_url) == ("high", "gpt-x", "http://llm:8000/v1")


def test_the_operator_environment_names_are_understood(monkeypatch):
    for name, value in {"VIDEOJOB_NAME": "lesson", "VIDEOJOB_UID": "u-1", "VIDEOJOB_PARALLELISM": "3",
                        "VIDEOJOB_OUTPUT_BUCKET": "videos", "VIDEOJOB_OUTPUT_PREFIX": "outputs/ns/lesson/u-1/",
                        "AWS_ACCESS_KEY_ID": "ak", "AWS_SECRET_ACCESS_KEY": "sk"}.items():
        monkeypatch.setenv(name, value)
    settings = RendererSettings()
    assert (settings.job_name, settings.job_uid, settings.parallel_scenes) == ("lesson", "u-1", 3)
    assert (settings.output, settings.output_prefix) == ("s3://videos", "outputs/ns/lesson/u-1/")
    assert (settings.s3_access_key, settings.s3_secret_key.get_secret_value()) == ("ak", "sk")
