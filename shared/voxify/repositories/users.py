"""Users, refresh-token families, password-reset tokens and API keys.

Uniqueness of e-mail addresses is enforced with a second item (`EMAIL#...`) written in the
same transaction as the user, since a GSI cannot carry a uniqueness constraint.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from voxify.clock import epoch, now_iso
from voxify.repositories.base import TableRepository, is_condition_failure, strip_keys, to_dynamo


class UserRepository(TableRepository):
    def create(self, user: dict[str, Any], password_hash: str) -> bool:
        """False when the e-mail address is taken."""
        item = {
            "pk": f"USER#{user['user_id']}", "sk": "PROFILE",
            "gsi2pk": "USERS", "gsi2sk": user["created_at"],
            **user, "password_hash": password_hash,
        }
        email = {"pk": f"EMAIL#{user['email']}", "sk": "EMAIL", "user_id": user["user_id"]}
        try:
            # the resource's client serialises plain values itself
            self.table.meta.client.transact_write_items(TransactItems=[
                {"Put": {"TableName": self.table.name, "Item": to_dynamo(email),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": self.table.name, "Item": to_dynamo(item)}},
            ])
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def get(self, user_id: str) -> dict[str, Any] | None:
        return self._get(f"USER#{user_id}", "PROFILE")

    def get_by_email(self, email: str) -> dict[str, Any] | None:
        pointer = self._get(f"EMAIL#{email}", "EMAIL")
        return self.get(pointer["user_id"]) if pointer else None

    def update(self, user_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        return self._set_fields(f"USER#{user_id}", "PROFILE", {**changes, "updated_at": now_iso()},
                                "attribute_exists(pk)")

    def list_all(self) -> list[dict[str, Any]]:
        return [public_user(u) for u in self._query_index("gsi2", "USERS")]


def public_user(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in strip_keys(item).items() if k != "password_hash"}





class RefreshTokenRepository(TableRepository):
    """One item per issued refresh token and one per family (a login and its rotations)."""

    def issue(self, jti: str, family: str, user_id: str, expires_at: int) -> None:
        self._put({"pk": f"REFRESH#{jti}", "sk": "TOKEN", "family": family, "user_id": user_id,
                   "used": False, "expires_at": expires_at})

    def spend(self, jti: str) -> dict[str, Any] | None:
        """Mark a token used; None if it was already used (reuse) or unknown."""
        return self._update(
            f"REFRESH#{jti}", "TOKEN",
            UpdateExpression="SET used = :true, used_at = :now",
            ConditionExpression="attribute_exists(pk) AND used = :false",
            ExpressionAttributeValues={":true": True, ":false": False, ":now": now_iso()},
        )

    def get(self, jti: str) -> dict[str, Any] | None:
        return self._get(f"REFRESH#{jti}", "TOKEN")

    def revoke_family(self, family: str, expires_at: int) -> None:
        self._put({"pk": f"FAMILY#{family}", "sk": "REVOKED", "revoked_at": now_iso(),
                   "expires_at": expires_at})

    def family_revoked(self, family: str) -> bool:
        return self._get(f"FAMILY#{family}", "REVOKED") is not None


class ResetTokenRepository(TableRepository):
    def save(self, token_hash: str, user_id: str, expires_at: int) -> None:
        self._put({"pk": f"RESET#{token_hash}", "sk": "RESET", "user_id": user_id,
                   "expires_at": expires_at})

    def consume(self, token_hash: str) -> str | None:
        """The user id, once: the token is deleted as it is read, and must not be expired."""
        try:
            response = self.table.delete_item(
                Key={"pk": f"RESET#{token_hash}", "sk": "RESET"},
                ConditionExpression="attribute_exists(pk) AND expires_at > :now",
                ExpressionAttributeValues={":now": epoch()},
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise
        return str(response["Attributes"]["user_id"])


class ApiKeyRepository(TableRepository):
    def create(self, key_hash: str, record: dict[str, Any]) -> None:
        self._put({"pk": f"APIKEY#{key_hash}", "sk": "APIKEY",
                   "gsi1pk": f"USER#{record['user_id']}#APIKEYS", "gsi1sk": record["created_at"],
                   **record})

    def get_by_hash(self, key_hash: str) -> dict[str, Any] | None:
        return self._get(f"APIKEY#{key_hash}", "APIKEY")

    def list_for(self, user_id: str) -> list[dict[str, Any]]:
        return self._query_index("gsi1", f"USER#{user_id}#APIKEYS")

    def delete(self, item: dict[str, Any]) -> None:
        self._delete(item["pk"], item["sk"])
