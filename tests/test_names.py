"""What a brand or a concept may be called: any script and emoji, nothing hidden."""

from __future__ import annotations

import re

import pytest

from socialsight import names
from socialsight.errors import InputError


@pytest.mark.parametrize("name", [
    "Café ☕", "日本", "Blue  Bottle ", "👨\u200d👩\u200d👧 family",  # an emoji's joiners
    "می\u200cخواهم",  # Persian's zero-width non-joiner
    "\u200fשלום", "x" * 100, "shaking \U0001fae8",  # an emoji newer than Python's tables
])
def test_names_in_any_script_are_kept_tidied(name: str) -> None:
    assert names.check(name, "brand") == " ".join(name.split())


@pytest.mark.parametrize(("name", "why"), [
    ("", "cannot be blank"), ("  \t", "cannot be blank"), ("x" * 101, "at most 100"),
    ("bell\x07", "U+0007"), ("del\x7f", "U+007F"), ("evil\u202etxt.exe", "U+202E"),
    ("zero\u200bwidth", "U+200B"), ("iso\u2066late", "U+2066"), ("bom\ufeff", "U+FEFF"),
    ("private\ue000", "U+E000"), ("soft\u00adhyphen", "U+00AD"), ("BRANDS", "is taken"),
    ("concepts", "is taken"), ("Brands!", "is taken"), ("(concepts)", "is taken"),
])
def test_names_that_would_hide_or_clash_are_refused(name: str, why: str) -> None:
    with pytest.raises(InputError, match=re.escape(why)):
        names.check(name, "concept")
