"""Read template.yaml and resolve the CloudFormation intrinsics the local stack needs.

The local stack must create exactly what the template declares, so it reads the template
itself instead of keeping a second list. Only the intrinsics used by emulated resources are
resolved (Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, Fn::If and conditions); a
reference to a value that only exists in the cloud raises `CloudOnlyValue`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "template.yaml"

_SCALAR_TAGS = {"Ref": "Ref", "Condition": "Condition"}
_FN_TAGS = (
    "Sub",
    "GetAtt",
    "Join",
    "Select",
    "Split",
    "If",
    "Not",
    "Equals",
    "And",
    "Or",
    "Base64",
    "FindInMap",
    "GetAZs",
    "ImportValue",
    "Cidr",
)
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class CloudOnlyValue(Exception):
    """A value (a VPC id, an AMI) that has no meaning in the emulator."""


class _TemplateLoader(yaml.CSafeLoader):
    """libyaml's SafeLoader (a tenth of the pure-Python one's time on this template) that
    understands CloudFormation's short-form tags."""


def _construct(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], Any]:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(cast(yaml.MappingNode, node), deep=True)
        key = _SCALAR_TAGS.get(tag, f"Fn::{tag}")
        return {key: value}

    return construct


for _tag in (*_SCALAR_TAGS, *_FN_TAGS):
    _TemplateLoader.add_constructor(f"!{_tag}", _construct(_tag))


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_TemplateLoader)  # a CSafeLoader subclass


def references(value: Any) -> set[str]:
    """Logical ids a fragment refers to through Ref, GetAtt or Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found.update(name.split(".")[0] for name in _SUB_VARIABLE.findall(text))
                if not isinstance(inner, str):
                    found.update(references(inner[1]))
            else:
                found.update(references(inner))
    elif isinstance(value, list):
        for inner in value:
            found.update(references(inner))
    return found


@dataclass
class ResolveContext:
    """What a reference resolves to: parameters, pseudo parameters and created resources."""

    parameters: Mapping[str, Any]
    conditions: Mapping[str, Any]
    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def ref(self, name: str) -> Any:
        if name in self.refs:
            return self.refs[name]
        if name in self.parameters:
            value = self.parameters[name]
            if isinstance(value, CloudOnlyValue):
                raise value
            return value
        raise CloudOnlyValue(f"{name} is not created in the local stack")

    def get_att(self, name: str, attribute: str) -> Any:
        try:
            return self.attributes[name][attribute]
        except KeyError:
            raise CloudOnlyValue(f"{name}.{attribute} is not known in the local stack") from None

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.conditions[name]))

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic inside `value`."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self._function(key[4:], arg)
        return {key: self.resolve(inner) for key, inner in value.items()}

    def _function(self, name: str, arg: Any) -> Any:
        if name == "GetAtt":
            return self.get_att(arg[0], arg[1])
        if name == "Sub":
            return self._sub(arg)
        if name == "Join":
            return str(arg[0]).join(str(part) for part in self.resolve(arg[1]))
        if name == "Select":
            return self.resolve(arg[1])[int(self.resolve(arg[0]))]
        if name == "Split":
            return str(self.resolve(arg[1])).split(arg[0])
        if name == "If":
            return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
        if name == "Not":
            return not self.resolve(arg[0])
        if name == "Equals":
            return self.resolve(arg[0]) == self.resolve(arg[1])
        if name == "And":
            return all(self.resolve(item) for item in arg)
        if name == "Or":
            return any(self.resolve(item) for item in arg)
        raise CloudOnlyValue(f"Fn::{name} is not resolved in the local stack")

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                resource, attribute = name.split(".", 1)
                return str(self.get_att(resource, attribute))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")


def parameter_values(
    template: Mapping[str, Any], overrides: Mapping[str, Any], pseudo: Mapping[str, Any]
) -> dict[str, Any]:
    """Template defaults, then overrides; parameters without either are cloud-only."""
    values: dict[str, Any] = dict(pseudo)
    for name, spec in template.get("Parameters", {}).items():
        if name in overrides:
            values[name] = overrides[name]
        elif "Default" in spec:
            default = spec["Default"]
            if spec.get("Type") == "CommaDelimitedList":
                default = [item.strip() for item in str(default).split(",")]
            values[name] = default
        else:
            values[name] = CloudOnlyValue(f"parameter {name} has no local value")
    return values


def creation_order(resources: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Logical ids ordered so that every resource comes after those it refers to."""
    pending = {name: (references(body) | set(_depends_on(body))) & set(resources) for name, body in resources.items()}
    ordered: list[str] = []
    while pending:
        ready = sorted(name for name, deps in pending.items() if deps <= set(ordered))
        if not ready:
            raise ValueError(f"circular references among {sorted(pending)}")
        ordered.extend(ready)
        for name in ready:
            del pending[name]
    return ordered


def _depends_on(body: Mapping[str, Any]) -> list[str]:
    depends = body.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)
