"""Users, refresh-token families, password-reset tokens and API keys.

Uniqueness of e-mail addresses is enforced with a second item (`EMAIL#...`) written in the
same transaction as the user, since a GSI cannot carry a uniqueness constraint.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from voxify.clock import epoch, now_iso
from voxify.domain.users import ApiKeyRecord, UserRecord
from voxify.repositories.base import Fields, TableRepository, is_condition_failure, stored, to_dynamo


class UserRepository(TableRepository):
    def create(self, user: UserRecord) -> bool:
        """False when the e-mail address is taken."""
        item = {
            "pk": f"USER#{user.user_id}",
            "sk": "PROFILE",
            "gsi2pk": "USERS",
            "gsi2sk": user.created_at,
            **stored(user),
        }
        email = {"pk": f"EMAIL#{user.email}", "sk": "EMAIL", "user_id": user.user_id}
        try:
            # the resource's client serialises plain values itself
            self.table.meta.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table.name,
                            "Item": to_dynamo(email),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {"Put": {"TableName": self.table.name, "Item": to_dynamo(item)}},
                ]
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def get(self, user_id: str) -> UserRecord | None:
        item = self._get(f"USER#{user_id}", "PROFILE")
        return UserRecord.model_validate(item) if item else None

    def get_by_email(self, email: str) -> UserRecord | None:
        pointer = self._get(f"EMAIL#{email}", "EMAIL")
        return self.get(pointer["user_id"]) if pointer else None

    def update(self, user_id: str, changes: Fields) -> UserRecord | None:
        item = self._set_fields(
            f"USER#{user_id}", "PROFILE", {**changes, "updated_at": now_iso()}, "attribute_exists(pk)"
        )
        return UserRecord.model_validate(item) if item else None

    def list_all(self) -> list[UserRecord]:
        return [UserRecord.model_validate(item) for item in self._query_index("gsi2", "USERS")]


class RefreshTokenRepository(TableRepository):
    """One item per issued refresh token and one per family (a login and its rotations)."""

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


class ResetTokenRepository(TableRepository):
    def save(self, token_hash: str, user_id: str, expires_at: int) -> None:
        self._put({"pk": f"RESET#{token_hash}", "sk": "RESET", "user_id": user_id, "expires_at": expires_at})

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

    def delete_owned(self, user_id: str, key_id: str) -> bool:
        """Delete one of the user's keys by id; False when the user has no such key."""
        for item in self._query_index("gsi1", f"USER#{user_id}#APIKEYS"):
            if item["key_id"] == key_id:
                self._delete(item["pk"], item["sk"])
                return True
        return False

    def list_for(self, user_id: str) -> list[ApiKeyRecord]:
        return [ApiKeyRecord.model_validate(item) for item in self._query_index("gsi1", f"USER#{user_id}#APIKEYS")]
