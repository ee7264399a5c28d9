"""The handlers that change something or stream, beyond the page table's GET routes
(:mod:`socialsight.web.pages`): enrolling and forgetting people and brands, running SQL."""

from __future__ import annotations

from fastapi import APIRouter

from socialsight.web.views import brands, people, sql

ALL: tuple[APIRouter, ...] = (people.router, brands.router, sql.router)
