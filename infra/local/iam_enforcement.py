"""IAM enforcement in the embedded emulator: every request is allowed or refused as AWS would.

moto's own switch turns enforcement on (`INITIAL_NO_AUTH_ACTION_COUNT = 0`: no request goes
unchecked) and moto resolves a request's access key to its principal (an IAM user, or a role
session from `sts:AssumeRole`), checks the SigV4 signature and collects the principal's
policies. What moto 5.2 gets wrong for our policies is replaced here, in the emulator's
process (`install()`, idempotent):

- the resource: moto checks every DynamoDB, EventBridge, Secrets Manager and SES action
  against the resource "*", so a statement naming a table, bus, secret or identity never
  matches and every scoped policy refuses everything. Here each request is checked against
  the ARNs it touches; DynamoDB batches and transactions item by item with the action AWS
  authorises (`TransactWriteItems` needs PutItem/UpdateItem/DeleteItem/ConditionCheckItem).
- the action: SQS's batch calls are the single actions in IAM (DeleteMessageBatch is
  sqs:DeleteMessage); DynamoDB Streams' calls are `dynamodb:` actions on the stream's ARN;
  S3 CopyObject also needs s3:GetObject on its source; S3 DeleteObjects needs
  s3:DeleteObject (or s3:DeleteObjectVersion, with a version id) on every key.
- conditions: moto evaluates only StringEquals (with no context values for identity
  policies) and turns an Allow whose condition fails into an explicit Deny. Here conditions
  are evaluated as IAM does (ForAllValues/ForAnyValue, IfExists, Null; String, Arn and Bool
  operators), with the context keys `dynamodb:LeadingKeys`, `s3:prefix` and
  `aws:SecureTransport`.
- presigned S3 URLs and POST forms, and CORS preflights: moto answers 500 for them under
  enforcement (it reads an Authorization header they do not have). Here presigned requests
  are authorised as their signer (their signature is not verified, nor is it by moto
  without enforcement) and a preflight, which carries no credentials in AWS either, passes.
- the operator: the local stack's well-known fake credentials (`testing`, and LocalStack's
  `test`) are the account's root user, allowed everything, as provisioning, snapshots and
  tests that inspect the emulator need. Every component runs with a role of its own instead.
- sessions outlive a reset: the emulator forgets its IAM roles and STS sessions when reset
  (what a restart does); processes keep the credentials they were started with. A session
  issued here is taken back into the STS backend when it is presented again, and is worth
  its role's policies once the stack has recreated that role (or nothing until then).

Not enforced: resource-based policies (bucket and queue policies), permission boundaries,
SCPs, session policies, and `dynamodb:LeadingKeys` of a Query (only item-level calls carry it).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import xmltodict
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import JsonRESTError, _RESTError
from moto.iam import access_control
from moto.iam.access_control import IAMPolicy, IAMRequestBase, S3IAMRequest
from moto.s3.exceptions import S3AccessDeniedError
from moto.sts import models as sts_models
from moto.utilities.utils import get_partition

OPERATOR_ACCESS_KEYS = frozenset({"testing", "test"})
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
# IAM has no separate action for these batch calls: each entry needs the single action.
SQS_BATCH_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}

_installed = threading.Lock()
_originals: dict[str, Any] = {}
_sessions: dict[str, Any] = {}  # access key id -> moto AssumedRole, as issued


# ------------------------------------------------------------------ switching on and off
def install() -> None:
    """Put the replacements in place (once per process); enforcement stays as moto's switch says."""
    with _installed:
        if _originals:
            return
        _originals["authorize"] = ActionAuthenticatorMixin._authenticate_and_authorize_action
        _originals["create_access_key"] = access_control.create_access_key
        _originals["assume_role"] = sts_models.STSBackend.assume_role
        ActionAuthenticatorMixin._authenticate_and_authorize_action = _authorize  # type: ignore[method-assign]
        access_control.create_access_key = _create_access_key
        sts_models.STSBackend.assume_role = _assume_role  # type: ignore[method-assign]


def enable() -> None:
    """Check every request from now on (moto's INITIAL_NO_AUTH_ACTION_COUNT = 0)."""
    install()
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0


def disable() -> None:
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")


def enabled() -> bool:
    return bool(_originals) and settings.INITIAL_NO_AUTH_ACTION_COUNT == 0


