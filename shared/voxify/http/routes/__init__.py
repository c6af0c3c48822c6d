"""The routers of the HTTP API, in the order /docs lists them."""

from voxify.http.routes import admin, auth, batches, files, info, jobs, library, tts, voices, watermark, webhooks
from voxify.http.routes.compat import studio, tts_jobs, voices_api

ROUTERS = [
    auth.router,
    voices.router,
    watermark.router,
    jobs.router,
    jobs.plural,
    batches.router,
    webhooks.router,
    files.router,
    tts.router,
    library.router,
    info.router,
    admin.router,
    voices_api.router,
    tts_jobs.router,
    tts_jobs.jobs_router,
    *studio.ROUTERS,
]
