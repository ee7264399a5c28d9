"""Check a response against botocore's own output shape for the operation.

``check_shape(response, "rekognition", "DetectLabels")`` walks the response and the
operation's output shape together: every member present must be one the shape declares,
with the declared type (and within the declared enum); every required member must be
there. ``ResponseMetadata`` (added by botocore itself) is ignored.
"""

from __future__ import annotations

import datetime
from functools import cache
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape

_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "float": (float, int),
    "double": (float, int),
    "boolean": (bool,),
    "blob": (bytes, bytearray),
    "timestamp": (datetime.datetime,),
}


@cache
def _model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def output_shape(service: str, operation: str) -> StructureShape:
    shape = _model(service).operation_model(operation).output_shape
    assert shape is not None, f"{service}.{operation} has no output shape"
    assert isinstance(shape, StructureShape)
    return shape


def check_shape(response: dict[str, Any], service: str, operation: str) -> None:
    """Assert ``response`` matches ``service``'s output shape for ``operation``."""
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    _check(body, output_shape(service, operation), operation)


def _check(value: Any, shape: Shape, path: str) -> None:
    if isinstance(shape, StructureShape):
        _check_structure(value, shape, path)
    elif isinstance(shape, ListShape):
        assert isinstance(value, list), f"{path}: expected a list, got {value!r}"
        for i, item in enumerate(value):
            _check(item, shape.member, f"{path}[{i}]")
    elif isinstance(shape, MapShape):
        assert isinstance(value, dict), f"{path}: expected a map, got {value!r}"
        for key, item in value.items():
            _check(key, shape.key, f"{path}.<key>")
            _check(item, shape.value, f"{path}[{key!r}]")
    else:
        _check_scalar(value, shape, path)


def _check_structure(value: Any, shape: StructureShape, path: str) -> None:
    assert isinstance(value, dict), f"{path}: expected a structure, got {value!r}"
    unknown = set(value) - set(shape.members)
    assert not unknown, f"{path}: members not in {shape.name}: {sorted(unknown)}"
    missing = set(shape.required_members) - set(value)
    assert not missing, f"{path}: required members of {shape.name} missing: {sorted(missing)}"
    for name, item in value.items():
        _check(item, shape.members[name], f"{path}.{name}")


def _check_scalar(value: Any, shape: Shape, path: str) -> None:
    kinds = _SCALARS.get(shape.type_name)
    assert kinds is not None, f"{path}: unexpected shape type {shape.type_name}"
    if shape.type_name != "boolean":
        assert not isinstance(value, bool), f"{path}: {shape.type_name} expected, got {value!r}"
    assert isinstance(value, kinds), f"{path}: {shape.type_name} expected, got {value!r}"
    enum = shape.metadata.get("enum")
    if enum:
        assert value in enum, f"{path}: {value!r} not in {shape.name}'s enum {enum}"
