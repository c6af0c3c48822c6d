"""/api/v1/library: a user's samples and generated audio in one list."""

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from voxify.domain.users import Scope
from voxify.http.deps import CurrentUser, Page, require_scope
from voxify.http.downloads import DOWNLOAD, audio_download
from voxify.http.envelope import Answer, Envelope, ok, paged
from voxify.logic import library
from voxify.logic.library import ItemType

router = APIRouter(prefix="/api/v1/library", tags=["library"], dependencies=[Depends(require_scope(Scope.LIBRARY))])


@router.get("", response_model=Envelope[list[dict[str, Any]]])
def list_library(
    principal: CurrentUser, page: Page, type: ItemType | None = None, search: str | None = Query(None, max_length=200)
) -> Answer:
    selected, counts = library.search(principal.user_id, type, search)
    return paged(selected, page, counts=counts)


@router.get("/{item_type}/{item_id}/download", response_class=Response, responses=DOWNLOAD)
def download(item_type: ItemType, item_id: str, principal: CurrentUser) -> Response:
    """The bytes when they fit a response (4 MiB); larger files 302 to a presigned URL."""
    return audio_download(library.audio_file(principal.user_id, item_type, item_id))


@router.delete("/{item_type}/{item_id}", response_model=Envelope[None])
def delete(item_type: ItemType, item_id: str, principal: CurrentUser) -> Answer:
    library.delete(principal.user_id, item_type, item_id)
    return ok(None, f"{item_type} deleted")
