"""A pydantic model as a Kubernetes structural schema, for the ``openAPIV3Schema`` of a CRD.

The API server accepts only *structural* schemas: every node says its type, there are no
``$ref``s, no ``anyOf`` of types and no ``null``. Pydantic writes JSON Schema 2020-12, so
:func:`structural_schema` rewrites it:

* ``$ref`` is inlined; a field's own keywords (description, default, rules) win over its
  type's, and CEL rules of both are kept.
* ``X | None`` becomes plain ``X``: absent means None, the API server never stores null.
* ``int | str`` becomes ``x-kubernetes-int-or-string`` (a Kubernetes quantity).
* ``dict[str, Any]`` becomes ``x-kubernetes-preserve-unknown-fields``; ``title`` goes.
* A field written ``= Model()`` (``default``) is defaulted by the API server to ``{}``, which
  it then fills from the nested defaults; this is checked to give exactly the Python
  default. A field written ``Field(default_factory=Model)`` is defaulted in Python only,
  so the stored object shows just what the user wrote.

Everything Kubernetes adds to a schema (CEL rules, list types...) comes from the model
through :func:`kube`. Any JSON Schema keyword the API server would not understand is an
error here rather than a CRD that silently means something else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, JsonValue

# The keywords a structural schema may carry, in the order they are written out.
_ORDER = (
    "type", "format", "description", "enum", "default", "minimum", "exclusiveMinimum", "maximum",
    "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern", "minItems", "maxItems",
    "minProperties", "maxProperties", "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type", "required",
    "x-kubernetes-validations", "properties", "additionalProperties", "items",
)  # fmt: skip
_DROPPED = ("title",)
_RULES = "x-kubernetes-validations"
_RULE_KEYS = ("rule", "message", "fieldPath")


class NotStructuralError(ValueError):
    """The model uses something a Kubernetes structural schema cannot say."""


@dataclass(frozen=True)
class Rule:
    """A CEL validation rule: the API server refuses the object with ``message`` when ``rule`` is false.

    ``field_path`` (relative to the node, e.g. ``.llm.provider``) names the field in the
    error. A rule that mentions ``oldSelf`` is a transition rule, checked on updates only.
    """

    rule: str
    message: str
    field_path: str | None = None

    def as_schema(self) -> dict[str, JsonValue]:
        schema: dict[str, JsonValue] = {"rule": self.rule, "message": self.message}
        if self.field_path is not None:
            schema["fieldPath"] = self.field_path
        return schema


def kube(
    *rules: Rule,
    preserve_unknown_fields: bool = False,
    list_map_keys: Sequence[str] = (),
    int64: bool = False,
) -> dict[str, JsonValue]:
    """What Kubernetes adds to a node, for ``Field(json_schema_extra=...)`` or ``ConfigDict``."""
    extra: dict[str, JsonValue] = {}
    if rules:
        extra[_RULES] = [rule.as_schema() for rule in rules]
    if preserve_unknown_fields:
        extra["x-kubernetes-preserve-unknown-fields"] = True
    if list_map_keys:
        extra["x-kubernetes-list-type"] = "map"
        extra["x-kubernetes-list-map-keys"] = list(list_map_keys)
    if int64:
        extra["format"] = "int64"
    return extra


def structural_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The structural schema of ``model`` as the wire (its aliases) spells it."""
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return _convert(schema, schema.get("$defs", {}), model.__name__)


def _convert(node: Mapping[str, Any], defs: Mapping[str, Any], where: str) -> dict[str, Any]:
    node = dict(node)
    node.pop("$defs", None)
    if "$ref" in node:
        target = _convert(defs[node.pop("$ref").removeprefix("#/$defs/")], defs, where)
        return _overlay(target, _convert_keywords(node, defs, where), where)
    if "anyOf" in node:
        return _overlay(_union(node.pop("anyOf"), defs, where), _convert_keywords(node, defs, where), where)
    return _finish(_convert_keywords(node, defs, where), where)


def _convert_keywords(node: Mapping[str, Any], defs: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED or (key == "default" and value is None):
            continue
        if key == "properties":
            out[key] = {name: _convert(child, defs, f"{where}.{name}") for name, child in value.items()}
        elif key == "items":
            out[key] = _convert(value, defs, f"{where}[]")
        elif key == "additionalProperties":
            if value is True or value == {}:
                out["x-kubernetes-preserve-unknown-fields"] = True
            elif value is not False:  # False is pydantic's extra="forbid": the API server prunes instead
                out[key] = _convert(value, defs, f"{where}{{}}")
        elif key == "const":
            out["enum"] = [value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum"):
            # JSON Schema 2020-12 gives the bound; OpenAPI v3 (Kubernetes) a flag beside it.
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
        elif key in _ORDER:
            out[key] = value
        else:
            raise NotStructuralError(f"{where}: the JSON Schema keyword {key!r} has no Kubernetes equivalent")
    return out


def _union(branches: Sequence[Mapping[str, Any]], defs: Mapping[str, Any], where: str) -> dict[str, Any]:
    kept = [_convert(branch, defs, where) for branch in branches if branch.get("type") != "null"]
    if len(kept) == 1:
        return kept[0]
    if sorted(str(branch.get("type")) for branch in kept) == ["integer", "string"]:
        merged: dict[str, Any] = {"x-kubernetes-int-or-string": True}
        for branch in kept:
            merged |= {key: value for key, value in branch.items() if key != "type"}
        return merged
    raise NotStructuralError(f"{where}: a union of {[b.get('type') for b in kept]} is not structural; use one type")


def _overlay(base: Mapping[str, Any], field: Mapping[str, Any], where: str) -> dict[str, Any]:
    merged = dict(base) | {key: value for key, value in field.items() if key != _RULES}
    rules = [*base.get(_RULES, []), *field.get(_RULES, [])]
    if rules:
        merged[_RULES] = rules
    return _finish(merged, where)


def _finish(node: dict[str, Any], where: str) -> dict[str, Any]:
    if isinstance(node.get("default"), dict):
        node["default"] = _object_default(node, where)
    if _RULES in node:  # pydantic sorts keys; a rule reads best rule first
        node[_RULES] = [{key: rule[key] for key in _RULE_KEYS if key in rule} for rule in node[_RULES]]
    return {key: node[key] for key in _ORDER if key in node}


def _object_default(node: Mapping[str, Any], where: str) -> dict[str, Any]:
    python = _without_none(node["default"])
    server = _server_default(node)
    if python != server:
        raise NotStructuralError(
            f"{where}: the Python default {python} is not what the API server fills in from the nested "
            f"defaults ({server}); give the nested fields those defaults, or use default_factory"
        )
    return {}


def _server_default(node: Mapping[str, Any]) -> Any:
    """What the API server stores for ``{}`` in this object: each property's default, recursively."""
    filled = {}
    for name, child in (node.get("properties") or {}).items():
        if "default" in child:
            filled[name] = _server_default(child) if isinstance(child["default"], dict) else child["default"]
    return filled


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    return value


def walk(schema: Mapping[str, Any], path: str = "") -> list[tuple[str, Mapping[str, Any]]]:
    """Every node of a structural schema with its path (``.spec.source``, ``.scenes[]``)."""
    nodes: list[tuple[str, Mapping[str, Any]]] = [(path, schema)]
    for name, child in (schema.get("properties") or {}).items():
        nodes += walk(child, f"{path}.{name}")
    if "items" in schema:
        nodes += walk(schema["items"], f"{path}[]")
    return nodes
