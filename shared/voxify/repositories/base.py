"""A small base for repositories over the single data table.

DynamoDB wants Decimal where JSON has floats; items cross this boundary as plain Python
values in both directions so nothing above it sees Decimal.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from pydantic import BaseModel

from voxify.aws import resource
from voxify.clock import epoch, now_iso
from voxify.domain.records import OwnedRecord
from voxify.settings import get_settings

Item = dict[str, Any]  # a raw table item: attribute name -> plain Python value
Fields = dict[str, Any]  # a partial update: field name -> new value
RecordT = TypeVar("RecordT", bound=OwnedRecord)


# DynamoDB numbers reach down to 1e-130; smaller magnitudes (a valid float such as 5e-324)
# would fail the write with an Underflow, so they are stored as the zero they practically are.
SMALLEST_NUMBER = Decimal("1e-128")


def _number(text: str) -> Decimal:
    number = Decimal(text)
    return number if abs(number) >= SMALLEST_NUMBER else Decimal(0)


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else str(value)


def stored(record: BaseModel) -> Item:
    """A record's attributes as the table keeps them. Unset (None) fields are left out, not
    written as NULL, so that `attribute_not_exists(...)` conditions mean what they say."""
    return {key: value for key, value in record.model_dump(mode="json").items() if value is not None}


def to_dynamo(value: Any) -> Any:
    """Plain values (records and enums included) as DynamoDB wants them."""
    return json.loads(json.dumps(value, default=_plain), parse_float=_number)


def from_dynamo(value: Any) -> Any:
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def is_condition_failure(error: ClientError) -> bool:
    code = error.response["Error"]["Code"]
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


@dataclass(frozen=True)
class WriteStep:
    """One conditional write of a transaction (a TransactWriteItems entry, plain values),
    named so that the caller learns which condition refused."""

    name: str
    entry: Item


def write_together(steps: Sequence[WriteStep]) -> str | None:
    """Apply every step or none, in one round trip; None when all applied, else the name of
    the first step whose condition refused (the others were not applied either)."""
    # the resource's client serialises plain values itself
    client = resource("dynamodb").meta.client
    try:
        client.transact_write_items(TransactItems=[to_dynamo(step.entry) for step in steps])
    except ClientError as error:
        reasons = error.response.get("CancellationReasons") or []
        for step, reason in zip(steps, reasons, strict=False):
            if reason.get("Code") == "ConditionalCheckFailed":
                return step.name
        raise
    return None


class TableRepository:
    """Shared plumbing: get/put/query on one table, values converted at the boundary."""

    def __init__(self, table_name: str | None = None) -> None:
        self.table = resource("dynamodb").Table(table_name or get_settings().table_name)

    def _get(self, pk: str, sk: str) -> Item | None:
        item = self.table.get_item(Key={"pk": pk, "sk": sk}, ConsistentRead=True).get("Item")
        return from_dynamo(item) if item else None

    def _put(self, item: Item, condition: str | None = None, **kwargs: Any) -> bool:
        """Put an item; False when `condition` failed."""
        request: Item = {"Item": to_dynamo(item), **kwargs}
        if condition:
            request["ConditionExpression"] = condition
        try:
            self.table.put_item(**request)
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def _update(self, pk: str, sk: str, **kwargs: Any) -> Item | None:
        """Conditional update; the new item, or None when the condition failed."""
        if "ExpressionAttributeValues" in kwargs:
            kwargs["ExpressionAttributeValues"] = to_dynamo(kwargs["ExpressionAttributeValues"])
        try:
            response = self.table.update_item(Key={"pk": pk, "sk": sk}, ReturnValues="ALL_NEW", **kwargs)
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise
        item: Item = from_dynamo(response["Attributes"])
        return item

    def _set_fields(
        self,
        pk: str,
        sk: str,
        fields: Fields,
        condition: str,
        values: Fields | None = None,
        names: dict[str, str] | None = None,
        add: dict[str, int] | None = None,
    ) -> Item | None:
        """SET `fields` (and ADD `add` counters) if `condition` holds; the new item or None.

        Field names are always aliased, so reserved words (status, response) are safe.
        """
        all_names = {f"#f{i}": key for i, key in enumerate(fields)} | (names or {})
        all_values = {f":v{i}": value for i, value in enumerate(fields.values())} | (values or {})
        expression = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
        if add:
            all_names |= {f"#a{i}": key for i, key in enumerate(add)}
            all_values |= {f":a{i}": amount for i, amount in enumerate(add.values())}
            expression += " ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(add)))
        return self._update(
            pk,
            sk,
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=all_names,
            ExpressionAttributeValues=all_values,
        )

    def _delete(self, pk: str, sk: str) -> None:
        self.table.delete_item(Key={"pk": pk, "sk": sk})

    def _query_index(self, index: str, partition: str, *, newest_first: bool = True) -> list[Item]:
        """Every item under one GSI partition."""
        return self._query(
            IndexName=index, KeyConditionExpression=Key(f"{index}pk").eq(partition), ScanIndexForward=not newest_first
        )

    def _query(self, **request: Any) -> list[Item]:
        """Every item a query matches (records ignore the key attributes)."""
        return [item for page in self._pages(self.table.query, request) for item in page]

    def _scan(self, **request: Any) -> Iterator[list[Item]]:
        """The whole table, a page at a time."""
        return self._pages(self.table.scan, request)

    @staticmethod
    def _pages(operation: Callable[..., Any], request: dict[str, Any]) -> Iterator[list[Item]]:
        """Each page of a query or scan, following LastEvaluatedKey to the end."""
        while True:
            page = operation(**request)
            yield from_dynamo(page["Items"])
            if "LastEvaluatedKey" not in page:
                return
            request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}


class OwnedRecords(TableRepository, Generic[RecordT]):
    """Records of one kind, keyed by id and listed per owner (gsi1, newest first)."""

    kind: ClassVar[str]
    id_field: ClassVar[str]
    record_type: type[RecordT]

    def _key(self, record_id: str) -> tuple[str, str]:
        return f"{self.kind}#{record_id}", self.kind

    def _record(self, item: Item | None) -> RecordT | None:
        return self.record_type.model_validate(item) if item else None

    def _item(self, record: RecordT, **keys: str) -> Item:
        """The table item for a record: its fields, its key, its owner listing key."""
        pk, sk = self._key(getattr(record, self.id_field))
        return {
            "pk": pk,
            "sk": sk,
            "gsi1pk": f"USER#{record.user_id}#{self.kind}S",
            "gsi1sk": record.created_at,
            **keys,
            **stored(record),
        }

    def create(self, record: RecordT) -> bool:
        """False when a record with this id exists already."""
        return self._put(self._item(record), condition="attribute_not_exists(pk)")

    def get(self, record_id: str) -> RecordT | None:
        return self._record(self._get(*self._key(record_id)))

    def get_owned(self, record_id: str, user_id: str) -> RecordT | None:
        """The record, or None when absent or owned by someone else (callers answer 404)."""
        record = self.get(record_id)
        return record if record and record.user_id == user_id else None

    def list_for(self, user_id: str) -> list[RecordT]:
        return [
            self.record_type.model_validate(item) for item in self._query_index("gsi1", f"USER#{user_id}#{self.kind}S")
        ]

    def update(self, record_id: str, changes: Fields, expected_status: Sequence[str] | None = None) -> RecordT | None:
        """Set fields; with `expected_status`, only from those states (None otherwise)."""
        condition, names, values = "attribute_exists(pk)", {}, {}
        if expected_status:
            names["#status"] = "status"
            values = {f":s{i}": str(s) for i, s in enumerate(expected_status)}
            condition += " AND #status IN (" + ", ".join(values) + ")"
        return self._record(
            self._set_fields(*self._key(record_id), {**changes, "updated_at": now_iso()}, condition, values, names)
        )

    def delete(self, record_id: str) -> None:
        self._delete(*self._key(record_id))


PENDING = "pending"
ANSWER_POLL_SECONDS = 0.2


class AnsweredOnce(OwnedRecords[RecordT]):
    """Short-lived records of work the worker answers once (searches, watermark checks):
    not listed per owner, expired by the table's TTL after `ttl_seconds`."""

    ttl_seconds: ClassVar[int] = 24 * 3600

    def _item(self, record: RecordT, **keys: str) -> Item:
        pk, sk = self._key(getattr(record, self.id_field))
        return {"pk": pk, "sk": sk, "expires_at": epoch() + self.ttl_seconds, **keys, **stored(record)}

    def finish(self, record_id: str, changes: Fields) -> RecordT | None:
        """Record the answer once; a duplicate delivery finds the record no longer pending."""
        return self.update(record_id, changes, expected_status=[PENDING])

    def answered(self, record: RecordT, seconds: float) -> RecordT:
        """The record once answered, or as it is after `seconds`: what an API answers from."""
        deadline = time.monotonic() + seconds
        record_id = getattr(record, self.id_field)
        while getattr(record, "status", None) == PENDING and time.monotonic() < deadline:
            time.sleep(ANSWER_POLL_SECONDS)
            record = self.get(record_id) or record
        return record
