"""DetectPiiEntities and ContainsPiiEntities, offline: Comprehend's PII types in a text.

Two sources, merged into one list of non-overlapping spans (offsets in code points into
the text as given, as Comprehend counts them):

- **Patterns** (:data:`RULES`): a type's own format, held to its checksum where it has
  one (:data:`CHECKS`: Luhn and the card networks' prefixes for cards and Canadian SINs,
  the ABA checksum for routing numbers, mod-97 and the country's length for IBANs, the
  ISO 3779 check digit for VINs, Verhoeff for Aadhaar, mod-11 for NHS numbers), and to
  the words around it where the format alone says too little (:data:`CONTEXT`: a
  9-digit number is a routing number only after "routing number" or with a valid ABA
  checksum and a Federal Reserve prefix; a password only after "password:").
- **spaCy's entities** (:mod:`socialsight.language.entities`, the recogniser DetectEntities
  runs, with its scores): a PERSON is a NAME, a DATE or TIME a DATE_TIME, and a place
  (GPE, LOC, FAC) right after a street number starts an ADDRESS. Their spans are cut
  at sentence and clause boundaries first (the recogniser sometimes runs one across
  "Zhang Wei. Your"), titles and greetings are left out of a NAME, as Comprehend does,
  and a DATE piece must hold a date or time word.

A pattern beats a span from spaCy where they overlap (a card number is never a date),
except the patterns for names and dates (``tier`` 1), which compete with spaCy's on
score; among the rest the surer span wins, then the longer.

Scores say how much the evidence is worth, on one scale for every type (each rule's own
number is in :data:`RULES`; these are the steps it follows):

====== ================================================================================
score  evidence
====== ================================================================================
0.99   an unambiguous format (an email, a link with its scheme), or a checksum and the
       type's own words ("card 4111 1111 1111 1111")
0.95   a checksum, or a strict format, alone (an IBAN, a VIN, a Luhn-valid card of a
       known network, an AWS access key)
0.9    a value introduced by its own words ("routing number 021000021", "password: x")
0.85   a format other things seldom share (SSN's 123-45-6789, a street without a town)
0.8    a format other things share (a bare domain, a masked card "XXXX XXXX XXXX 1234")
0.7    a social handle (@name)
0.6    a weak sign: a card's own words around a number that fails Luhn, a SWIFT-like code
0.5    a checksum that one number in ten passes by chance (a bare 9-digit routing number)
====== ================================================================================

spaCy's spans keep the recogniser's own score (the beam's probability, see
:mod:`~socialsight.language.entities`); a NAME found after a greeting ("Dear Ann Lee")
when spaCy saw none scores 0.8. Spans under :data:`MIN_SCORE` are dropped.

:func:`detect` runs the recogniser and then :func:`find` on each text; enrich calls
:func:`find` with the entities it has already found for DetectEntities, so a post is read
by spaCy once and gets the same PII as the AWS API would give it. How PII rows sit in the
lake and how they are masked is :mod:`socialsight.language.redaction`'s.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from socialsight.language import entities
from socialsight.language.spans import FUNCTION_WORDS
from socialsight.language.spans import cut as _cut

MIN_SCORE = 0.5
WINDOW = 40  # characters before a span searched for its context words

# Comprehend's PII entity types (botocore's PiiEntityType, less ALL: a filter, not a type).
TYPES = (
    "ADDRESS", "AGE", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "BANK_ACCOUNT_NUMBER",
    "BANK_ROUTING", "CA_HEALTH_NUMBER", "CA_SOCIAL_INSURANCE_NUMBER", "CREDIT_DEBIT_CVV",
    "CREDIT_DEBIT_EXPIRY", "CREDIT_DEBIT_NUMBER", "DATE_TIME", "DRIVER_ID", "EMAIL",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "IN_AADHAAR", "IN_NREGA",
    "IN_PERMANENT_ACCOUNT_NUMBER", "IN_VOTER_NUMBER", "IP_ADDRESS", "LICENSE_PLATE",
    "MAC_ADDRESS", "NAME", "PASSPORT_NUMBER", "PASSWORD", "PHONE", "PIN", "SSN",
    "SWIFT_CODE", "UK_NATIONAL_HEALTH_SERVICE_NUMBER", "UK_NATIONAL_INSURANCE_NUMBER",
    "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER", "URL", "USERNAME",
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "VEHICLE_IDENTIFICATION_NUMBER",
)


@dataclass(frozen=True)
class Pii:
    type: str
    score: float
    begin: int
    end: int

    def comprehend(self) -> dict[str, Any]:
        return {"Score": self.score, "Type": self.type, "BeginOffset": self.begin,
                "EndOffset": self.end}


@dataclass(frozen=True)
class Rule:
    """One way a type is written. The span is the pattern's group ``v`` when it has one
    (the words before it are its context), else the whole match."""

    type: str
    pattern: str
    alone: float  # score of a match with no context words before it (0: never alone)
    near: float = 0.0  # score with one of ``context``'s words in the WINDOW before it
    context: str = ""  # a key of CONTEXT
    check: str = ""  # a key of CHECKS, which the span must pass
    tier: int = 0  # 0: patterns; 1: compete with spaCy's spans (names, dates)


# --- pieces of patterns -------------------------------------------------------------
S = r"(?<![\w-])"  # a number or code starts: no letter, digit or hyphen just before
E = r"(?![\w-]|[.,:]\d)"  # and ends
MASK = r"[Xx*\u2022#]"  # a masked digit ("XXXX1111", "•••• 1111")
FILL = (r"[\s:#=.-]{0,4}(?:(?i:is|was|number|no|num|nr|ending\s+in|ends\s+in|ending\s+with"
        r"|of|on\s+file)[\s:#=.-]{1,4}){0,3}")  # "routing number is: …"
INTRO = r"\s*(?:(?i:is|was)\s*)?[:=#]?\s*"  # "password is …", "password: …"
LABEL = r"(?:\s*(?i:number|no\.?|num|nr|#|id))?"
CARD = (S + r"(?:\d{4}(?P<s>[ -]?)\d{4}(?P=s)\d{4}(?P=s)\d{1,7}|\d{4}([ -]?)\d{6}\2\d{4,5})"
        + E)
CARD_GROUPED = S + r"(?:\d{4}([ -])\d{4}\1\d{4}\1\d{4}|\d{4}([ -])\d{6}\2\d{4,5})" + E
MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
         r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
EXPIRY = r"(?:(?:0?[1-9]|1[0-2])\s?[/-]\s?(?:20)?\d{2}|" + MONTH + r"\.?\s+(?:20)?\d{2})"
SUFFIX = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way"
          r"|Place|Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail"
          r"|Crescent|Close|Grove|Gardens|Row|Mews|Walk|Alley|Plaza|Loop|Pike)")
STREET = (r"\b\d{1,6}[A-Za-z]?(?:-\d{1,6})?\s+(?:(?:North|South|East|West|[NSEW]\.?)\s+)?"
          r"(?:(?:[A-Z][A-Za-z'-]*\.?|\d{1,3}(?:st|nd|rd|th))\s+){0,4}" + SUFFIX
          + r"\b\.?(?:\s+(?:NE|NW|SE|SW|N|S|E|W)\b)?"
          r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Floor|Fl|Room|Rm|Bldg|Building)\.?\s*#?"
          r"\s*[A-Za-z0-9-]+|,?\s+#\s*[A-Za-z0-9-]+)?")
PLACE = r"[A-Z][A-Za-z'-]+(?:\s+[A-Z][A-Za-z'-]+){0,2}"
POSTCODE = (r"(?:\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}|[A-Z]\d[A-Z]\s?\d[A-Z]\d)"
            r"\b")
TAIL = r"(?:(?:,\s*" + PLACE + r"){1,3}(?:,?\s+" + POSTCODE + r")?|,?\s+" + POSTCODE + r")"
DATE_NUMERIC = (S + r"(?:0?[1-9]|[12]\d|3[01])[/.](?:0?[1-9]|[12]\d|3[01])[/.]"
                r"(?:19|20)?\d{2}" + E)

# Words that, just before a value, say what it is (searched case-insensitively).
CONTEXT: dict[str, str] = {
    "card": r"card|visa|master\s?card|amex|american\s+express|discover|maestro|\bcc\b|"
            r"\bpan\b",
    "phone": r"phone|\btel\b|\bcall|mobile|\bcell|\bfax\b|\btext|\bsms\b|whats\s?app|"
             r"\bcontact|\breach|\bdial|pager|\bph\b|\bmob\b",
    "ssn": r"\bssn\b|social\s+security|\bss\s?#",
    "itin": r"\bitin\b|taxpayer\s+identification",
    "ip": r"\bip\b|address|server|host",
    "vin": r"\bvin\b|vehicle\s+identification|chassis",
    "secret": r"secret|aws_secret|(?:AKIA|ASIA)[A-Z2-7]{16}",
    "swift": r"swift|\bbic\b",
    "pan": r"\bpan\b|permanent\s+account",
    "aadhaar": r"aadhaa?r|\buidai\b|\buid\b",
    "voter": r"voter|\bepic\b|election",
    "nrega": r"nrega|job\s+card",
    "nino": r"national\s+insurance|\bnino\b|\bni\s+(?:number|no)",
    "nhs": r"\bnhs\b|health\s+service",
    "utr": r"\butr\b|unique\s+taxpayer|tax\s+reference",
    "sin": r"\bsin\b|social\s+insurance",
    "ca_health": r"health\s+(?:card|number|insurance|#)|\bohip\b|\bmsp\b|\bramq\b|\bphn\b",
}
ACCOUNT = (r"(?i:(?<!card )(?<!credit )\b(?:bank\s+|checking\s+|savings\s+|chequing\s+|"
           r"current\s+)?(?:account|acct|a/c)\b" + LABEL + r"|\b(?:checking|savings)\b)")
ROUTING = (r"(?i:\b(?:routing|aba|rtn|transit)\b(?:\s*(?:number|no\.?|num|#))?|"
           r"\bsort\s+code\b)")
GREETING = (r"(?:\b(?i:dear|hello|hi|hey|attn\.?|attention|my\s+name\s+is|name\s*:)"
            r"|\b(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof)\.?)\s+")
PERSON = (r"(?P<v>[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?"
          r"(?:\s+(?:[A-Z]\.\s+)?[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?){0,2})\b")

# Every type's patterns: the table the detector runs. A type with several rows takes
# the best-scoring row that matches a span.
RULES: tuple[Rule, ...] = (
    # Cards: Luhn and a network's prefix; Luhn alone; or a card's own words around a
    # card-shaped number that fails Luhn (a typo, a test number). Masked ones by shape.
    Rule("CREDIT_DEBIT_NUMBER", CARD, 0.95, 0.99, "card", "card"),
    Rule("CREDIT_DEBIT_NUMBER", CARD, 0.6, 0.9, "card", "luhn"),
    Rule("CREDIT_DEBIT_NUMBER", CARD_GROUPED, 0.0, 0.6, "card"),
    Rule("CREDIT_DEBIT_NUMBER", S + r"(?:" + MASK + r"{4}[ -]?){3}\d{4}" + E, 0.8, 0.9, "card"),
    Rule("CREDIT_DEBIT_NUMBER", S + MASK + r"{6,15}\d{4}" + E, 0.0, 0.85, "card"),
    Rule("CREDIT_DEBIT_NUMBER", r"(?i:\b(?:ending|ends)\s+(?:in|with))\s+(?P<v>\d{4})" + E,
         0.0, 0.85, "card"),
    Rule("CREDIT_DEBIT_CVV", r"(?i:\b(?:cvv2?|cvc2?|cid|csc|security\s+code|card\s+"
         r"verification(?:\s+(?:code|value|number))?))" + INTRO + r"(?P<v>\d{3,4})" + E, 0.95),
    Rule("CREDIT_DEBIT_EXPIRY", r"(?i:\b(?:exp(?:ires|iry|iration)?(?:\s+date)?|valid\s+"
         r"(?:thru|through|until)|good\s+thru))\.?\s*(?:(?i:on|date)\s*)?[:=]?\s*(?P<v>"
         + EXPIRY + r")" + E, 0.95),
    Rule("CREDIT_DEBIT_EXPIRY", S + r"(?:0[1-9]|1[0-2])/(?:\d{2}|20\d{2})" + E, 0.0, 0.8,
         "card"),
    Rule("PIN", r"(?i:\bpin\b(?:\s*(?:code|number|no\.?|#))?)" + INTRO + r"(?P<v>\d{4,6})" + E,
         0.9),
    # Banks: a value after its own words; routing numbers also by ABA checksum.
    Rule("BANK_ACCOUNT_NUMBER", ACCOUNT + FILL + r"(?P<v>(?:" + MASK + r"{2,}[- ]?)?\d{4,17})"
         + E, 0.9),
    Rule("BANK_ROUTING", ROUTING + FILL + r"(?P<v>\d{9})" + E, 0.97, check="aba"),
    Rule("BANK_ROUTING", ROUTING + FILL + r"(?P<v>(?:" + MASK + r"{2,}[- ]?)?\d{4,9}|"
         r"\d{2}-\d{2}-\d{2})" + E, 0.8),
    Rule("BANK_ROUTING", S + r"\d{9}" + E, 0.5, check="aba_fed"),
    Rule("INTERNATIONAL_BANK_ACCOUNT_NUMBER",
         r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", 0.95, check="iban"),
    Rule("SWIFT_CODE", r"\b[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\b", 0.6, 0.95, "swift",
         "swift"),
    Rule("SWIFT_CODE", r"\b[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\b", 0.0, 0.95, "swift",
         "country"),
    # The internet.
    Rule("EMAIL", r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*"
         r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b",
         0.99),
    Rule("URL", r"\b(?:(?i:https?|ftp)://|(?i:www)\.)[^\s<>\"'`]+", 0.99, check="trim"),
    Rule("URL", r"(?<![\w@.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
         r"(?i:com|org|net|edu|gov|io|co|uk|de|fr|es|it|nl|info|biz|app|dev|me|ly|us|ca|au"
         r"|in|jp|ai|tv)\b(?:/[^\s<>\"'`]*)?", 0.8, check="trim"),
    Rule("IP_ADDRESS", r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)", 0.8, 0.97, "ip", "ipv4"),
    Rule("IP_ADDRESS", r"(?<![\w:])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:)[0-9A-Fa-f:]{2,39}(?![\w:])",
         0.9, check="ipv6"),
    Rule("MAC_ADDRESS", r"\b[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}\b", 0.95),
    Rule("MAC_ADDRESS", r"\b[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\b", 0.85),
    Rule("USERNAME", r"(?i:\b(?:user\s?name|user\s?id|log\s?in(?:\s+(?:name|id))?|screen\s?"
         r"name|handle|nick\s?name))\s*(?:(?i:is)|[:=])\s*(?P<v>@?[A-Za-z0-9][\w.-]{1,63})",
         0.9, check="trim"),
    Rule("USERNAME", r"(?<![\w@.+-])@[A-Za-z0-9_]{1,30}\b(?![@.]\w)", 0.7),
    Rule("PASSWORD", r"(?i:\b(?:password|passwd|passphrase|pwd|passcode))\s*(?:(?i:is)|[:=])"
         r"\s*[\"']?(?P<v>[^\s\"']{3,64})", 0.9, check="trim"),
    Rule("AWS_ACCESS_KEY", r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA)"
         r"[A-Z2-7]{16}\b", 0.98),
    Rule("AWS_SECRET_KEY", r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", 0.0,
         0.95, "secret", "mixed"),
    # Phones: North American numbers by their shape, others with their country code,
    # national ones after a phone word.
    Rule("PHONE", r"(?<![\w+-])(?:\+?1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}"
         + E, 0.9, 0.98, "phone", "nanp"),
    Rule("PHONE", r"(?<![\w+])\+\d(?:[ .-]?\(\d{1,5}\)|[ .-]?\d){6,16}" + E, 0.85, 0.95,
         "phone", "e164"),
    Rule("PHONE", r"(?<![\w+-])\(?0\d{1,4}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}" + E, 0.0, 0.85,
         "phone", "e164"),
    Rule("PHONE", S + r"\d{10}" + E, 0.0, 0.8, "phone", "nanp"),
    # People and where they live.
    Rule("NAME", GREETING + PERSON, 0.8, check="person", tier=1),
    Rule("ADDRESS", STREET + TAIL, 0.95),
    Rule("ADDRESS", STREET, 0.85),
    Rule("ADDRESS", r"\b(?i:p\.?\s?o\.?\s+box|post\s+office\s+box)\s+\d{1,6}" + TAIL + "?",
         0.9),
    Rule("AGE", r"\b(?P<v>\d{1,3}(?:\s+|-)(?i:years?|yrs?|months?))(?=(?:\s+|-)(?i:old)\b)",
         0.95, check="age"),
    Rule("AGE", r"(?i:\baged?)\s*[:=]?\s*(?P<v>\d{1,3})\b(?!\s*(?:%|(?i:percent)))", 0.85,
         check="age"),
    Rule("AGE", r"\b(?P<v>\d{1,3})\s*(?i:yo|y/o|y\.o\.)(?!\w)", 0.8, check="age"),
    Rule("DATE_TIME", S + r"(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
         r"(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
         + E, 0.95, tier=1),
    Rule("DATE_TIME", DATE_NUMERIC, 0.9, tier=1),
    Rule("DATE_TIME", r"\b" + MONTH + r"\.?\s+\d{1,2}(?:st|nd|rd|th)?\b(?:,?\s+(?:19|20)\d{2}\b)?",
         0.9, tier=1),
    Rule("DATE_TIME", r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + MONTH
         + r"\b\.?(?:,?\s+(?:19|20)\d{2}\b)?", 0.9, tier=1),
    Rule("DATE_TIME", r"(?<![\w:.])(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?"
         r"(?:\s*(?i:am|pm|a\.m\.|p\.m\.))?(?![\w:])", 0.85, tier=1),
    Rule("DATE_TIME", r"\b(?:1[0-2]|0?[1-9])\s*(?i:am|pm|a\.m\.|p\.m\.)(?!\w)", 0.85, tier=1),
    # Documents: after their own words, or by a shape few other things have.
    Rule("SSN", S + r"(?!000|666|9)\d{3}-(?!00)\d{2}-(?!0000)\d{4}" + E, 0.85, 0.98, "ssn"),
    Rule("SSN", S + r"(?!000|666|9)\d{3} ?(?!00)\d{2} ?(?!0000)\d{4}" + E, 0.0, 0.9, "ssn"),
    Rule("SSN", S + MASK + r"{3}[- ]?" + MASK + r"{2}[- ]?\d{4}" + E, 0.8, 0.95, "ssn"),
    Rule("SSN", r"(?i:\b(?:ending|ends)\s+(?:in|with))\s+(?P<v>\d{4})" + E, 0.0, 0.85, "ssn"),
    Rule("US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
         S + r"9\d{2}([- ])(?:5\d|6[0-5]|7\d|8[0-8]|9[0-2]|9[4-9])\1\d{4}" + E, 0.9, 0.98,
         "itin"),
    Rule("US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
         S + r"9\d{2}(?:5\d|6[0-5]|7\d|8[0-8]|9[0-2]|9[4-9])\d{4}" + E, 0.0, 0.95, "itin"),
    Rule("PASSPORT_NUMBER", r"(?i:\bpassport)" + LABEL + INTRO
         + r"(?P<v>(?=[A-Z0-9]*\d)[A-Z0-9]{6,9})\b", 0.9),
    Rule("DRIVER_ID", r"(?i:\b(?:driver'?s?|driving)\s+licen[cs]e|\bDL)" + LABEL + INTRO
         + r"(?P<v>(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,18}[A-Z0-9])\b", 0.9),
    Rule("DRIVER_ID", r"(?i:\blicen[cs]e\s+(?:number|no\.?|num|#))" + INTRO
         + r"(?P<v>(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,18}[A-Z0-9])\b", 0.75),
    Rule("LICENSE_PLATE", r"(?i:\b(?:licen[cs]e\s+plate|number\s+plate|plate|registration|"
         r"reg\.?)(?:\s*(?:number|no\.?|#))?)" + INTRO
         + r"(?P<v>(?=[A-Z0-9 -]*\d)(?=[A-Z0-9 -]*[A-Z])[A-Z0-9]{1,4}(?:[ -]?[A-Z0-9]{1,4})?)\b",
         0.85),
    Rule("VEHICLE_IDENTIFICATION_NUMBER",
         r"\b(?=[A-HJ-NPR-Z0-9]*\d)(?=[A-HJ-NPR-Z0-9]*[A-HJ-NPR-Z])[A-HJ-NPR-Z0-9]{17}\b",
         0.95, check="vin"),
    Rule("VEHICLE_IDENTIFICATION_NUMBER",
         r"\b(?=[A-HJ-NPR-Z0-9]*\d)(?=[A-HJ-NPR-Z0-9]*[A-HJ-NPR-Z])[A-HJ-NPR-Z0-9]{17}\b",
         0.0, 0.85, "vin"),
    Rule("UK_NATIONAL_INSURANCE_NUMBER", r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z]"
         r"[A-CEGHJ-NPR-TW-Z][ -]?\d{2}[ -]?\d{2}[ -]?\d{2}[ -]?[A-D]\b", 0.9, 0.98, "nino"),
    Rule("UK_NATIONAL_HEALTH_SERVICE_NUMBER", S + r"\d{3}([ -]?)\d{3}\1\d{4}" + E, 0.0, 0.95,
         "nhs", "nhs"),
    Rule("UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER", S + r"\d{5} ?\d{5}K?" + E, 0.0, 0.9, "utr"),
    Rule("CA_SOCIAL_INSURANCE_NUMBER", S + r"[1-79]\d{2}([ -])\d{3}\1\d{3}" + E, 0.55, 0.97,
         "sin", "luhn"),
    Rule("CA_SOCIAL_INSURANCE_NUMBER", S + r"[1-79]\d{8}" + E, 0.0, 0.95, "sin", "luhn"),
    Rule("CA_HEALTH_NUMBER", S + r"\d{4}[ -]?\d{3}[ -]?\d{3}(?:[ -]?[A-Z]{2})?" + E, 0.0, 0.9,
         "ca_health"),
    Rule("IN_AADHAAR", S + r"[2-9]\d{3}([ -])\d{4}\1\d{4}" + E, 0.9, 0.98, "aadhaar",
         "verhoeff"),
    Rule("IN_AADHAAR", S + r"[2-9]\d{11}" + E, 0.0, 0.95, "aadhaar", "verhoeff"),
    Rule("IN_PERMANENT_ACCOUNT_NUMBER", r"\b[A-Z]{3}[ABCFGHJLPT][A-Z]\d{4}[A-Z]\b", 0.85, 0.97,
         "pan"),
    Rule("IN_VOTER_NUMBER", r"\b[A-Z]{3}\d{7}\b", 0.5, 0.95, "voter"),
    Rule("IN_NREGA", r"\b[A-Z]{2}[- ]?\d{2}[- ]?\d{3}[- ]?\d{3}[- ]?\d{3}[- /]?\d{3}\b", 0.7,
         0.95, "nrega"),
)

# --- checks: the characters of the span that hold (0: none; the span's length: all) ---

Check = Callable[[str], int]


def _digits(text: str) -> list[int]:
    return [int(c) for c in text if c.isdigit()]


def _luhn(text: str) -> bool:
    digits = _digits(text)
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return len(digits) > 1 and total % 10 == 0


# Card networks: (first digits from, to, lengths). A card must be Luhn-valid and fit one.
CARD_NETWORKS: tuple[tuple[str, int, int, tuple[int, ...]], ...] = (
    ("Visa", 4, 4, (13, 16, 19)),
    ("Mastercard", 51, 55, (16,)),
    ("Mastercard", 2221, 2720, (16,)),
    ("American Express", 34, 34, (15,)),
    ("American Express", 37, 37, (15,)),
    ("Discover", 6011, 6011, (16, 17, 18, 19)),
    ("Discover", 644, 649, (16, 17, 18, 19)),
    ("Discover", 65, 65, (16, 17, 18, 19)),
    ("Diners Club", 300, 305, (14, 15, 16, 17, 18, 19)),
    ("Diners Club", 36, 36, (14, 15, 16, 17, 18, 19)),
    ("Diners Club", 38, 39, (16, 17, 18, 19)),
    ("JCB", 3528, 3589, (16, 17, 18, 19)),
    ("UnionPay", 62, 62, (16, 17, 18, 19)),
    ("Maestro", 50, 50, (12, 13, 14, 15, 16, 17, 18, 19)),
    ("Maestro", 56, 58, (12, 13, 14, 15, 16, 17, 18, 19)),
    ("Maestro", 6759, 6759, (12, 13, 14, 15, 16, 17, 18, 19)),
    ("Mir", 2200, 2204, (16, 17, 18, 19)),
)


def _card(text: str) -> bool:
    digits = "".join(c for c in text if c.isdigit())
    return _luhn(digits) and any(
        len(digits) in lengths and low <= int(digits[:len(str(low))]) <= high
        for _, low, high, lengths in CARD_NETWORKS)


def _aba(text: str) -> bool:
    d = _digits(text)
    return (len(d) == 9 and any(d)
            and (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8])
            % 10 == 0)


def _aba_fed(text: str) -> bool:
    """ABA checksum and a Federal Reserve district prefix (01-12, 21-32, 61-72, 80)."""
    prefix = int(text[:2])
    return _aba(text) and (1 <= prefix <= 12 or 21 <= prefix <= 32 or 61 <= prefix <= 72
                           or prefix == 80)


# IBAN lengths by country (the IBAN registry).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}


def _iban(text: str) -> int:
    """The span's first characters that make the country's IBAN length with mod-97 = 1
    (a pattern of groups of four may take a word after it)."""
    length = IBAN_LENGTHS.get(text[:2])
    if length is None:
        return 0
    count = 0
    for end, char in enumerate(text, 1):
        count += char.isalnum()
        if count == length:
            compact = text[:end].replace(" ", "")
            moved = compact[4:] + compact[:4]
            number = "".join(str(int(c, 36)) for c in moved)
            return end if int(number) % 97 == 1 else 0
    return 0


VIN_VALUES = dict(zip("0123456789ABCDEFGHJKLMNPRSTUVWXYZ",
                      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8,
                       1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9], strict=True))
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def _vin(text: str) -> bool:
    """ISO 3779's check digit (the 9th character), as North American VINs carry it."""
    total = sum(VIN_VALUES[c] * w for c, w in zip(text, VIN_WEIGHTS, strict=True))
    return text[8] == "0123456789X"[total % 11]