# ------------------------------------------------------------------ who is calling
def _assume_role(self: Any, *args: Any, **kwargs: Any) -> Any:
    role = _originals["assume_role"](self, *args, **kwargs)
    _sessions[role.access_key_id] = role
    return role


def _create_access_key(account_id: str, partition: str, access_key_id: str, headers: dict[str, str]) -> Any:
    """moto's lookup; a session this process issued before a reset is taken back first."""
    session = _sessions.get(access_key_id)
    if session is not None:
        backend = sts_models.sts_backends[session.account_id][session.partition]
        if session not in backend.assumed_roles:
            backend.assumed_roles.append(session)
    return _originals["create_access_key"](account_id, partition, access_key_id, headers)


@dataclass
class Check:
    """One action on one resource, with the request's condition context."""

    action: str
    resource: str
    context: dict[str, list[str]] = field(default_factory=dict)


def _authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
    """moto's `_authenticate_and_authorize_action`, with the gaps listed above closed."""
    if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        ActionAuthenticatorMixin.request_count += 1
        return
    if self.headers.get("X-Amz-Target") in ActionAuthenticatorMixin.PUBLIC_OPERATIONS:
        return
    if self.method == "OPTIONS":  # a CORS preflight carries no credentials, in AWS too
        return
    headers, presigned = _signed_headers(self)
    if headers is None:
        _deny(self, iam_request_cls, None, Check(_action_name(self), resource), "anonymous")
    key_id = IAMRequestBase._get_string_between("Credential=", "/", headers["Authorization"])
    if key_id in OPERATOR_ACCESS_KEYS:
        return
    path = self.raw_path + (f"?{urlparse(self.uri).query}" if urlparse(self.uri).query else "")
    request = iam_request_cls(
        account_id=self.current_account,
        method=self.method,
        path=path,
        data=self.data,
        body=self.raw_body,
        headers=headers,
        action=_action_name(self),
    )
    if not presigned:
        request.check_signature()
    try:
        documents = [IAMPolicy(policy)._policy_json for policy in request._access_key.collect_policies()]
    except Exception:  # the role is gone (the emulator was reset and the stack has not recreated it yet)
        documents = []
    principal = request._access_key.arn
    for check in _checks(self, iam_request_cls, resource):
        check.context.setdefault("aws:SecureTransport", ["false"])  # the emulator speaks plain HTTP
        if check.action != "sts:GetCallerIdentity" and not allowed(documents, check):
            _deny(self, iam_request_cls, request, check, principal)


def _signed_headers(self: Any) -> tuple[Any, bool]:
    """The request's headers, and whether they were made up: a presigned URL's or POST form's
    credential (SigV4 or SigV2) becomes an Authorization header; None for an anonymous request."""
    if "Authorization" in self.headers:
        return self.headers, False
    headers = dict(self.headers)
    query = {key.lower(): values[0] for key, values in parse_qs(urlparse(self.uri).query).items()}
    form = {key.lower(): value for key, value in (getattr(self, "form_data", None) or {}).items()}
    fields = {**form, **query}
    credential = fields.get("x-amz-credential")
    if not credential and fields.get("awsaccesskeyid"):
        credential = f"{fields['awsaccesskeyid']}/20000101/{self.region}/s3/aws4_request"
    if not credential:
        return None, False
    headers["Authorization"] = f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=presigned"
    headers.pop("X-Amz-Security-Token", None)
    if fields.get("x-amz-security-token"):
        headers["X-Amz-Security-Token"] = fields["x-amz-security-token"]
    return headers, True


def _action_name(self: Any) -> str:
    action = self._get_action()
    return str(action[0] if isinstance(action, list) else action)


def _deny(self: Any, iam_request_cls: type, request: Any, check: Check, principal: str) -> None:
    """Refuse as the service would: S3's XML error, the JSON protocols' AccessDeniedException,
    or the query protocols' AccessDenied; the message names the action and the resource."""
    if issubclass(iam_request_cls, S3IAMRequest):
        if request is None:
            raise S3AccessDeniedError()
        request._action = check.action
        request._raise_access_denied()
    message = f"User: {principal} is not authorized to perform: {check.action} on resource: {check.resource}"
    if self.headers.get("X-Amz-Target"):
        raise JsonRESTError("AccessDeniedException", message)
    raise _AccessDenied(message)


class _AccessDenied(_RESTError):
    code = 403

    def __init__(self, message: str) -> None:
        super().__init__("AccessDenied", message)


