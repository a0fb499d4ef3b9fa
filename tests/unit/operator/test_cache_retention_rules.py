"""Which cache entries a sweep removes, how the retention is written, and that the sweep knows the
renderer's cache layout. The sweep against a real MinIO: tests/integration/renderer/test_cache_retention_sweep.py."""

from __future__ import annotations

import pytest

from videojob.limits import CACHE_RETENTION_MIN_SECONDS
from videojob.operator.cache_expiry import (
    CACHE_PREFIX,
    KEPT_KINDS,
    MANIFEST,
    SPOKEN,
    SPOKEN_RETENTION_SECONDS,
    Entry,
    entries,
    expired,
    sweep_interval,
    sweeper_for,
)
from videojob.operator.settings import OperatorSettings, SettingsError, load_settings, parse_duration

DAY = 86400.0
A, B = "a" * 64, "b" * 64


def _entry(kind: str, age: float, *, key: str = A, complete: bool = True, now: float = 10 * DAY) -> Entry:
    return Entry(kind, key, [f"cache/{kind}/{key}/{MANIFEST}"], now - age, complete)


def test_an_entry_is_its_objects_together_dated_by_the_newest():
    listing = [
        (f"cache/scenes/{A}/last_frame.png", 100.0),
        (f"cache/scenes/{A}/manifest.json", 300.0),  # touched by a use
        (f"cache/scenes/{A}/scene.mp4", 100.0),
        (f"cache/scenes/{B}/scene.mp4", 50.0),  # never finished: no manifest
        (f"cache/spoken/{A}/speech.wav", 70.0),
    ]
    found = [(e.kind, e.key, len(e.names), e.newest, e.complete) for e in entries(listing)]
    assert found == [("scenes", A, 3, 300.0, True), ("scenes", B, 1, 50.0, False), ("spoken", A, 1, 70.0, False)]


def test_what_is_not_a_cache_entry_is_never_judged():
    listing = [
        ("cache/README.txt", 0.0),
        ("cache/scenes/not-a-key/scene.mp4", 0.0),
        (f"cache/thumbnails/{A}/x.png", 0.0),
        (f"cache/scenes/{A}/nested/deeper.mp4", 0.0),
        (f"outputs/team-a/lesson/uid/cache/scenes/{A}/manifest.json", 0.0),
    ]
    assert list(entries(listing)) == []


def test_a_scene_used_within_the_retention_stays_and_one_unused_past_it_goes():
    assert not expired(_entry("scenes", 29 * DAY), 10 * DAY, 30 * DAY, set())
    assert expired(_entry("scenes", 31 * DAY), 10 * DAY, 30 * DAY, set())
    assert expired(_entry("videos", 31 * DAY), 10 * DAY, 30 * DAY, set())
    assert expired(_entry("scenes", 31 * DAY, complete=False), 10 * DAY, 30 * DAY, set()), "a half-written one too"


def test_a_hand_over_speech_goes_once_its_scene_is_cached():
    assert expired(_entry(SPOKEN, 5.0), 10 * DAY, 30 * DAY, {A})
    assert not expired(_entry(SPOKEN, 5.0), 10 * DAY, 30 * DAY, {B})


def test_a_hand_over_speech_goes_within_an_hour_even_when_the_cache_keeps_a_month():
    assert not expired(_entry(SPOKEN, SPOKEN_RETENTION_SECONDS - 60), 10 * DAY, 30 * DAY, set())
    assert expired(_entry(SPOKEN, SPOKEN_RETENTION_SECONDS + 60), 10 * DAY, 30 * DAY, set())
    assert expired(_entry(SPOKEN, 700.0), 10 * DAY, 600.0, set()), "and within a retention shorter than that"


def test_sweeps_come_a_tenth_of_the_retention_apart_between_a_minute_and_an_hour():
    assert sweep_interval(600) == 60
    assert sweep_interval(20_000) == 2000
    assert sweep_interval(30 * DAY) == 3600


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0), ("off", 0), ("30d", 30 * DAY), ("1d12h", 1.5 * DAY), ("90m", 5400), ("2w", 14 * DAY)],
)
def test_a_retention_is_a_duration_with_units(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("30", "'30' is not a duration: write a number and a unit"),
        ("30 days", "not a duration"),
        ("5m", "shorter than 10m"),
    ],
)
def test_a_bad_retention_is_refused_naming_the_variable(monkeypatch, value, says):
    monkeypatch.setenv("VIDEOJOB_CACHE_RETENTION", value)
    monkeypatch.setenv("VIDEOJOB_S3_ACCESS_KEY", "key")
    monkeypatch.setenv("VIDEOJOB_S3_SECRET_KEY", "secret")
    with pytest.raises(SettingsError, match="VIDEOJOB_CACHE_RETENTION: .*" + says):
        load_settings()


def test_a_retention_without_the_operators_s3_keys_is_refused(monkeypatch):
    monkeypatch.setenv("VIDEOJOB_CACHE_RETENTION", "30d")
    monkeypatch.delenv("VIDEOJOB_S3_ACCESS_KEY", raising=False)
    monkeypatch.delenv("VIDEOJOB_S3_SECRET_KEY", raising=False)
    with pytest.raises(SettingsError, match="VIDEOJOB_CACHE_RETENTION needs the operator's own S3 credentials"):
        load_settings()


def test_the_minimum_is_the_one_in_limits():
    assert parse_duration("10m") == CACHE_RETENTION_MIN_SECONDS
    assert OperatorSettings(cache_retention="10m", s3_access_key="k", s3_secret_key="s").cache_retention == 600


def test_no_retention_means_no_sweeper_so_the_cache_is_kept():
    assert sweeper_for(OperatorSettings()) is None
    assert sweeper_for(OperatorSettings(cache_retention="30d", s3_access_key="k", s3_secret_key="s")) is not None


def test_the_sweep_knows_where_the_renderer_keeps_its_cache():
    from videojob.renderer import cache, join_ahead
    from videojob.renderer.config import cache_location
    from videojob.renderer.settings import RendererSettings

    location = cache_location(RendererSettings(output="s3://videos"))
    assert location == f"s3://videos/{CACHE_PREFIX.rstrip('/')}"
    opened = cache.SceneCache.open(location, cache.S3Access("http://127.0.0.1:9"))
    assert (opened.prefix, opened.videos_prefix) == tuple(f"{CACHE_PREFIX}{kind}" for kind in KEPT_KINDS)
    assert (join_ahead.SPOKEN, cache.MANIFEST) == (SPOKEN, MANIFEST)


def test_the_operator_starts_and_stops_the_sweep_with_kopf():
    import kopf

    from videojob.operator import handlers  # noqa: F401 - what the operator's main registers with kopf

    registered = kopf.get_default_registry()._activities.get_all_handlers()
    activities = {getattr(handler.fn, "__name__", "") for handler in registered}
    assert {"start_cache_sweep", "stop_cache_sweep"} <= activities
