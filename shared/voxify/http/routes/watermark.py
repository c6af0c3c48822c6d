"""/api/v1/watermark: does a file carry Voxify's watermark?"""

from typing import Any

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.responses import JSONResponse

from voxify.domain.users import Scope
from voxify.domain.watermarks import DetectionStatus, WatermarkDetection
from voxify.http.deps import CurrentUser, require_scope
from voxify.http.envelope import Answer, Envelope, ok
from voxify.http.routes.voices import CappedBodyRoute, read_upload
from voxify.logic import watermarks

router = APIRouter(
    prefix="/api/v1/watermark",
    tags=["watermark"],
    route_class=CappedBodyRoute,
    dependencies=[Depends(require_scope(Scope.VOICES))],
)


@router.post(
    "/detect",
    response_model=Envelope[WatermarkDetection],
    responses={202: {"description": "still running; poll GET /api/v1/watermark/detections/{detection_id}"}},
)
def detect(
    principal: CurrentUser,
    file: UploadFile = File(description="wav, mp3, flac, ogg, m4a or webm; up to 4 MiB and 300 s of audio"),
) -> Any:
    """Whether the audio carries Voxify's watermark (`marked`), with the detector's
    `confidence`. Costs one unit of the daily detection quota. Not audio: 400 UNSUPPORTED_AUDIO;
    audio that does not decode: 400 CORRUPT_AUDIO."""
    detection = watermarks.check_file(principal.user_id, read_upload(file))
    if detection.status == DetectionStatus.PENDING:
        return JSONResponse(
            ok(detection.public(), "still checking; poll the check"),
            status_code=202,
            headers={"Location": f"/api/v1/watermark/detections/{detection.detection_id}"},
        )
    return ok(detection.public())


@router.get("/detections/{detection_id}", response_model=Envelope[WatermarkDetection])
def get_detection(detection_id: str, principal: CurrentUser) -> Answer:
    return ok(watermarks.get_detection(principal.user_id, detection_id).public())