# ------------------------------------------------------------------ what is being done
def _checks(self: Any, iam_request_cls: type, resource: str) -> list[Check]:
    action = _action_name(self)
    service = self.service_name
    if issubclass(iam_request_cls, S3IAMRequest):
        return list(_s3_checks(self, action, resource))
    body = _json_body(self)
    region, account = self.region, self.current_account
    partition = get_partition(region)
    if service == "dynamodb":
        return list(_dynamodb_checks(action, body, f"arn:{partition}:dynamodb:{region}:{account}", self))
    if service == "sqs":
        return [Check(f"sqs:{SQS_BATCH_ACTIONS.get(action, action)}", resource)]
    if service == "dynamodbstreams":  # IAM names stream actions dynamodb:*, on the stream's ARN
        stream = body.get("StreamArn") or str(body.get("ShardIterator", "")).split("|")[0]
        return [Check(f"dynamodb:{action}", stream or resource)]
    if service == "events" and action == "PutEvents":
        buses = {entry.get("EventBusName") or "default" for entry in body.get("Entries", [])} or {"default"}
        return [Check("events:PutEvents", _bus_arn(bus, partition, region, account)) for bus in sorted(buses)]
    if service == "events" and body.get("Name") and action in ("DescribeEventBus", "DeleteEventBus"):
        return [Check(f"events:{action}", _bus_arn(body["Name"], partition, region, account))]
    if service == "secretsmanager" and body.get("SecretId"):
        return [Check(f"secretsmanager:{action}", _secret_arn(body["SecretId"], account, region))]
    if service == "ses" and action in ("SendEmail", "SendRawEmail", "SendTemplatedEmail"):
        source = _first(self.querystring.get("Source")) or "*"  # the identity sending
        address = source.rsplit("<", 1)[-1].rstrip(">").strip()
        return [Check(f"ses:{action}", f"arn:{partition}:ses:{region}:{account}:identity/{address}")]
    return [Check(f"{service}:{action}", resource)]


def _s3_checks(self: Any, action: str, resource: str) -> Iterator[Check]:
    bucket = self.data.get("BucketName") or getattr(self, "bucket_name", None)
    partition = get_partition(self.region)
    if action == "DeleteObject" and resource.count("/") == 0 and "delete" in parse_qs(urlparse(self.uri).query, True):
        # DeleteObjects: each key, with the version-specific action where a version is named
        objects = xmltodict.parse(self.body)["Delete"].get("Object", [])
        for entry in objects if isinstance(objects, list) else [objects]:
            kind = "s3:DeleteObjectVersion" if entry.get("VersionId") else "s3:DeleteObject"
            yield Check(kind, f"arn:{partition}:s3:::{bucket}/{entry['Key']}")
        return
    if action == "PutObject" and resource.count("/") == 0 and self.method == "POST":
        key = _first(self.querystring.get("key")) or (self.form_data or {}).get("key")
        if key:  # a POST form names its key in a field
            resource = f"arn:{partition}:s3:::{bucket}/{key}"
    context: dict[str, list[str]] = {}
    if action in ("ListBucket", "ListBucketVersions"):
        query = parse_qs(urlparse(self.uri).query, keep_blank_values=True)
        context["s3:prefix"] = query.get("prefix", [""])[:1]
    yield Check(f"s3:{action}", resource, context)
    source = self.headers.get("x-amz-copy-source")
    if source and self.method == "PUT":
        parsed = urlparse(source if isinstance(source, str) else source.decode())
        version = parse_qs(parsed.query).get("versionId")
        yield Check(
            "s3:GetObjectVersion" if version else "s3:GetObject",
            f"arn:{partition}:s3:::{unquote(parsed.path).lstrip('/')}",
        )


