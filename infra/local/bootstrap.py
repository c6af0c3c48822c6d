"""Create the template's tables, buckets, queues, bus, rules and secrets in an emulator.

Everything is read from template.yaml: resource types that exist only in the cloud (ECS,
alarms, log groups, the HTTP API) are listed as such, and the Lambda functions become
event-source mappings (queues and the table's stream) and schedules for the local runner.
Each component (every function, the worker) gets the IAM role the template deploys for it,
with exactly its policies (see `principals`), and a session of that role to run with.
Creation is idempotent, so the same call brings a restarted emulator (or a long-lived
LocalStack) up to date.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infra.local.principals import RoleSpec, role_specs
from infra.local.template import (
    CloudOnlyValue,
    ResolveContext,
    creation_order,
    load_template,
    parameter_values,
)
from voxify.aws import Credentials

LOCAL_STAGE = "local"
EMULATED_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::Events::EventBus",
    "AWS::Events::Rule",
    "AWS::SecretsManager::Secret",
    "AWS::SES::EmailIdentity",
)
FUNCTION_TYPE = "AWS::Serverless::Function"
TASK_DEFINITION_TYPE = "AWS::ECS::TaskDefinition"
SESSION_SECONDS = 12 * 3600  # sessions are not renewed; the emulator does not expire them anyway


@dataclass(frozen=True, kw_only=True)
class LocalFunction:
    """A template function as the local stack runs it: in-process, with its role's session."""

    function: str  # the logical id
    function_name: str
    module: str
    attribute: str
    timeout_seconds: int
    memory_mb: int
    # the function's role session: Lambda runs the function (and polls its queue) with its role
    credentials: Credentials | None = None


@dataclass(frozen=True, kw_only=True)
class EventSourceMapping(LocalFunction):
    """An SQS trigger of a function, as its template `Events` entry declares it."""

    queue_url: str
    queue_arn: str
    batch_size: int
    batching_window_seconds: int
    report_batch_item_failures: bool


@dataclass(frozen=True, kw_only=True)
class StreamMapping(LocalFunction):
    """A DynamoDB stream trigger of a function, as its template `Events` entry declares it."""

    stream_arn: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass(frozen=True, kw_only=True)
class ScheduledFunction(LocalFunction):
    """A function its template `Events` entry runs on a `Schedule` (a `rate(...)` expression)."""

    period_seconds: float


# A role's trust policy and inline policies (name -> document) as JSON text, as the emulator
# holds them; None when there is no such role.
RoleState = Callable[[str], tuple[str, dict[str, str]] | None]


@dataclass(frozen=True)
class ReusableSessions:
    """Role sessions of an earlier `create` against an emulator whose IAM and STS state
    outlived a reset of everything else. A role whose trust and policies, read through
    `role_state`, are already exactly the template's keeps its session: no IAM or STS call."""

    sessions: Mapping[str, Credentials]
    role_state: RoleState


@dataclass
class LocalResources:
    """What was created, and how the processes of the local stack find it."""

    environment: dict[str, str]
    worker_environment: dict[str, str]
    mappings: list[EventSourceMapping]
    schedules: list[ScheduledFunction] = field(default_factory=list)
    streams: list[StreamMapping] = field(default_factory=list)
    created: dict[str, tuple[str, str]] = field(default_factory=dict)  # logical -> (type, name)
    cloud_only: dict[str, str] = field(default_factory=dict)  # logical -> type
    pending_notifications: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # component (function or task definition logical id) -> a session of its role
    principals: dict[str, Credentials] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)  # component -> IAM role name
    http_function: str = ""  # the function behind the HTTP API (the API process runs as it)
    # functions reached through a function URL (audio streams): the same app, which the local
    # API process serves on its own port
    url_functions: list[str] = field(default_factory=list)
    worker_task: str = ""  # the worker's task definition (the worker process runs as its task role)

    def names_of(self, resource_type: str) -> list[str]:
        return [name for kind, name in self.created.values() if kind == resource_type]


