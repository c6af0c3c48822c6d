"""What every stored record shares, so data access can treat records of any kind alike.

Records are the typed form of table items: the public model a route answers with, plus the
internal fields (claims, versions, counters, secrets) that never leave the service. Items
carry attributes a record does not know (table keys, TTLs); validation ignores them.
"""

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

ViewT = TypeVar("ViewT", bound=BaseModel)


class OwnedRecord(BaseModel):
    """A record that belongs to one user and is listed per owner, newest first."""

    model_config = ConfigDict(extra="ignore")

    user_id: str
    created_at: str


def view(model: type[ViewT], record: BaseModel, **computed: Any) -> ViewT:
    """`model` built from the record's fields that it declares (plus computed ones): how a
    public answer is made from a stored record, leaving the internal fields behind."""
    return model.model_validate({**record.model_dump(include=set(model.model_fields)), **computed})
