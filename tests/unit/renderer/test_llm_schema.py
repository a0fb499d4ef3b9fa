"""The schema sent to the LLM is the storyboard schema in the subset strict structured output accepts."""

from videojob.renderer.llm_source import strict_schema
from videojob.storyboard import storyboard_json_schema


def _objects(node):
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def test_every_object_is_closed_and_lists_all_its_properties_as_required():
    objects = list(_objects(strict_schema(storyboard_json_schema())))
    assert len(objects) > 10
    for node in objects:
        assert node["additionalProperties"] is False
        assert set(node["required"]) == set(node["properties"])


def test_unions_are_anyof_and_property_names_survive():
    schema = strict_schema(storyboard_json_schema())
    text = repr(schema)
    assert "oneOf" not in text and "discriminator" not in text
    assert set(schema["properties"]) == {"videojob", "title", "theme", "language", "scenes"}
    assert schema["$defs"]["TitleCard"]["properties"]["title"] == {"type": "string"}
