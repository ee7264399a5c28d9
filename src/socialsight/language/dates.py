"""One DATE_TIME for a date and its time, as a reader (and Comprehend) marks them.

DetectPiiEntities (:mod:`socialsight.language.pii`) finds dates and times piece by piece
(its patterns and the recogniser each see "02/05/2025" and "10:42" apart). A reader
marks "02/05/2025 at 10:42", "Tuesday 3 June 2025 at 9:15am" or "2025-04-11 16:05 UTC"
as one moment; these functions, on offsets into the text, say how the pieces go together:

- :func:`weekday_start`: a weekday just before a date or a time joins it ("Fri 15 Aug
  2025", "Sat 10am");
- :func:`joins`: a date and a time next to each other, in either order, with only a
  comma, "at", "on" or "@" between them, are one span ("15:00 on 04/10/2025", "19 May
  2025, 02:13");
- :func:`zone_end`: a time zone after a time joins it ("16:05 UTC", "9pm EST").

Two dates, or two times, side by side stay apart ("Mon, Tue"; "10:00 - 12:00"), and
nothing joins across a line break.
"""

from __future__ import annotations

import re

_DAY = (r"(?i:\b(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?"
        r"|fri(?:day)?|sat(?:urday)?|sun(?:day)?)\.?)")
DAY = re.compile(_DAY)
DAY_BEFORE = re.compile(_DAY + r",?[ \t]+$")
CALENDAR = re.compile(r"\d|" + _DAY + r"|(?i:\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov"
                      r"|dec)[a-z]*\b)")
TIME = re.compile(r"(?i:(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?:\s*(?:am|pm|a\.m\.|p\.m\.))?"
                  r"|(?:1[0-2]|0?[1-9])\s*(?:am|pm|a\.m\.|p\.m\.)|noon|midnight)")
ZONE = re.compile(r"[ \t]?(?:UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?\b|[ \t](?:BST|CET|CEST|EET"
                  r"|EEST|WET|WEST|IST|JST|KST|SGT|HKT|AEST|AEDT|ACST|AWST|NZST|NZDT|EST"
                  r"|EDT|CST|CDT|MST|MDT|PST|PDT|AKST|AKDT|HST)\b")
GAP = re.compile(r",?[ \t]+(?:(?:at|on|@)[ \t]+)?|,[ \t]*")
# Which pieces join: a date or a weekday with a time, either way round; a weekday with
# the date after it.
JOINS = {("date", "time"), ("day", "time"), ("time", "date"), ("time", "day"), ("day", "date")}


def kind(piece: str) -> str:
    """"time", "day" (a weekday alone), "date" (a day of the calendar, no time in it),
    "both", or "other" ("tomorrow", "this week": no number, month or weekday)."""
    if TIME.fullmatch(piece):
        return "time"
    if DAY.fullmatch(piece):
        return "day"
    if TIME.search(piece):
        return "both"
    return "date" if CALENDAR.search(piece) else "other"


def weekday_start(text: str, begin: int, floor: int) -> int:
    """Where a date starting at ``begin`` starts with the capitalised weekday before it
    (not before ``floor``, the end of the span before it)."""
    found = DAY_BEFORE.search(text, max(floor, begin - 12), begin)
    return found.start() if found and text[found.start()].isupper() else begin


def zone_end(text: str, begin: int, end: int, limit: int) -> int:
    """Where a span with a time ends with the time zone after it (not past ``limit``,
    the start of the span after it)."""
    if kind(text[begin:end]) not in ("time", "both"):
        return end
    found = ZONE.match(text, end)
    return found.end() if found and found.end() <= limit else end


def joins(text: str, first: tuple[int, int], second: tuple[int, int]) -> bool:
    """Whether two date spans (``first`` before ``second``) are one moment: a date or a
    weekday and a time, or a weekday and its date, with only a joining word between."""
    return (GAP.fullmatch(text, first[1], second[0]) is not None
            and (kind(text[first[0]:first[1]]), kind(text[second[0]:second[1]])) in JOINS)
