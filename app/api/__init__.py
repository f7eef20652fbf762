"""The FastAPI app (`app.api.main:create_app`): routers (one per resource), schemas, services,
auth, errors, uploads, downloads and SSE. Nothing imports it but uvicorn."""
