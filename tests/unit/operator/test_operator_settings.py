"""Operator settings come from VIDEOJOB_* variables; bad ones stop the start with a clear message."""

import os
import subprocess
import sys

import pytest

from videojob.operator.settings import OperatorSettings, SettingsError, load_settings


def test_defaults_watch_every_namespace_with_the_documented_presets():
    settings = OperatorSettings()
    assert settings.clusterwide and settings.max_concurrent_renders == 4
    assert {q: (p.cpu, p.memory) for q, p in settings.presets.items()} == {
        "low": ("1", "1Gi"),
        "medium": ("2", "2Gi"),
        "high": ("4", "4Gi"),
    }


def test_namespaces_are_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("VIDEOJOB_NAMESPACES", "team-a, team-b")
    assert load_settings().namespaces == ["team-a", "team-b"]


def test_every_bad_variable_is_named_in_one_error(monkeypatch):
    monkeypatch.setenv("VIDEOJOB_MAX_CONCURRENT_RENDERS", "0")
    monkeypatch.setenv("VIDEOJOB_S3_ENDPOINT", "minio:9000")
    monkeypatch.setenv("VIDEOJOB_NAMESPACES", "Team_A")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "VIDEOJOB_MAX_CONCURRENT_RENDERS: Input should be greater than or equal to 1" in message
    assert (
        "VIDEOJOB_S3_ENDPOINT: Value error, 'minio:9000' is not an S3 endpoint: write it as http://host:port" in message
    )
    assert "VIDEOJOB_NAMESPACES: Value error, not namespace names: Team_A" in message


def test_s3_keys_come_in_pairs(monkeypatch):
    monkeypatch.setenv("VIDEOJOB_S3_ACCESS_KEY", "only-one")
    with pytest.raises(SettingsError, match="set both VIDEOJOB_S3_ACCESS_KEY and VIDEOJOB_S3_SECRET_KEY"):
        load_settings()


def test_bad_presets_json_is_reported(monkeypatch):
    monkeypatch.setenv("VIDEOJOB_PRESETS", '{"ultra": {"cpu": "9"}}')
    with pytest.raises(SettingsError, match="VIDEOJOB_PRESETS"):
        load_settings()


def test_the_operator_refuses_to_start_with_bad_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEOJOB_")} | {
        "VIDEOJOB_MAX_CONCURRENT_RENDERS": "lots"
    }
    result = subprocess.run(
        [sys.executable, "-P", "-m", "videojob.operator"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "videojob-operator: bad operator settings:" in result.stderr
    assert "VIDEOJOB_MAX_CONCURRENT_RENDERS: Input should be a valid integer" in result.stderr
