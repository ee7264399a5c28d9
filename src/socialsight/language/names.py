"""Whether a span is a person's name, and where the name in it starts and stops.

DetectPiiEntities (:mod:`socialsight.language.pii`) finds names two ways: the recogniser's
PERSON spans, and patterns that take the capitalised words after a greeting, a title or a
role ("Dear …", "Applicant …", "cardholder: PRIYA NAIR"). Both go through here:

- :func:`is_person` says whether words can be a name at all: no digits, no greeting's
  "Team" or "Customer" first, no word of an organisation ("Bank", "Services"), a place
  ("Terminal", "Station") or the calendar ("Monday").
- :func:`name_span` cuts a recogniser's PERSON down to the name, as Comprehend marks it:
  without a title or a role before it ("Ms", "Applicant", "Ring"), a title after it
  ("PM", "MP") or a possessive's "'s".

The word lists are general English (titles, roles, words of organisations and places),
tables rather than branches, so a miss is fixed by a word, not by code.
"""

from __future__ import annotations

import re

from socialsight.language.spans import FUNCTION_WORDS, words

TITLES = words("""
mr mr. mrs mrs. ms ms. mx mx. miss dr dr. prof prof. sir madam dame lord lady rev rev.
dear hi hello hey attn attn: attention
president senator sen. governor gov. mayor judge justice rep. congressman congresswoman
minister chancellor secretary ambassador general gen. colonel col. captain capt. sgt.
sergeant lieutenant lt. officer detective inspector coach king queen prince princess
pope father fr. sister saint st.
""")
# Words for the person a text is about, and verbs asking someone to get in touch: before a
# name, they are not part of it ("Applicant Rohan Mehta", "Ring Gareth").
ROLES = words("""
applicant tenant landlord driver passenger guest patient beneficiary remitter payee payer
cardholder holder sender recipient keeper employee student member customer client user
buyer seller owner contact name
ring call text phone message email e-mail ask tell meet
""")
# Titles and letters after a name ("Gillard PM", "Jane Roe MD").
AFTER_NAME = words("""
pm mp mep msp mla md phd dds cpa esq esq. qc kc rn
""")
ORGANISATION = words("""
bank inc inc. llc ltd ltd. corp corp. co. company services service group university college
foundation association institute hospital school store shop team club care support
spa salon cafe café restaurant bar pub bakery gym clinic studio motel inn pharmacy
market supermarket garage agency partners holdings
""")
PLACES = words("""
terminal airport station street road avenue lane park square bridge hotel church centre
center mall hall tower building court house office
""")
CALENDAR = words("""
monday tuesday wednesday thursday friday saturday sunday january february march april
june july august september october november december week weekend month year today
tomorrow yesterday
""")
# Capitalised words after a greeting or a role that are not names.
NOT_NAMES = words("""
all everyone everybody team friends friend folks guys there world customer customers
member members user users valued sir madam colleague colleagues reader readers
client clients guest guests patient patients sender recipient admin support manager
mom mum dad mother father grandma grandpa granny nan nana auntie uncle babe baby
""")
NOT_PERSON = ORGANISATION | PLACES | CALENDAR | FUNCTION_WORDS


def is_person(text: str) -> bool:
    """Words that can be a person's name: no digit, no title or greeting's word first,
    no word of an organisation, a place, the calendar, and no function word."""
    words = [w.strip(",").lower() for w in text.split()]
    return (bool(words) and not any(c.isdigit() for c in text)
            and words[0] not in NOT_NAMES | TITLES
            and not any(w in NOT_PERSON for w in words))


def _tokens(text: str, begin: int, end: int) -> list[tuple[int, int]]:
    return [(begin + m.start(), begin + m.end()) for m in re.finditer(r"\S+", text[begin:end])]


def name_span(text: str, begin: int, end: int) -> tuple[int, int] | None:
    """A person's span without its greeting, title or role before it, a title or a
    possessive after it; None when what is left is not a name."""
    words = _tokens(text, begin, end)
    while words and text[words[0][0]:words[0][1]].lower() in TITLES | ROLES:
        words.pop(0)
    while words and text[words[-1][0]:words[-1][1]].lower() in AFTER_NAME:
        words.pop()
    if not words:
        return None
    tokens = [text[s:e].lower() for s, e in words]
    if tokens[0] in FUNCTION_WORDS or any(t in ORGANISATION | PLACES for t in tokens):
        return None
    s, e = words[0][0], words[-1][1]
    if not text[s].isupper() or any(c.isdigit() for c in text[s:e]):
        return None
    possessive = re.search(r"['\u2019]s$", text[s:e])
    if possessive:
        e -= 2
    while e > s and text[e - 1] in ".'" and not re.search(r"\b[A-Z]\.$", text[s:e]):
        e -= 1
    return (s, e) if e > s else None
