"""Pages of a photo grid: ``?page=N`` checked, and how many pages there are."""

from __future__ import annotations

import math

from socialsight.errors import InputError

MAX_PAGE = 1_000_000


def page_number(value: str | None) -> int:
    """``?page=`` as a number from 1 (1 when absent); an InputError for anything else."""
    if value is None or not value.strip():
        return 1
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 7 or not 1 <= int(text) <= MAX_PAGE:
        raise InputError(f"page must be a whole number from 1 to {MAX_PAGE:,}, not {value!r}")
    return int(text)


def page_count(total: int, per_page: int) -> int:
    return math.ceil(total / per_page) if total else 0


def check_page(page: int, pages: int) -> None:
    """An InputError for a page past the last one (page 1 of nothing is fine: it is empty)."""
    if page > max(pages, 1):
        raise InputError(f"there {'is' if pages == 1 else 'are'} only {pages} "
                         f"page{'' if pages == 1 else 's'}, not {page}")


def window(page: int, per_page: int, total: int) -> tuple[int, dict[str, int]]:
    """The number of pages (``page`` checked against it) and the ``$limit``/``$offset``
    parameters of that page's query."""
    pages = page_count(total, per_page)
    check_page(page, pages)
    return pages, {"limit": per_page, "offset": (page - 1) * per_page}
