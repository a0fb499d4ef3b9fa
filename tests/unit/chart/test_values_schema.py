"""values.schema.json refuses what the chart does not know, with helm's message naming the key."""

from __future__ import annotations

import json
import re

import yaml

from support.chart import CHART_DIR, helm, template_args

SCHEMA = CHART_DIR / "values.schema.json"


def refusal(*sets: str) -> str:
    completed = helm(*template_args(sets), check=False)
    assert completed.returncode != 0, f"helm accepted {sets}"
    return completed.stderr


def test_an_unknown_top_level_key_is_refused_by_name() -> None:
    assert "additional properties 'replicaCount' not allowed" in refusal("replicaCount=3")


def test_an_unknown_nested_key_is_refused_at_its_path() -> None:
    message = refusal("operator.maxConcurentRenders=3")
    assert "/operator" in message and "'maxConcurentRenders' not allowed" in message


def test_a_wrong_type_is_refused_naming_the_key() -> None:
    message = helm(*template_args(), "--set-string=operator.maxConcurrentRenders=four", check=False).stderr
    assert "/operator/maxConcurrentRenders" in message and "want integer" in message


def test_a_string_where_a_boolean_belongs_is_refused() -> None:
    message = helm(*template_args(), "--set-string=gateway.enabled=yes", check=False).stderr
    assert "/gateway/enabled" in message and "want boolean" in message


def test_a_value_outside_its_enum_is_refused() -> None:
    assert "/operator/logFormat" in refusal("operator.logFormat=xml")


def walk(node: object, path: str = "") -> list[tuple[str, dict]]:
    found: list[tuple[str, dict]] = []
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            found.append((path or "/", node))
        for key, child in node.get("properties", {}).items():
            found += walk(child, f"{path}/{key}")
    return found


def test_every_object_with_named_keys_refuses_unknown_ones() -> None:
    open_objects = [
        path for path, node in walk(json.loads(SCHEMA.read_text())) if node.get("additionalProperties") is not False
    ]
    assert open_objects == []


def test_every_key_of_values_yaml_is_in_the_schema() -> None:
    schema = json.loads(SCHEMA.read_text())

    def check(values: dict, node: dict, path: str) -> list[str]:
        missing = []
        for key, value in values.items():
            child = node.get("properties", {}).get(key)
            if child is None:
                missing.append(f"{path}/{key}")
            elif isinstance(value, dict) and "properties" in child:
                missing += check(value, child, f"{path}/{key}")
        return missing

    assert check(yaml.safe_load((CHART_DIR / "values.yaml").read_text()), schema, "") == []


# Maps whose entries are data (resource quantities, label selectors): the comment above the
# map describes them.
FREE_FORM = {"resources", "namespaceSelector", "podSelector"}


def test_every_key_in_values_yaml_has_a_comment_above_it() -> None:
    lines = (CHART_DIR / "values.yaml").read_text().splitlines()
    uncommented, free_form_indent = [], None
    for number, line in enumerate(lines):
        match = re.match(r"^( *)([A-Za-z][\w.-]*):", line)
        if not match:
            continue
        indent = len(match[1])
        if free_form_indent is not None and indent > free_form_indent:
            continue
        free_form_indent = indent if match[2] in FREE_FORM else None
        if not lines[number - 1].strip().startswith("#"):
            uncommented.append(f"line {number + 1}: {match[2]}")
    assert uncommented == []
