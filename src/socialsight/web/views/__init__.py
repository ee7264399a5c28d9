"""One module per page family; ``ALL`` is every router, in the navigation's order."""

from __future__ import annotations

from fastapi import APIRouter

from socialsight.web.views import (
    buzz,
    faces,
    labels,
    overview,
    people,
    photo,
    sentiment,
    sql,
    suspect,
)

ALL: tuple[APIRouter, ...] = (
    overview.router, buzz.router, labels.router, faces.router, suspect.router,
    people.router, sentiment.router, photo.router, sql.router,
)