def _dynamodb_checks(action: str, body: dict[str, Any], arn_prefix: str, self: Any) -> Iterator[Check]:
    def table_arn(name: str, index: str | None = None) -> str:
        arn = name if name.startswith("arn:") else f"{arn_prefix}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    def leading(name: str, *items: dict[str, Any]) -> dict[str, list[str]]:
        hash_key = _hash_key(self, name)
        values = [_scalar(item[hash_key]) for item in items if hash_key and hash_key in item]
        return {"dynamodb:LeadingKeys": values} if values else {}

    if action == "TransactWriteItems" or action == "TransactGetItems":
        for entry in body.get("TransactItems", []):
            ((kind, request),) = entry.items()
            single = TRANSACT_ACTIONS.get(kind, "GetItem")
            item = request.get("Key") or request.get("Item") or {}
            yield Check(f"dynamodb:{single}", table_arn(request["TableName"]), leading(request["TableName"], item))
        return
    if action in ("BatchWriteItem", "BatchGetItem"):
        for name, requests in body.get("RequestItems", {}).items():
            if action == "BatchGetItem":
                items = list(requests.get("Keys", []))
            else:
                items = [
                    (r.get("PutRequest") or {}).get("Item") or (r.get("DeleteRequest") or {}).get("Key") or {}
                    for r in requests
                ]
            yield Check(f"dynamodb:{action}", table_arn(name), leading(name, *items))
        return
    name = body.get("TableName")
    if not name:
        yield Check(f"dynamodb:{action}", "*")
        return
    item = body.get("Key") or body.get("Item")
    context = leading(name, item) if item else {}
    yield Check(f"dynamodb:{action}", table_arn(name, body.get("IndexName")), context)


def _hash_key(self: Any, table: str) -> str | None:
    try:
        from moto.dynamodb.models import dynamodb_backends

        return str(dynamodb_backends[self.current_account][self.region].get_table(table.split("/")[-1]).hash_key_attr)
    except Exception:
        return None


def _scalar(value: Any) -> str:
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value.values())))
    return str(value)


def _bus_arn(bus: str, partition: str, region: str, account: str) -> str:
    return bus if bus.startswith("arn:") else f"arn:{partition}:events:{region}:{account}:event-bus/{bus}"


def _secret_arn(secret_id: str, account: str, region: str) -> str:
    try:
        from moto.secretsmanager.models import secretsmanager_backends

        return str(secretsmanager_backends[account][region].describe_secret(secret_id).arn)
    except Exception:
        return secret_id if secret_id.startswith("arn:") else "*"


def _json_body(self: Any) -> dict[str, Any]:
    raw = self.raw_body
    try:
        body = json.loads(raw.decode() if isinstance(raw, bytes) else raw or "{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


# ------------------------------------------------------------------ IAM's evaluation logic
def allowed(documents: Iterable[dict[str, Any]], check: Check) -> bool:
    """An explicit Deny wins; otherwise some Allow must match; otherwise the implicit deny."""
    permitted = False
    for document in documents:
        statements = document.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            if not _statement_applies(statement, check):
                continue
            if statement.get("Effect") == "Deny":
                return False
            permitted = True
    return permitted


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _statement_applies(statement: dict[str, Any], check: Check) -> bool:
    if "Action" in statement:
        if not any(_like(p, check.action, ignore_case=True) for p in _listed(statement["Action"])):
            return False
    elif any(_like(p, check.action, ignore_case=True) for p in _listed(statement.get("NotAction"))):
        return False
    if "Resource" in statement:
        if not any(_like(p, check.resource) for p in _listed(statement["Resource"])):
            return False
    elif "NotResource" in statement and any(_like(p, check.resource) for p in _listed(statement["NotResource"])):
        return False
    return all(
        _condition_holds(
            operator,
            key,
            _listed(expected) if not isinstance(expected, bool) else [str(expected)],
            check,
            unknown=statement.get("Effect") == "Deny",  # an operator not known here: fail closed
        )
        for operator, entries in (statement.get("Condition") or {}).items()
        for key, expected in entries.items()
    )


_OPERATORS = {
    "StringEquals": lambda expected, value: value == expected,
    "StringEqualsIgnoreCase": lambda expected, value: value.lower() == expected.lower(),
    "StringLike": _like,
    "ArnEquals": lambda expected, value: value == expected,
    "ArnLike": _like,
    "Bool": lambda expected, value: value.lower() == str(expected).lower(),
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _condition_holds(operator: str, key: str, expected: list[str], check: Check, unknown: bool) -> bool:
    """One condition operator on one context key (ForAllValues/ForAnyValue, ...IfExists, Null);
    `unknown` for an operator this emulator does not evaluate."""
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    values = check.context.get(key)
    if name == "Null":
        return (values is None) == (expected[0].lower() == "true")
    negated = name in _NEGATED
    test = _OPERATORS.get(_NEGATED.get(name, name))
    if test is None:
        return unknown

    def matches(value: str) -> bool:
        hit = any(test(pattern, value) for pattern in expected)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(matches(value) for value in values or [])
    if qualifier == "ForAnyValue":
        return any(matches(value) for value in values or [])
    if values is None:
        return if_exists or negated
    return any(matches(value) for value in values)
