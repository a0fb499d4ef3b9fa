"""operator.cacheRetention: a duration the operator reads as VIDEOJOB_CACHE_RETENTION, or 0; helm refuses a typo."""

from __future__ import annotations

import pytest

from support.chart import find, helm, render, template_args


def _retention_env(*sets: str) -> str:
    deployment = find(render(sets), "Deployment", "videojob-operator")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return {item["name"]: item.get("value") for item in container["env"]}["VIDEOJOB_CACHE_RETENTION"]


@pytest.mark.parametrize(("value", "env"), [("30d", "30d"), ("1d12h", "1d12h"), ("0", "0"), ("off", "off")])
def test_a_retention_reaches_the_operator(value, env):
    assert _retention_env(f"operator.cacheRetention={value}") == env


@pytest.mark.parametrize("value", ["30days", "7", "1.5d"])
def test_a_retention_that_is_no_duration_is_refused_naming_the_key(value):
    completed = helm(*template_args([f"operator.cacheRetention={value}"]), check=False)
    assert completed.returncode != 0 and "/operator/cacheRetention" in completed.stderr
