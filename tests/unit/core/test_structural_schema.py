"""Pydantic's JSON Schema becomes a schema the Kubernetes API server accepts as structural."""

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from videojob.structural import NotStructuralError, Rule, kube, structural_schema, walk


class Inner(BaseModel):
    """The inner object."""

    model_config = ConfigDict(json_schema_extra=kube(Rule("self.size > 0", "size must be positive")))

    size: int = Field(1, description="How big.")


class Outer(BaseModel):
    inner: Inner = Field(Inner(), description="Said by the field.", json_schema_extra=kube(Rule("true", "always")))
    maybe: Annotated[str, Field(max_length=5)] | None = Field(None, description="Optional.")
    amount: int | Annotated[str, Field(max_length=16)] | None = Field(None, description="A quantity.")
    free: dict[str, Any] = Field(default_factory=dict, description="Anything.")
    labels: dict[str, str] = Field(default_factory=dict, description="Strings by name.")
    items: list[Inner] = Field(
        default_factory=list, description="A list.", json_schema_extra=kube(list_map_keys=["size"])
    )
    positive: Annotated[float, Field(gt=0)] = Field(1.0, description="Above zero.")
    counter: int = Field(0, description="Large.", json_schema_extra=kube(int64=True))


SCHEMA = structural_schema(Outer)
PROPS = SCHEMA["properties"]


def test_a_reference_is_inlined_and_the_fields_words_and_rules_win_or_add():
    assert PROPS["inner"]["type"] == "object"
    assert PROPS["inner"]["description"] == "Said by the field."
    assert [r["message"] for r in PROPS["inner"]["x-kubernetes-validations"]] == ["size must be positive", "always"]
    assert PROPS["inner"]["properties"]["size"] == {"type": "integer", "description": "How big.", "default": 1}


def test_a_model_default_is_left_to_the_api_server_as_an_empty_object():
    assert PROPS["inner"]["default"] == {}
    assert "default" not in PROPS["free"]  # default_factory: Python only


def test_optional_is_the_plain_type_and_never_null():
    assert PROPS["maybe"] == {"type": "string", "description": "Optional.", "maxLength": 5}


def test_int_or_string_is_a_kubernetes_quantity():
    assert PROPS["amount"] == {"description": "A quantity.", "maxLength": 16, "x-kubernetes-int-or-string": True}


def test_free_form_objects_keep_their_fields_and_maps_keep_their_value_type():
    assert PROPS["free"]["x-kubernetes-preserve-unknown-fields"] is True and "additionalProperties" not in PROPS["free"]
    assert PROPS["labels"]["additionalProperties"] == {"type": "string"}


def test_list_maps_exclusive_bounds_and_int64_are_spelled_the_openapi_v3_way():
    assert (PROPS["items"]["x-kubernetes-list-type"], PROPS["items"]["x-kubernetes-list-map-keys"]) == ("map", ["size"])
    assert (PROPS["positive"]["minimum"], PROPS["positive"]["exclusiveMinimum"]) == (0, True)
    assert PROPS["counter"]["format"] == "int64"


def test_no_titles_anywhere():
    assert [path for path, node in walk(SCHEMA) if "title" in node] == []


def test_a_python_default_the_api_server_would_not_reproduce_is_refused():
    class Nested(BaseModel):
        size: int = 1

    class Wrong(BaseModel):
        nested: Nested = Nested(size=2)  # the API server would store size 1

    with pytest.raises(NotStructuralError, match=r"Wrong\.nested: the Python default"):
        structural_schema(Wrong)


def test_a_union_of_two_object_types_is_refused_naming_the_field():
    class A(BaseModel):
        a: int

    class B(BaseModel):
        b: int

    class Either(BaseModel):
        choice: A | B

    with pytest.raises(NotStructuralError, match=r"Either\.choice: a union"):
        structural_schema(Either)
