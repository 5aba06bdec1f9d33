"""GeoReport v2 output in JSON and XML, and its error format. XML is built with xml.etree (escaped), and every
text loses the characters XML 1.0 cannot hold (hotline.core.text), so any XML parser reads every answer."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from flask import Response, request

from hotline.core.text import strip_control

# The element name of each item inside a list, per the GeoReport v2 XML examples.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return strip_control(str(value)) or ""


def _append(parent: ET.Element, tag: str, value) -> None:
    element = ET.SubElement(parent, tag)
    _fill(element, tag, value)


def _fill(element: ET.Element, tag: str, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _append(element, ITEM_TAGS.get(tag, "item"), item)
    else:
        element.text = _text(value)


def to_xml(root_tag: str, payload) -> str:
    root = ET.Element(root_tag)
    _fill(root, root_tag, payload)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def render(fmt: str, root_tag: str, payload, status: int = 200, headers=None) -> Response:
    if fmt == "xml":
        response = Response(to_xml(root_tag, payload), status=status, content_type="text/xml; charset=utf-8")
    else:
        response = Response(
            json.dumps(payload, ensure_ascii=False), status=status, content_type="application/json; charset=utf-8"
        )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def requested_format() -> str:
    return "xml" if request.path.endswith(".xml") else "json"


def open311_error(status: int, message: str, fields: dict | None = None, headers=None) -> Response:
    """``[{"code": 400, "description": "..."}]`` or ``<errors><error>…</error></errors>``."""
    if fields:
        errors = [{"code": status, "description": f"{name}: {text}"} for name, text in fields.items()]
    else:
        errors = [{"code": status, "description": str(message)}]
    return render(requested_format(), "errors", errors, status=status, headers=headers)