class Bootstrap:
    """Creates the emulated resources of one template against one endpoint."""

    def __init__(self, session: boto3.session.Session, endpoint_url: str | None, stage: str = LOCAL_STAGE) -> None:
        clients: dict[str, Any] = {}

        def client(service: str) -> Any:
            if service not in clients:
                clients[service] = session.client(service, endpoint_url=endpoint_url)
            return clients[service]

        self._client = client
        self.stage = stage
        self.region = session.region_name or "us-east-1"
        self.account = self._client("sts").get_caller_identity()["Account"]
        self.template = load_template()
        pseudo = {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": f"voxify-{stage}",
            "AWS::NoValue": None,
        }
        self.context = ResolveContext(
            parameters=parameter_values(self.template, {"Stage": stage}, pseudo),
            conditions=self.template.get("Conditions", {}),
        )

    def create(self, *, notifications: bool = True, reuse: ReusableSessions | None = None) -> LocalResources:
        """Create every emulated resource; bucket notifications last (or later, on request).

        Deferring notifications lets restored objects (a dropped manifest) go back into
        the bucket without triggering their pipelines a second time. `reuse` spares the
        IAM and STS calls for roles that are already as the template wants them.
        """
        resources = self.template["Resources"]
        emulated = {n: b for n, b in resources.items() if b["Type"] in EMULATED_TYPES}
        result = LocalResources(environment={}, worker_environment={}, mappings=[])
        for name in creation_order(emulated):
            body = emulated[name]
            properties = self.context.resolve(body.get("Properties", {}))
            physical = getattr(self, "_create_" + body["Type"].split("::")[-1].lower())(name, properties, result)
            result.created[name] = (body["Type"], physical)
        for name, body in resources.items():
            if body["Type"] not in EMULATED_TYPES and body["Type"] != FUNCTION_TYPE:
                result.cloud_only[name] = body["Type"]
        self._create_principals(result, reuse)
        result.environment = self._function_environment()
        result.worker_environment = self._worker_environment()
        result.mappings = self._event_source_mappings(result.principals)
        result.schedules = self._schedules(result.principals)
        result.streams = self._stream_mappings(result.principals)
        if notifications:
            self.apply_notifications(result)
        return result

    def apply_notifications(self, result: LocalResources) -> None:
        s3 = self._client("s3")
        for bucket, configuration in result.pending_notifications:
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)
        result.pending_notifications.clear()

    # ------------------------------------------------------------ resources
    def _create_table(self, name: str, props: dict[str, Any], result: LocalResources) -> str:
        dynamodb = self._client("dynamodb")
        table = props["TableName"]
        request: dict[str, Any] = {
            "TableName": table,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": props["StreamSpecification"]["StreamViewType"],
            }
        try:
            dynamodb.create_table(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceInUseException":
                raise
        description = dynamodb.describe_table(TableName=table)["Table"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=table,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        self.context.refs[name] = table
        self.context.attributes[name] = {
            "Arn": description["TableArn"],
            "StreamArn": description.get("LatestStreamArn"),
        }
        return table

    def _create_bucket(self, name: str, props: dict[str, Any], result: LocalResources) -> str:
        s3 = self._client("s3")
        bucket = props["BucketName"]
        try:
            if self.region == "us-east-1":
                s3.create_bucket(Bucket=bucket)
            else:
                s3.create_bucket(
                    Bucket=bucket,
                    CreateBucketConfiguration={"LocationConstraint": self.region},
                )
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        if "VersioningConfiguration" in props:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration=props["VersioningConfiguration"])
        if "BucketEncryption" in props:
            s3.put_bucket_encryption(
                Bucket=bucket,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        # CloudFormation and the S3 API spell this key differently
                        {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                        for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                    ]
                },
            )
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=bucket,
                PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"],
            )
        if "CorsConfiguration" in props:
            s3.put_bucket_cors(
                Bucket=bucket,
                CORSConfiguration={"CORSRules": [_cors_rule(rule) for rule in props["CorsConfiguration"]["CorsRules"]]},
            )
        if "LifecycleConfiguration" in props:
            s3.put_bucket_lifecycle_configuration(
                Bucket=bucket,
                LifecycleConfiguration={
                    "Rules": [_lifecycle_rule(r) for r in props["LifecycleConfiguration"]["Rules"]]
                },
            )
        notifications = props.get("NotificationConfiguration", {}).get("QueueConfigurations")
        if notifications:
            result.pending_notifications.append(
                (bucket, {"QueueConfigurations": [_queue_notification(n) for n in notifications]})
            )
        self.context.refs[name] = bucket
        self.context.attributes[name] = {"Arn": f"arn:aws:s3:::{bucket}"}
        return bucket

    def _create_queue(self, name: str, props: dict[str, Any], result: LocalResources) -> str:
        sqs = self._client("sqs")
        queue = props["QueueName"]
        attributes: dict[str, str] = {
            key: str(props[key])
            for key in (
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "ReceiveMessageWaitTimeSeconds",
                "DelaySeconds",
                "MaximumMessageSize",
            )
            if key in props
        }
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        url = sqs.create_queue(QueueName=queue)["QueueUrl"]
        if attributes:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.context.refs[name] = url
        self.context.attributes[name] = {"Arn": arn, "QueueName": queue, "QueueUrl": url}
        return queue

    def _create_eventbus(self, name: str, props: dict[str, Any], result: LocalResources) -> str:
        events = self._client("events")
        bus = props["Name"]
        try:
            arn = events.create_event_bus(Name=bus)["EventBusArn"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
            arn = events.describe_event_bus(Name=bus)["Arn"]
        self.context.refs[name] = bus
        self.context.attributes[name] = {"Arn": arn, "Name": bus}
        return bus

    def _create_rule(self, name: str, props: dict[str, Any], result: LocalResources) -> str:
        events = self._client("events")
        rule = props["Name"]
        bus = props.get("EventBusName", "default")
        arn = events.put_rule(
            Name=rule,
            EventBusName=bus,
            EventPattern=json.dumps(props["EventPattern"]),
            State=props.get("State", "ENABLED"),
            Description=props.get("Description", ""),
        )["RuleArn"]
        targets = [{"Id": target["Id"], "Arn": target["Arn"]} for target in props.get("Targets", [])]
        if targets:
            events.put_targets(Rule=rule, EventBusName=bus, Targets=targets)
        self.context.refs[name] = rule
        self.context.attributes[name] = {"Arn": arn}
        return rule

    def _create_secret(self, name: str, props: dict[str, Any], result: LocalResources) -> str:
        manager = self._client("secretsmanager")
        secret = props["Name"]
        try:
            arn = manager.describe_secret(SecretId=secret)["ARN"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            arn = manager.create_secret(
                Name=secret,
                Description=props.get("Description", ""),
                SecretString=_generated_secret(props.get("GenerateSecretString", {})),
            )["ARN"]
        self.context.refs[name] = arn
        self.context.attributes[name] = {"Id": arn}
        return secret

    def _create_emailidentity(self, name: str, props: dict[str, Any], result: LocalResources) -> str:
        identity = props["EmailIdentity"]
        self._client("ses").verify_email_identity(EmailAddress=identity)
        self.context.refs[name] = identity
        return identity

    # ------------------------------------------------------------ principals
    def role_specs(self) -> list[RoleSpec]:
        """Each component's role as the template deploys it, resolved against what was created."""
        return role_specs(self.template, self.context, self.region)

    def _create_principals(self, result: LocalResources, reuse: ReusableSessions | None) -> None:
        """The components' roles, with exactly their policies, and a session of each."""
        for spec in self.role_specs():
            name = spec.role_name(self.stage)
            current = self._refreshed_session(spec, name, reuse) if reuse else None
            result.principals[spec.component] = current or self._role_session(spec, name)
            result.roles[spec.component] = name
        for name, body in self.template["Resources"].items():
            if body["Type"] == TASK_DEFINITION_TYPE:
                result.worker_task = name
            elif body["Type"] == FUNCTION_TYPE:
                events = (body.get("Properties") or {}).get("Events", {}).values()
                if any(event["Type"] == "HttpApi" for event in events):
                    result.http_function = name
                if "FunctionUrlConfig" in (body.get("Properties") or {}):
                    result.url_functions.append(name)

    def _refreshed_session(self, spec: RoleSpec, name: str, reuse: ReusableSessions) -> Credentials | None:
        """The earlier session of `spec`'s role, its inline policies brought up to date (a
        session is granted what its role holds at each call); None when the role is gone or
        trusts someone else."""
        session, state = reuse.sessions.get(spec.component), reuse.role_state(name)
        if session is None or state is None or json.loads(state[0]) != spec.trust_policy:
            return None
        iam, current = self._client("iam"), state[1]
        for policy in set(current) - set(spec.policies):
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        for policy, document in spec.policies.items():
            if policy not in current or json.loads(current[policy]) != document:
                iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document))
        return session

    def _role_session(self, spec: RoleSpec, name: str) -> Credentials:
        """Create or update the role to match `spec`, and assume it."""
        iam, sts = self._client("iam"), self._client("sts")
        trust = json.dumps(spec.trust_policy)
        try:
            arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, MaxSessionDuration=SESSION_SECONDS)[
                "Role"
            ]["Arn"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "EntityAlreadyExists":
                raise
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust)
            arn = iam.get_role(RoleName=name)["Role"]["Arn"]
        stale = set(iam.list_role_policies(RoleName=name)["PolicyNames"]) - set(spec.policies)
        for policy in stale:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        for policy, document in spec.policies.items():
            iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document))
        session = sts.assume_role(
            RoleArn=arn, RoleSessionName=f"local-{spec.component}"[:64], DurationSeconds=SESSION_SECONDS
        )["Credentials"]
        return Credentials(session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"])

    # ------------------------------------------------------------ functions
    def _function_environment(self) -> dict[str, str]:
        """The Globals environment every function gets, resolved against local resources."""
        variables = self.template.get("Globals", {}).get("Function", {}).get("Environment", {})
        return _stringify(self.context.resolve(variables.get("Variables", {})))

    def _worker_environment(self) -> dict[str, str]:
        """The worker container's environment from its ECS task definition."""
        for body in self.template["Resources"].values():
            if body["Type"] == "AWS::ECS::TaskDefinition":
                container = body["Properties"]["ContainerDefinitions"][0]
                entries = self.context.resolve(container.get("Environment", []))
                return _stringify({entry["Name"]: entry["Value"] for entry in entries})
        return {}

    def _functions(self, principals: dict[str, Credentials]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Each function's events (from its template entry), each with the function's
        `LocalFunction` fields."""
        defaults = self.template.get("Globals", {}).get("Function", {})
        for name, body in self.template["Resources"].items():
            if body["Type"] != FUNCTION_TYPE:
                continue
            props = {**defaults, **body["Properties"]}
            module_file, attribute = props["Handler"].rsplit(".", 1)
            package = props["CodeUri"].strip("/").replace("/", ".")
            function = {
                "function": name,
                "function_name": str(self.context.resolve(props["FunctionName"])),
                "module": f"{package}.{module_file}",
                "attribute": attribute,
                "timeout_seconds": int(props.get("Timeout", 3)),
                "memory_mb": int(props.get("MemorySize", 128)),
                "credentials": principals.get(name),
            }
            for event in props.get("Events", {}).values():
                yield event, function

    def _event_source_mappings(self, principals: dict[str, Credentials]) -> list[EventSourceMapping]:
        mappings = []
        for event, function in self._functions(principals):
            if event["Type"] != "SQS":
                continue
            source = event["Properties"]
            queue_arn = self.context.resolve(source["Queue"])
            mappings.append(
                EventSourceMapping(
                    **function,
                    queue_url=self._queue_url_for(queue_arn),
                    queue_arn=queue_arn,
                    batch_size=int(source.get("BatchSize", 10)),
                    batching_window_seconds=int(source.get("MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures="ReportBatchItemFailures" in source.get("FunctionResponseTypes", []),
                )
            )
        return mappings

    def _stream_mappings(self, principals: dict[str, Credentials]) -> list[StreamMapping]:
        return [
            StreamMapping(
                **function,
                stream_arn=str(self.context.resolve(event["Properties"]["Stream"])),
                batch_size=int(event["Properties"].get("BatchSize", 100)),
                report_batch_item_failures="ReportBatchItemFailures"
                in event["Properties"].get("FunctionResponseTypes", []),
            )
            for event, function in self._functions(principals)
            if event["Type"] == "DynamoDB"
        ]

    def _schedules(self, principals: dict[str, Credentials]) -> list[ScheduledFunction]:
        return [
            ScheduledFunction(**function, period_seconds=rate_seconds(event["Properties"]["Schedule"]))
            for event, function in self._functions(principals)
            if event["Type"] == "Schedule"
        ]

    def _queue_url_for(self, arn: str) -> str:
        for attributes in self.context.attributes.values():
            if attributes.get("Arn") == arn and "QueueUrl" in attributes:
                return attributes["QueueUrl"]
        raise CloudOnlyValue(f"no local queue has ARN {arn}")


def _queue_notification(config: dict[str, Any]) -> dict[str, Any]:
    notification: dict[str, Any] = {"QueueArn": config["Queue"], "Events": [config["Event"]]}
    rules = config.get("Filter", {}).get("S3Key", {}).get("Rules")
    if rules:
        notification["Filter"] = {"Key": {"FilterRules": rules}}
    return notification


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's CorsRule, in the S3 API's spelling."""
    renamed = {"MaxAge": "MaxAgeSeconds", "ExposedHeaders": "ExposeHeaders", "Id": "ID"}
    return {renamed.get(key, key): value for key, value in rule.items()}


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's lifecycle Rule, in the S3 API's shape (the emulator keeps the rules
    but expires nothing: tests read them back)."""
    tags = [{"Key": tag["Key"], "Value": tag["Value"]} for tag in rule.get("TagFilters", [])]
    prefix = rule.get("Prefix", "")
    if len(tags) + bool(prefix) > 1:
        rule_filter: dict[str, Any] = {"And": {"Prefix": prefix, "Tags": tags} if prefix else {"Tags": tags}}
    elif tags:
        rule_filter = {"Tag": tags[0]}
    else:
        rule_filter = {"Prefix": prefix}
    api: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"], "Filter": rule_filter}
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": rule["ExpirationInDays"]}
    if "NoncurrentVersionExpiration" in rule:
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]}
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return api


def _generated_secret(spec: dict[str, Any]) -> str:
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    return "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))


def _stringify(variables: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in variables.items()}


RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def rate_seconds(expression: str) -> float:
    """The period of an EventBridge `rate(N unit)` schedule; a `cron(...)` has no local runner."""
    match = re.fullmatch(r"rate\((\d+) (\w+)\)", expression.strip())
    if match is None or match.group(2) not in RATE_UNITS:
        raise ValueError(f"the local stack runs rate(N minutes|hours|days) schedules, not {expression!r}")
    return int(match.group(1)) * RATE_UNITS[match.group(2)]
