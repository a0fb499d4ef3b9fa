"""The CRD file that ships: every field described (kubectl explain teaches it), CEL bounded."""

from pathlib import Path

import yaml

CRD = Path(__file__).resolve().parents[3] / "manifests" / "crd" / "videojob.dev_videojobs.yaml"


def _walk(schema, path):
    yield path, schema
    for name, child in (schema.get("properties") or {}).items():
        yield from _walk(child, f"{path}.{name}")
    if "items" in schema:
        yield from _walk(schema["items"], f"{path}[]")


def _schema():
    crd = yaml.safe_load(CRD.read_text())
    (version,) = crd["spec"]["versions"]
    return crd, version["schema"]["openAPIV3Schema"]


def test_every_field_has_a_description():
    _, root = _schema()
    missing = [path for path, node in _walk(root, "") if path not in ("", ".metadata") and not node.get("description")]
    assert missing == []


def test_every_string_and_list_under_a_cel_rule_is_bounded():
    _, root = _schema()
    unbounded = []
    for path, node in _walk(root, ""):
        if not path.startswith(".spec") or "x-kubernetes-validations" not in node:
            continue
        for inner_path, inner in _walk(node, path):
            if inner.get("type") == "string" and "maxLength" not in inner and "enum" not in inner:
                unbounded.append(inner_path)
            if inner.get("type") == "array" and "maxItems" not in inner:
                unbounded.append(inner_path)
    assert unbounded == []


def test_names_columns_and_status_subresource():
    crd, _ = _schema()
    assert crd["spec"]["names"]["shortNames"] == ["vj"]
    assert "all" in crd["spec"]["names"]["categories"]
    (version,) = crd["spec"]["versions"]
    assert version["subresources"] == {"status": {}}
    columns = [c["name"] for c in version["additionalPrinterColumns"] if not c.get("priority")]
    assert columns == ["Phase", "Progress", "Quality", "Age", "Duration", "Output"]
