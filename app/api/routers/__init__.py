"""Every router of the service."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.routers import datasets, health, jobs, models, sensitivity, sweeps

api_router = APIRouter()
for module in (models, datasets, jobs, sweeps, sensitivity, health):
    api_router.include_router(module.router)
