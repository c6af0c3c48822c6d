"""The IAM role of each component, exactly as template.yaml deploys it.

SAM turns a function's `Policies:` (policy templates such as DynamoDBCrudPolicy, inline
`Statement`s) and its event sources into an AWS::IAM::Role named `<Function>Role`; the worker
runs with the role its ECS task definition names (TaskRoleArn). Rather than re-implement that,
the template goes through SAM's own translator (samtranslator, offline, as `sam validate`
does) and the roles it produces are read back: the policy templates expanded from SAM's
policy_templates.json, the managed policies SAM attaches (basic execution, X-Ray, the SQS
poller policy of SQS-triggered functions), the inline policies as written. Their intrinsics
are then resolved against the resources the local stack created.

AWS managed policies become inline copies of themselves (moto does not load AWS's managed
policies unless told to, and then loads all ~1,600 on every reset), their documents from
moto's snapshot of AWS's.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import boto3

from infra.local.template import TEMPLATE_PATH, CloudOnlyValue, ResolveContext

FUNCTION_TYPE = "AWS::Serverless::Function"
TASK_DEFINITION_TYPE = "AWS::ECS::TaskDefinition"
POLICY_VERSION = "2012-10-17"
# Parameters without defaults that only matter in the cloud; the translator wants a value.
_PLACEHOLDER_PARAMETERS = {"VpcSubnetIds": "subnet-local", "VpcId": "vpc-local"}


@dataclass(frozen=True)
class RoleSpec:
    """One component's role: who uses it, its trust policy, its policies by name."""

    logical_id: str  # the role's logical id in the deployed template (ApiFunctionRole, WorkerTaskRole)
    component: str  # the function or task definition that runs with it
    trust_policy: dict[str, Any]
    policies: dict[str, dict[str, Any]]

    def role_name(self, stage: str) -> str:
        return f"voxify-{stage}-{self.logical_id}"[:64]


def deployed_template(path: Path = TEMPLATE_PATH, region: str = "us-east-1") -> dict[str, Any]:
    """The CloudFormation template SAM makes of template.yaml (Transform applied)."""
    return copy.deepcopy(_translate(str(path), path.stat().st_mtime_ns, region))


@lru_cache(maxsize=4)
def _translate(path: str, _mtime: int, region: str) -> dict[str, Any]:
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse(Path(path).read_text(encoding="utf-8"))
    for body in template.get("Resources", {}).values():
        properties = body.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):  # local folders; `sam package` would upload them
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://local-package/{properties[key]}"
    parameters = {name: value for name, value in _PLACEHOLDER_PARAMETERS.items() if name in template["Parameters"]}
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    translated: dict[str, Any] = translator.translate(
        template, parameter_values=parameters, get_managed_policy_map=dict
    )
    return translated


def role_specs(source: Mapping[str, Any], context: ResolveContext, region: str) -> list[RoleSpec]:
    """The roles the components of `source` (template.yaml as loaded) run with, resolved."""
    deployed = deployed_template(region=region)["Resources"]
    users: dict[str, str] = {}  # role logical id -> component
    for name, body in source["Resources"].items():
        properties = body.get("Properties") or {}
        if body["Type"] == FUNCTION_TYPE and "Role" not in properties:
            users[f"{name}Role"] = name
        elif body["Type"] == TASK_DEFINITION_TYPE and "TaskRoleArn" in properties:
            target = properties["TaskRoleArn"]["Fn::GetAtt"]
            users[target[0] if isinstance(target, list) else target.split(".")[0]] = name
    return [_spec(role, component, deployed[role]["Properties"], context) for role, component in users.items()]


def _spec(role: str, component: str, properties: Mapping[str, Any], context: ResolveContext) -> RoleSpec:
    policies: dict[str, dict[str, Any]] = {}
    for arn in context.resolve(properties.get("ManagedPolicyArns", [])):
        name = str(arn).rsplit("/", 1)[-1]
        policies[name] = _versioned(aws_managed_policy(str(arn)))
    for policy in properties.get("Policies", []):
        policies[policy["PolicyName"]] = _versioned(context.resolve(policy["PolicyDocument"]))
    return RoleSpec(role, component, context.resolve(properties["AssumeRolePolicyDocument"]), policies)


def _versioned(document: dict[str, Any]) -> dict[str, Any]:
    """SAM leaves Version out (AWS then reads 2008-10-17, which only lacks policy variables,
    none of which these use); moto refuses a document without one."""
    return {"Version": POLICY_VERSION, **document}


def aws_managed_policy(arn: str) -> dict[str, Any]:
    """The document of an AWS managed policy, from moto's copy of AWS's."""
    name = arn.rsplit("/", 1)[-1]
    known = _aws_managed_policies()
    if arn.split(":")[4] != "aws" or name not in known:
        raise CloudOnlyValue(f"managed policy {arn} is not known locally")
    return copy.deepcopy(known[name])


@lru_cache(maxsize=1)
def _aws_managed_policies() -> dict[str, dict[str, Any]]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return {name: entry["Document"] for name, entry in json.loads(aws_managed_policies_data).items()}
