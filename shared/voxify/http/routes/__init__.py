"""The routers of the HTTP API, in the order /docs lists them."""

from voxify.http.routes import admin, auth, batches, files, info, jobs, library, tts, voices, webhooks

ROUTERS = [
    auth.router,
    voices.router,
    jobs.router,
    batches.router,
    webhooks.router,
    files.router,
    tts.router,
    library.router,
    info.router,
    admin.router,
]
