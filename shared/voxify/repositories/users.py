"""Users, refresh-token families, mailed single-use tokens and API keys.

Uniqueness of e-mail addresses (and of user names, where chosen) is enforced with a second
item (`EMAIL#...`, `USERNAME#...`) written in the same transaction as the user, since a GSI
cannot carry a uniqueness constraint.

Every item that only matters until some moment carries that moment (epoch seconds) in
`expires_at`, the table's TTL attribute: refresh tokens and revoked families until the
family's expiry, mailed tokens until theirs.

What authenticates a caller on every request (the user's record, an API key's) is also kept
for `principal_cache_seconds` (`recent`, `recent_by_hash`), so that a warm request pays no
read for it. Writes through these repositories forget the entry in their own process at
once; other processes read the change within that time.
"""

from __future__ import annotations

from functools import cache
from typing import ClassVar

from botocore.exceptions import ClientError

from voxify.cache import LruCache
from voxify.clock import epoch, now_iso
from voxify.domain.users import ApiKeyRecord, UserRecord
from voxify.repositories.base import Fields, Item, TableRepository, is_condition_failure, stored, to_dynamo
from voxify.settings import get_settings

RECENT_ENTRIES = 4096


@cache
def _recent_users() -> LruCache[str, UserRecord | None]:
    return LruCache(RECENT_ENTRIES, ttl_seconds=get_settings().principal_cache_seconds)


@cache
def _recent_keys() -> LruCache[str, ApiKeyRecord | None]:
    return LruCache(RECENT_ENTRIES, ttl_seconds=get_settings().principal_cache_seconds)


def forget_recent_principals() -> None:
    """Drop every kept user and key record, and read the cache's lifetime from the settings
    again (tests that change it call this)."""
    _recent_users.cache_clear()
    _recent_keys.cache_clear()


