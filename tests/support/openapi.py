"""Check HTTP responses against the app's own OpenAPI 3.1 document.

Every response the functional suite receives from an API route goes through :meth:`Contract.check`
(an httpx response hook on the test client), so each flow is also a contract test: the status must
be documented for the operation (or covered by ``default``), the media type must be the documented
one, and the body must validate against the documented schema. Object schemas are made closed
(``additionalProperties: false`` unless the schema says otherwise), so a field the server sends but
the schema does not list fails too: a schema that lies by omission is caught, not only one that lies
about types.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

import orjson
from jsonschema import Draft202012Validator

JSON_TYPES = ("application/json", "application/problem+json")


@dataclass(frozen=True, slots=True)
class Operation:
    template: str
    pattern: re.Pattern[str]
    literal: int  # characters outside {params}: the most literal template wins an ambiguous match


def _close_objects(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _close_objects(v) for k, v in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_close_objects(v) for v in node]
    return node


class ContractViolation(AssertionError):
    pass


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.components = _close_objects(copy.deepcopy(document.get("components", {})))
        self.operations: list[Operation] = []
        for template in document["paths"]:
            regex = "^" + re.sub(r"\\\{[^}]+\\\}", ".+", re.escape(template)) + "$"
            literal = len(re.sub(r"\{[^}]+\}", "", template))
            self.operations.append(Operation(template, re.compile(regex), literal))
        self.operations.sort(key=lambda op: -op.literal)
        self._validators: dict[tuple[str, str, str, str], Draft202012Validator] = {}
        self.checked = 0
        self.seen: set[tuple[str, str, int]] = set()  # (METHOD, template, status) checked so far

    def template_for(self, path: str) -> str | None:
        for op in self.operations:
            if op.pattern.match(path):
                return op.template
        return None

    def _validator(self, template: str, method: str, status: str, media: str) -> Draft202012Validator:
        key = (template, method, status, media)
        found = self._validators.get(key)
        if found is None:
            schema = self.document["paths"][template][method]["responses"][status]["content"][media]["schema"]
            root = {**_close_objects(copy.deepcopy(schema)), "components": self.components}
            found = self._validators[key] = Draft202012Validator(root)
        return found

    def check(self, method: str, path: str, status: int, content_type: str | None, body: bytes) -> None:
        """Raise :class:`ContractViolation` when the response is not what the document promises.

        Paths outside the document (pages, static files, the schema itself) are not checked.
        """
        template = self.template_for(path)
        if template is None:
            return
        operation = self.document["paths"][template].get(method.lower())
        if operation is None:
            if status == 405:
                return  # a wrong method on a documented path: the problem body is checked elsewhere
            raise ContractViolation(f"{method} {template}: method not in the schema (status {status})")
        responses = operation["responses"]
        code = str(status)
        spec_key = code if code in responses else f"{code[0]}XX" if f"{code[0]}XX" in responses else "default"
        if spec_key not in responses:
            raise ContractViolation(f"{method} {template}: status {status} is not documented")
        self.seen.add((method.upper(), template, status))
        content = responses[spec_key].get("content")
        media = (content_type or "").split(";")[0].strip().lower()
        if not content:
            if body:
                raise ContractViolation(f"{method} {template} {status}: body sent but none documented")
            return
        if media not in content:
            raise ContractViolation(
                f"{method} {template} {status}: media type {media!r} not documented ({sorted(content)})"
            )
        if media not in JSON_TYPES:
            return
        try:
            instance = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ContractViolation(f"{method} {template} {status}: body is not JSON ({exc})") from None
        validator = self._validator(template, method.lower(), spec_key, media)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if errors:
            lines = [
                f"  at /{'/'.join(map(str, e.absolute_path))} ({e.validator}): ...{e.message[-240:]}"
                for e in errors[:5]
            ]
            raise ContractViolation(f"{method} {template} {status} violates the schema:\n" + "\n".join(lines))
        self.checked += 1
