"""Every table item that holds a user's data, found by scanning, and deleted.

A user's items are not all under one key: records keyed by their own ids (samples, jobs,
searches...), lookup items keyed by an address or a token hash (`EMAIL#`, `APIKEY#`,
`REFRESH#`...), idempotency records keyed `{user_id}#...` and counters keyed
`RATE#{user_id}#...` / `QUOTA#{user_id}#...`. What they share: the user's id as their
`user_id` attribute or at the start of their key. A scan of each table finds them all; it
reads the whole table, which an account's erasure can afford and nothing else should do.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key

from voxify.repositories.base import Item, TableRepository
from voxify.settings import get_settings


class UserItems(TableRepository):
    """The items of one table that belong to a user: those whose `user_id` is theirs, and
    those whose key starts with one of the user's prefixes."""

    def __init__(self, table_name: str, key: tuple[str, ...], prefixes: tuple[str, ...] = ()) -> None:
        super().__init__(table_name)
        self.key, self.prefixes = key, prefixes

    def keys(self, user_id: str) -> list[Item]:
        """The keys of the user's items; in a table with sort keys, of every item in the
        partitions those head (a webhook's deliveries carry no `user_id`, only its key)."""
        found = self._scanned(user_id)
        if len(self.key) == 1:
            return found
        partitions = sorted({item[self.key[0]] for item in found})
        return [key for pk in partitions for key in self._query(**self._partition(pk))]

    def _partition(self, pk: str) -> dict[str, Any]:
        names = {f"#k{i}": name for i, name in enumerate(self.key)}
        return {
            "KeyConditionExpression": Key(self.key[0]).eq(pk),
            "ProjectionExpression": ", ".join(names),
            "ExpressionAttributeNames": names,
        }

    def _scanned(self, user_id: str) -> list[Item]:
        condition: ConditionBase = Attr("user_id").eq(user_id)
        for prefix in self.prefixes:
            condition = condition | Attr(self.key[0]).begins_with(prefix.format(user_id=user_id))
        names = {f"#k{i}": name for i, name in enumerate(self.key)}
        pages = self._scan(
            FilterExpression=condition, ProjectionExpression=", ".join(names), ExpressionAttributeNames=names
        )
        return [item for page in pages for item in page]

    def delete(self, keys: list[Item]) -> None:
        with self.table.batch_writer() as batch:
            for key in keys:
                batch.delete_item(Key=key)


def user_tables() -> dict[str, UserItems]:
    """Each table, with the key prefixes its items of a user carry instead of `user_id`."""
    settings = get_settings()
    return {
        "data": UserItems(settings.table_name, ("pk", "sk")),
        "idempotency": UserItems(settings.require("idempotency_table_name"), ("id",), ("{user_id}#",)),
        "rate limits": UserItems(
            settings.require("rate_limit_table_name"), ("pk",), ("RATE#{user_id}#", "QUOTA#{user_id}#")
        ),
    }