class UserRepository(TableRepository):
    def create(self, user: UserRecord) -> bool:
        """False when the e-mail address (or the user name) is taken."""
        item = {
            "pk": f"USER#{user.user_id}",
            "sk": "PROFILE",
            "gsi2pk": "USERS",
            "gsi2sk": user.created_at,
            **stored(user),
        }
        names = [{"pk": f"EMAIL#{user.email}", "sk": "EMAIL", "user_id": user.user_id}]
        if user.username:
            names.append({"pk": f"USERNAME#{user.username}", "sk": "USERNAME", "user_id": user.user_id})
        unique = [
            {
                "Put": {
                    "TableName": self.table.name,
                    "Item": to_dynamo(n),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for n in names
        ]
        try:
            # the resource's client serialises plain values itself
            self.table.meta.client.transact_write_items(
                TransactItems=[*unique, {"Put": {"TableName": self.table.name, "Item": to_dynamo(item)}}]
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def get(self, user_id: str) -> UserRecord | None:
        item = self._get(f"USER#{user_id}", "PROFILE")
        return UserRecord.model_validate(item) if item else None

    def recent(self, user_id: str) -> UserRecord | None:
        """The user as read at most `principal_cache_seconds` ago: for authenticating."""
        return _recent_users().get_or_load(user_id, lambda: self.get(user_id))

    @staticmethod
    def forget(user_id: str) -> None:
        """Drop this process's kept copy of the user (after a change made elsewhere, e.g. an
        account erased item by item)."""
        _recent_users().discard(user_id)

    def _changed(self, item: Item | None) -> UserRecord | None:
        user = UserRecord.model_validate(item) if item else None
        if user is not None:
            self.forget(user.user_id)
        return user

    def get_by_email(self, email: str) -> UserRecord | None:
        pointer = self._get(f"EMAIL#{email}", "EMAIL")
        return self.get(pointer["user_id"]) if pointer else None

    def get_by_username(self, username: str) -> UserRecord | None:
        pointer = self._get(f"USERNAME#{username}", "USERNAME")
        return self.get(pointer["user_id"]) if pointer else None

    def update(self, user_id: str, changes: Fields) -> UserRecord | None:
        item = self._set_fields(
            f"USER#{user_id}", "PROFILE", {**changes, "updated_at": now_iso()}, "attribute_exists(pk)"
        )
        return self._changed(item)

    def end_sessions(self, user_id: str, changes: Fields | None = None) -> UserRecord | None:
        """Bump the token version (atomically, with `changes`): every token issued so far stops
        working. None when there is no such user."""
        item = self._set_fields(
            f"USER#{user_id}",
            "PROFILE",
            {**(changes or {}), "updated_at": now_iso()},
            "attribute_exists(pk)",
            add={"token_version": 1},
        )
        return self._changed(item)

    def list_all(self) -> list[UserRecord]:
        return [UserRecord.model_validate(item) for item in self._query_index("gsi2", "USERS")]


class RefreshTokenRepository(TableRepository):
    """One item per issued refresh token and one per revoked family (a login and its
    rotations). Every token of a family expires when the family does (the login's expiry),
    so each of these items lives exactly as long as any token of its family could."""

    def issue(self, jti: str, family: str, user_id: str, expires_at: int) -> None:
        self._put(
            {
                "pk": f"REFRESH#{jti}",
                "sk": "TOKEN",
                "family": family,
                "user_id": user_id,
                "used": False,
                "expires_at": expires_at,
            }
        )

    def spend(self, jti: str) -> bool:
        """Mark a token used; False if it was already used (reuse) or unknown."""
        return None is not self._update(
            f"REFRESH#{jti}",
            "TOKEN",
            UpdateExpression="SET used = :true, used_at = :now",
            ConditionExpression="attribute_exists(pk) AND used = :false",
            ExpressionAttributeValues={":true": True, ":false": False, ":now": now_iso()},
        )

    def revoke_family(self, family: str, expires_at: int) -> None:
        self._put({"pk": f"FAMILY#{family}", "sk": "REVOKED", "revoked_at": now_iso(), "expires_at": expires_at})

    def family_revoked(self, family: str) -> bool:
        return self._get(f"FAMILY#{family}", "REVOKED") is not None


class MailedTokenRepository(TableRepository):
    """Single-use tokens sent by e-mail, stored under the SHA-256 of the token."""

    kind: ClassVar[str]

    def save(self, token_hash: str, user_id: str, expires_at: int, **fields: str) -> None:
        self._put(
            {"pk": f"{self.kind}#{token_hash}", "sk": self.kind, "user_id": user_id, "expires_at": expires_at, **fields}
        )

    def consume(self, token_hash: str) -> Item | None:
        """The token's item, once: it is deleted as it is read, and must not be expired."""
        try:
            response = self.table.delete_item(
                Key={"pk": f"{self.kind}#{token_hash}", "sk": self.kind},
                ConditionExpression="attribute_exists(pk) AND expires_at > :now",
                ExpressionAttributeValues={":now": epoch()},
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise
        return {key: value for key, value in response["Attributes"].items() if isinstance(value, str)}


class ResetTokenRepository(MailedTokenRepository):
    """Password-reset tokens."""

    kind = "RESET"


class VerificationTokenRepository(MailedTokenRepository):
    """E-mail verification tokens; each carries the address it was sent to."""

    kind = "VERIFY"


class ApiKeyRepository(TableRepository):
    """Keys are stored under the SHA-256 of the key (the key itself is never kept)."""

    def create(self, key_hash: str, record: ApiKeyRecord) -> None:
        self._put(
            {
                "pk": f"APIKEY#{key_hash}",
                "sk": "APIKEY",
                "gsi1pk": f"USER#{record.user_id}#APIKEYS",
                "gsi1sk": record.created_at,
                **stored(record),
            }
        )

    def get_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        item = self._get(f"APIKEY#{key_hash}", "APIKEY")
        return ApiKeyRecord.model_validate(item) if item else None

    def recent_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        """The key as read at most `principal_cache_seconds` ago: for authenticating."""
        return _recent_keys().get_or_load(key_hash, lambda: self.get_by_hash(key_hash))

    def delete_owned(self, user_id: str, key_id: str) -> bool:
        """Delete one of the user's keys by id; False when the user has no such key."""
        for item in self._query_index("gsi1", f"USER#{user_id}#APIKEYS"):
            if item["key_id"] == key_id:
                self._delete(item["pk"], item["sk"])
                _recent_keys().discard(item["pk"].removeprefix("APIKEY#"))
                return True
        return False

    def list_for(self, user_id: str) -> list[ApiKeyRecord]:
        return [ApiKeyRecord.model_validate(item) for item in self._query_index("gsi1", f"USER#{user_id}#APIKEYS")]
