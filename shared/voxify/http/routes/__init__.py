"""The routers of the HTTP API, in the order /docs lists them."""

from voxify.http.routes import admin, auth, files, info, jobs, library, tts, voices

ROUTERS = [auth.router, voices.router, jobs.router, files.router, tts.router, library.router,
           info.router, admin.router]