_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6), (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4), (9, 8, 7, 6, 5, 4, 3, 2, 1, 0))
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2), (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8))


def _verhoeff(text: str) -> bool:
    check = 0
    for i, d in enumerate(reversed(_digits(text))):
        check = _VERHOEFF_D[check][_VERHOEFF_P[i % 8][d]]
    return check == 0


def _nhs(text: str) -> bool:
    d = _digits(text)
    rest = 11 - sum(x * (10 - i) for i, x in enumerate(d[:9])) % 11
    return len(d) == 10 and rest != 10 and (0 if rest == 11 else rest) == d[9]


def _nanp(text: str) -> bool:
    """A North American number: area code and exchange start with 2-9."""
    d = _digits(text)
    if len(d) == 11 and d[0] == 1:
        d = d[1:]
    return len(d) == 10 and d[0] >= 2 and d[3] >= 2


def _ip(text: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(text).version == version
    except ValueError:
        return False


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ISO 3166 country codes (SWIFT's fifth and sixth letters), Kosovo's XK with them.
COUNTRIES = _words("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
VN VU WF WS XK YE YT ZA ZM ZW""")


def _swift(text: str) -> bool:
    """A country, and a digit in the location or branch, or the head office's XXX."""
    return (text[4:6] in COUNTRIES
            and (any(c.isdigit() for c in text[6:]) or text.endswith("XXX")))


# Capitalised words after a greeting that are not names.
NOT_NAMES = _words("""
all everyone everybody team friends friend folks guys there world customer customers
member members user users valued sir madam colleague colleagues reader readers
client clients guest guests patient patients sender recipient admin support manager
""")
TRAILING = ".,;:!?)]}'\"\u201d\u2019"
BRACKETS = {")": "(", "]": "[", "}": "{"}


def _trim(text: str) -> int:
    """Without the sentence's punctuation after it (a link, a username, a password); a
    closing bracket the value opened itself stays (a link's "(…)")."""
    end = len(text)
    while end and text[end - 1] in TRAILING:
        opener = BRACKETS.get(text[end - 1])
        if opener and text.count(opener, 0, end) >= text.count(text[end - 1], 0, end):
            break
        end -= 1
    return end


def _whole(test: Callable[[str], bool]) -> Check:
    return lambda text: len(text) if test(text) else 0


CHECKS: dict[str, Check] = {
    "luhn": _whole(_luhn),
    "card": _whole(_card),
    "aba": _whole(_aba),
    "aba_fed": _whole(_aba_fed),
    "iban": _iban,
    "vin": _whole(_vin),
    "verhoeff": _whole(_verhoeff),
    "nhs": _whole(_nhs),
    "nanp": _whole(_nanp),
    "e164": _whole(lambda t: 8 <= len(_digits(t)) <= 15),
    "ipv4": _whole(lambda t: _ip(t, 4)),
    "ipv6": _whole(lambda t: _ip(t, 6) and any(c.isalnum() for c in t)),
    "swift": _whole(_swift),
    "country": _whole(lambda t: t[4:6] in COUNTRIES),
    "mixed": _whole(lambda t: (any(c.islower() for c in t) and any(c.isupper() for c in t)
                               and any(c.isdigit() for c in t))),
    "age": _whole(lambda t: 0 < int("".join(c for c in t if c.isdigit())[:3] or 0) <= 130),
    "person": _whole(lambda t: t.split()[0].lower() not in NOT_NAMES),
    "trim": _trim,
}

# --- spaCy's spans ------------------------------------------------------------------

TITLES = _words("""
mr mr. mrs mrs. ms ms. mx mx. miss dr dr. prof prof. sir madam dame lord lady rev rev.
dear hi hello hey attn attn: attention
""")
ORGANISATION = _words("""
bank inc inc. llc ltd ltd. corp corp. co. company services group university college
foundation association institute hospital school store shop team club
""")
DATE_WORD = re.compile(
    r"(?i:\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|mon(?:day)?|tue(?:s"
    r"(?:day)?)?|wed(?:nesday)?|thu(?:rs(?:day)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
    r"|today|tomorrow|yesterday|tonight|morning|afternoon|evening|night|noon|midnight"
    r"|weekend|week|month|year|day|decade|century|hour|minute|quarter|spring|summer"
    r"|autumn|fall|winter|christmas|easter|am|pm)s?\b)"
    r"|\b(?:1[89]|20)\d{2}s?\b|\b\d{1,2}(?:st|nd|rd|th)\b|\b\d{1,2}[:/.-]\d{1,2}\b|'\d0s\b")
ADDRESS_START = re.compile(r"\b\d{1,6}[A-Za-z]?,?\s+$")
ADDRESS_TAIL = re.compile(TAIL)
PLACE_ADDRESS = 0.9  # an ADDRESS from a number and spaCy's place: that share of its score





def _name(text: str, begin: int, end: int) -> tuple[int, int] | None:
    """A person's span without its greeting or title; None when it is not a name."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[begin:end])]
    while words and text[begin + words[0][0]:begin + words[0][1]].lower() in TITLES:
        words.pop(0)
    if not words:
        return None
    tokens = [text[begin + s:begin + e].lower() for s, e in words]
    if tokens[0] in FUNCTION_WORDS or any(t in ORGANISATION for t in tokens):
        return None
    first = text[begin + words[0][0]]
    if not first.isupper():
        return None
    s, e = begin + words[0][0], begin + words[-1][1]
    while e > s and text[e - 1] in ".'" and not re.search(r"\b[A-Z]\.$", text[s:e]):
        e -= 1
    return (s, e) if e > s else None


def _from_entities(text: str, ents: Sequence[Any]) -> list[Pii]:
    """NAME, DATE_TIME and ADDRESS from the recogniser's entities of ``text``."""
    out = []
    for ent in ents:
        if ent.type == "PERSON":
            for s, e in _cut(text, ent.begin, ent.end):
                span = _name(text, s, e)
                if span:
                    out.append(Pii("NAME", ent.score, *span))
        elif ent.type == "DATE":
            out += [Pii("DATE_TIME", ent.score, s, e) for s, e in _cut(text, ent.begin, ent.end)
                    if DATE_WORD.search(text, s, e)]
        elif ent.type == "LOCATION":
            number = ADDRESS_START.search(text, max(0, ent.begin - 12), ent.begin)
            if number:
                tail = ADDRESS_TAIL.match(text, ent.end)
                end = tail.end() if tail else ent.end
                out.append(Pii("ADDRESS", round(ent.score * PLACE_ADDRESS, 6), number.start(),
                               end))
    return out


# --- the detector -------------------------------------------------------------------

COMPILED: tuple[tuple[Rule, re.Pattern[str], re.Pattern[str] | None], ...] = tuple(
    (rule, re.compile(rule.pattern),
     re.compile(CONTEXT[rule.context], re.IGNORECASE) if rule.context else None)
    for rule in RULES)


def _matches(text: str) -> list[tuple[int, Pii]]:
    """Every rule's spans in ``text``, as (tier, span), those under MIN_SCORE left out."""
    out = []
    for rule, pattern, context in COMPILED:
        for match in pattern.finditer(text):
            group = "v" if "v" in pattern.groupindex and match.group("v") else 0
            begin, end = match.span(group)
            if rule.check:
                end = begin + CHECKS[rule.check](text[begin:end])
                if end <= begin:
                    continue
            score = rule.alone
            if context is not None and rule.near and context.search(
                    text, max(0, begin - WINDOW), begin):
                score = rule.near
            if score >= MIN_SCORE:
                out.append((rule.tier, Pii(rule.type, score, begin, end)))
    return out


def _choose(candidates: list[tuple[int, Pii]], length: int) -> list[Pii]:
    """The spans to keep: by tier, then the surer, then the longer; none overlapping."""
    used = bytearray(length)
    kept = []
    for _, pii in sorted(candidates, key=lambda c: (c[0], -c[1].score,
                                                    c[1].begin - c[1].end, c[1].begin)):
        if not any(used[pii.begin:pii.end]):
            used[pii.begin:pii.end] = b"\x01" * (pii.end - pii.begin)
            kept.append(pii)
    return sorted(kept, key=lambda p: (p.begin, p.end))


def find(text: str, ents: Sequence[Any]) -> list[Pii]:
    """The PII entities of one English ``text``, given the recogniser's entities of it
    (:func:`socialsight.language.entities.analyse`'s, found once for DetectEntities and
    PII alike), in order of their offsets."""
    candidates = _matches(text)
    candidates += [(1, p) for p in _from_entities(text, ents) if p.score >= MIN_SCORE]
    return _choose(candidates, len(text))


def detect(texts: list[str]) -> list[list[Pii]]:
    """Each text's PII entities (English), in order of their offsets: the recogniser
    run once on the batch, then :func:`find` on each text."""
    if not texts:
        return []
    found = entities.analyse(texts, key_phrases=False)
    return [find(text, ents) for text, (ents, _) in zip(texts, found, strict=True)]


def labels(found: list[Pii]) -> list[dict[str, Any]]:
    """ContainsPiiEntities' Labels: each type found, with its surest span's score."""
    best: dict[str, float] = {}
    for pii in found:
        best[pii.type] = max(best.get(pii.type, 0.0), pii.score)
    return [{"Name": name, "Score": score}
            for name, score in sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))]

