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
score; among the rest the surer span wins, then the longer. The recogniser's confident
company, place or work vetoes a NAME a pattern found there, and the pieces of one
moment (a weekday, a date, its time and zone) are joined into one DATE_TIME. The
checksums are :mod:`~socialsight.language.checksums`'s, whether words can be a name
:mod:`~socialsight.language.names`'s, how dates join :mod:`~socialsight.language.dates`'s.

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

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from socialsight.language import checksums as sums
from socialsight.language import dates, entities, names
from socialsight.language.spans import FUNCTION_WORDS, words
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
STREET = (r"\b\d{1,6}[A-Za-z]?(?:[-/]\d{1,6}[A-Za-z]?)?\s+"
          r"(?:(?:North|South|East|West|[NSEW]\.?)\s+)?"
          r"(?:(?:[A-Z][A-Za-z'-]*\.?|\d{1,3}(?:st|nd|rd|th))\s+){0,4}" + SUFFIX
          + r"\b\.?(?:\s+(?:NE|NW|SE|SW|N|S|E|W)\b)?"
          r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Floor|Fl|Room|Rm|Bldg|Building)\.?\s*#?"
          r"\s*[A-Za-z0-9-]+|,?\s+#\s*[A-Za-z0-9-]+)?")
PLACE = r"[A-Z][A-Za-z'-]+\b(?:[ \t]+[A-Z][A-Za-z'-]+\b){0,2}"  # a town, a state
# A US ZIP, a UK, Canadian or Indian postcode.
POSTCODE = (r"(?:\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}|[A-Z]\d[A-Z]\s?\d[A-Z]\d"
            r"|[1-9]\d{5})\b")
NEXT = r"(?:,?[ \t]+|,?[ \t]*\n[ \t]*)"  # the postcode after the town: same line or the next
# The town on a line of its own ("17 Ashdown Road\nLeeds\nLS6 2AB"), or after a comma.
LINE_PLACE = (r"[ \t]*\n[ \t]*" + PLACE + r"(?=[ \t]*(?:\n|$)|,[ \t]*[A-Z]|" + NEXT + POSTCODE
              + ")")
TAIL = (r"(?:(?:,\s*" + PLACE + "|" + LINE_PLACE + r"){1,3}(?:" + NEXT + POSTCODE + r")?|"
        + NEXT + POSTCODE + r")")
# A house number and a name with no street word, held to a town and a postcode after it.
HOUSE = (r"\b\d{1,5}[A-Za-z]?(?:[-/]\d{1,5})?[ \t]+[A-Z][A-Za-z'-]+\b"
         r"(?:[ \t]+[A-Z][A-Za-z'-]+\b){0,3}(?:,[ \t]*" + PLACE + r"){1,3},?[ \t]+" + POSTCODE)
DAY_MONTH = r"(?:0?[1-9]|[12]\d|3[01])"
# "05/22/2025", "1.4.25"; with hyphens only with the century ("12-08-1994", not a score).
DATE_NUMERIC = (S + r"(?:" + DAY_MONTH + r"(?P<sep>[/.])" + DAY_MONTH + r"(?P=sep)(?:19|20)?\d{2}|"
                + DAY_MONTH + "-" + DAY_MONTH + r"-(?:19|20)\d{2})" + E)

# Words that, just before a value, say what it is (searched case-insensitively).
CONTEXT: dict[str, str] = {
    "card": r"card|visa|master\s?card|amex|american\s+express|discover|maestro|\bcc\b|"
            r"\bpan\b",
    "phone": r"phone|\btel\b|\bcall|mobile|\bcell|\bfax\b|\btext|\bsms\b|whats\s?app|"
             r"\bcontact|\breach|\bdial|pager|\bph\b|\bmob\b|\bring\b",
    "ssn": r"\bssn\b|social\s+security|\bss\s?#",
    "itin": r"\bitin\b|taxpayer\s+identification",
    "ip": r"\bip\b|address|server|host",
    "vin": r"\bvin\b|vehicle\s+identification|chassis",
    "secret": r"secret|aws_secret|(?:AKIA|ASIA)[A-Z0-9]{16}",
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
    "vehicle": r"vehicle|\bcar\b|\bvan\b|\breg\b|registration|plate|parked|parking|\bpcn\b",
}
# Words just before a number that say it is something else, not PII ("gift card no. …",
# "promo code …"): a pattern's span after them is dropped, whatever else is near.
DECOY = re.compile(
    r"(?i:\b(?:gift\s+card|(?:promo(?:tion(?:al)?)?|discount|coupon|voucher|referral|gift)"
    r"\s+code|coupon|voucher|tracking|invoice|receipt|isbn)(?:\s*(?:number|no\.?|num|nr|#|"
    r"id|code))?[\s:#=.-]*(?:(?:is|was)\s+)?)$")
ACCOUNT = (r"(?i:(?<!card )(?<!credit )\b(?:bank\s+|checking\s+|savings\s+|chequing\s+|"
           r"current\s+)?(?:account|acct|a/c)\b" + LABEL + r"|\b(?:checking|savings)\b)")
ROUTING = (r"(?i:\b(?:routing|aba|rtn|transit)\b(?:\s*(?:number|no\.?|num|#))?|"
           r"\bsort\s+code\b)")
TITLE = r"(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof)\.?"
GREETING = (r"(?:\b(?i:dear|hello|hi|hey|attn\.?|attention|my\s+name\s+is|name\s*:)\s+(?:"
            + TITLE + r"\s+)?|\b" + TITLE + r"\s+)")
# A name in its usual case: given names, an initial, a surname ("O'Neil", "Ruiz-Diaz"; not
# a possessive's "'s"), on one line.
WORD = r"[A-Z][a-z]+(?:-[A-Z]?[a-z]+|'(?!s\b)[A-Z]?[a-z]+)?"
PERSON = r"(?P<v>" + WORD + r"(?:[ \t]+(?:[A-Z]\.[ \t]+)?" + WORD + r"){0,2})\b"
# A name in capitals, as forms write it ("PRIYA NAIR", "LEE, JI-HOON"): two to four words.
CAPS_WORD = r"[A-Z](?:['-]?[A-Z])+"
# A comma only between names ("LEE, JI-HOON"), not before a form's next field ("CVV").
FIELD = r"(?:CVV2?|CVC2?|EXP|DOB|SSN|PIN|ID|DL|REF|ACCT|NO|TEL|PH|MOB|ZIP|VIN)\b"
CAPS_PERSON = (r"(?P<w>" + CAPS_WORD + r"(?:(?:,(?![ \t]+" + FIELD + r"))?[ \t]+"
               r"(?:[A-Z]\.[ \t]+)?" + CAPS_WORD + r"){1,3})(?![\w-])")
# A form's label for a person's name ("Full name:"), not a company's or a file's.
NAME_LABEL = (r"(?i:\b(?<!company )(?<!business )(?<!brand )(?<!product )(?<!file )"
              r"(?<!user )(?<!host )(?<!screen )(?<!pet )(?<!street )(?<!domain )"
              r"(?:(?:full|first|last|given|family|middle)\s+)?(?:name|surname)s?)")
# Words for the person a form or a message is about ("Applicant", "cardholder: …").
ROLE = (r"(?i:\b(?:name\s+on\s+(?:the\s+)?card|card\s?holder|account\s+holder|beneficiary|"
        r"remitter|payee|payer|applicant|passenger|guest|patient|tenant|driver|registered\s+"
        r"keeper|keeper|sender|recipient|employee|student|member)|" + NAME_LABEL + r"(?=\s*:))")
# A record made for someone ("Booking confirmed for", "checklist for").
RECORD = (r"(?i:\b(?:booking|booked|reservation|reserved|appointment|confirmed|confirmation|"
          r"checklist|prescription|invoice|application|referral|request|statement|policy|"
          r"ticket|order|registration|form|letter)s?(?:[ \t]+[a-z]+)?[ \t]+for)")
# Asking someone to get in touch ("ring Sam on …", "ask for Jo at …").
CONTACT = (r"(?i:\b(?:call|ring|text|phone|message|e-?mail|contact|ask\s+for|speak\s+(?:to|"
           r"with)|talk\s+to))")
USER_CUE = (r"(?i:\b(?:user\s?name|user\s?id|log\s?in(?:\s+(?:name|id))?|screen\s?name|handle|"
            r"nick\s?name|gamer\s?tag|psn(?:\s+id)?|xbox\s+(?:live\s+)?(?:id|tag)|steam\s+id))")
PASSWORD_CUE = r"(?i:\b(?:password|passwd|passphrase|pwd|pw|passcode))\b"
PAIR_CUE = (r"(?i:\b(?:log\s?in|sign\s?in|credentials?|creds|user\s?/\s?pass(?:word)?))"
            r"\s*:?[ \t]+")
LOGIN = r"[a-z][a-z0-9_.-]{2,31}"  # a login name written alone: lower case, no spaces
ACCOUNT_TALK = r"(?i:password|account|log\s?in|sign\s?in|user\s?name)"
# "the 4 digit code": a card's own code only with a card's words around it.
DIGIT_CODE = r"(?:3|4|three|four)[- ]digit\s+(?:security\s+)?code"

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
    Rule("CREDIT_DEBIT_CVV", r"(?i:\b(?:cvv2?|cvc2?|cid|csc|sec(?:urity)?\.?\s+code|card\s+"
         r"verification(?:\s+(?:code|value|number))?|" + DIGIT_CODE + r"\s+on\s+the\s+"
         r"(?:back|front)(?:\s+of\s+(?:the|your)\s+card)?))" + INTRO + r"(?P<v>\d{3,4})" + E,
         0.95),
    Rule("CREDIT_DEBIT_CVV", r"(?i:\b" + DIGIT_CODE + r")" + INTRO + r"(?P<v>\d{3,4})" + E, 0.0,
         0.9, "card"),
    Rule("CREDIT_DEBIT_EXPIRY", r"(?i:\b(?:exp(?:ires|iry|iration)?(?:\s+date)?|valid\s+"
         r"(?:thru|through|until)|good\s+thru))\.?\s*(?:(?i:on|date)\s*)?[:=]?\s*(?P<v>"
         + EXPIRY + r")" + E, 0.95),
    Rule("CREDIT_DEBIT_EXPIRY", S + r"(?:0[1-9]|1[0-2])/(?:\d{2}|20\d{2})" + E, 0.0, 0.8,
         "card"),
    Rule("PIN", r"(?i:\bpin\b(?:\s*(?:code|number|no\.?|#))?|\b(?:alarm|door|gate|entry|access"
         r"|keypad|lock|lockbox|key\s?safe|safe|garage|building)\s+code)" + INTRO
         + r"(?P<v>\d{4,6})" + E, 0.9),
    # Banks: a value after its own words; routing numbers also by ABA checksum.
    Rule("BANK_ACCOUNT_NUMBER", ACCOUNT + FILL + r"(?P<v>(?:" + MASK + r"{2,}[- ]?)?(?:\d{2,8}"
         r"(?:[ -]\d{2,8}){1,4}|\d{4,17}))" + E, 0.9, check="account"),
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
    # Accounts: a login after its own words ("username: x", "password is y"), or a few
    # words later ("the password I set was y"), a "login user / pass" pair, a handle.
    Rule("USERNAME", USER_CUE + r"\s*(?:(?i:is)|[:=])\s*(?P<v>@?[A-Za-z0-9][\w.-]{1,63})", 0.9,
         check="trim"),
    Rule("USERNAME", USER_CUE + r"\b[^\n]{0,40}?(?:\n[^\n]{0,40}?)?(?i:\bit'?s|\bit\s+is|\bis|"
         r"\bwas)[ \t]+(?P<v>(?=[\w.-]*[\d_])[A-Za-z][\w.-]{2,31})", 0.75, check="trim"),
    Rule("USERNAME", r"\b(?i:user|log\s?in)[ \t]+(?P<v>" + LOGIN + r")(?![\w@'/-])", 0.6,
         check="login"),
    Rule("USERNAME", r"\b(?i:hi|hello|hey|dear)[ \t]+(?P<v>" + LOGIN + r")(?=,[^\n]*" + ACCOUNT_TALK
         + ")", 0.6, check="login"),
    Rule("USERNAME", PAIR_CUE + r"(?P<v>[\w.@-]{2,64})[ \t]*/[ \t]*\S{3,64}", 0.85),
    Rule("USERNAME", r"(?<![\w@.+-])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?(?![\w@])",
         0.7, check="handle"),
    Rule("USERNAME", r"\bRT[ \t]+(?P<v>(?=[A-Za-z0-9_]*[\d_])[A-Za-z0-9_]{2,30}|[A-Za-z0-9_]{2,30}"
         r"(?=:))", 0.8),
    Rule("PASSWORD", PASSWORD_CUE + r"\s*[:=]\s*[\"']?(?P<v>[^\s\"']{3,64})", 0.9, check="trim"),
    Rule("PASSWORD", PASSWORD_CUE + r"\s+(?i:is)\s+[\"']?(?P<v>[^\s\"']{3,64})", 0.9,
         check="password"),
    Rule("PASSWORD", PASSWORD_CUE + r"\b[^.\n]{0,40}?(?i:\bis|\bwas)[ \t]+[\"']?"
         r"(?P<v>[^\s\"']{4,64})", 0.8, check="password"),
    Rule("PASSWORD", PAIR_CUE + r"[\w.@-]{2,64}[ \t]*/[ \t]*(?P<v>[^\s\"']{3,64})", 0.85,
         check="trim"),
    Rule("AWS_ACCESS_KEY", r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA)"
         r"[A-Z0-9]{16}\b", 0.98),
    Rule("AWS_SECRET_KEY", r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", 0.6,
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
    # A name after a greeting, a title or a role ("cardholder: PRIYA NAIR"), before "on"
    # or "at" after a call to contact ("text Sam Reed on …"), or closing "booked for …".
    Rule("NAME", GREETING + PERSON, 0.8, check="person", tier=1),
    Rule("NAME", ROLE + r"(?:\s*:)?[ \t]+(?:" + TITLE + r"[ \t]+)?(?:" + PERSON + "|"
         + CAPS_PERSON + ")", 0.8, check="person", tier=1),
    Rule("NAME", CONTACT + r"[ \t]+" + PERSON + r"(?=[ \t]+(?:on|at)\b)", 0.75, check="person",
         tier=1),
    Rule("NAME", RECORD + r"[ \t]+(?:" + TITLE + r"[ \t]+)?(?:" + PERSON + "|" + CAPS_PERSON
         + r")(?=[ \t]*(?:[,:;(]|\.(?:\s|$)|$))", 0.7, check="full_name", tier=1),
    Rule("ADDRESS", STREET + TAIL, 0.95),
    Rule("ADDRESS", HOUSE, 0.9),
    Rule("ADDRESS", STREET, 0.85),
    Rule("ADDRESS", r"(?i:\b(?:zip|post(?:al)?)\s?code|\bzip)\b\s*[:#]?\s*(?P<v>" + POSTCODE + ")",
         0.85),
    Rule("ADDRESS", r"\b(?i:p\.?\s?o\.?\s+box|post\s+office\s+box)\s+\d{1,6}" + TAIL + "?",
         0.9),
    Rule("AGE", r"\b(?P<v>\d{1,3}(?:\s+|-)(?i:years?|yrs?|months?))(?=(?:\s+|-)(?i:old|young)\b)",
         0.95, check="age"),
    Rule("AGE", r"\((?i:m|f|male|female),[ \t]*(?P<v>\d{1,3})\)|\((?P<w>\d{2})[ \t]?[MF]\)",
         0.8, check="age"),
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
    Rule("PASSPORT_NUMBER", r"(?i:\bpassport)" + LABEL + r"(?:\s+(?i:on\s+file))?" + INTRO
         + r"(?P<v>(?=[A-Z0-9]*\d)[A-Z0-9]{6,9})\b", 0.9),
    Rule("DRIVER_ID", r"(?i:\b(?:driver'?s?|driving|dvla|dmv)\s+licen[cs]e|\bDL)" + LABEL + INTRO
         + r"(?P<v>(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,18}[A-Z0-9])\b", 0.9),
    Rule("DRIVER_ID", r"(?i:\blicen[cs]e\s+(?:number|no\.?|num|#))" + INTRO
         + r"(?P<v>(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,18}[A-Z0-9])\b", 0.75),
    Rule("LICENSE_PLATE", r"(?i:\b(?:licen[cs]e\s+plate|number\s+plate|plate|registration|"
         r"reg\.?)(?:\s*(?:number|no\.?|#))?)" + INTRO
         + r"(?P<v>(?=[A-Z0-9 -]*\d)(?=[A-Z0-9 -]*[A-Z])[A-Z0-9]{1,4}(?:[ -]?[A-Z0-9]{1,4})?)\b",
         0.85),
    # A British plate's own shape (two letters, the age, three letters: "AB12 CDE").
    Rule("LICENSE_PLATE", r"\b[A-Z]{2}\d{2} [A-Z]{3}\b", 0.6, 0.85, "vehicle"),
    Rule("LICENSE_PLATE", r"\b[A-Z]{2}\d{2}[A-Z]{3}\b", 0.0, 0.85, "vehicle"),
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
    # Verhoeff lets one number in ten through: alone, a value after its own words (an
    # account number) is surer.
    Rule("IN_AADHAAR", S + r"[2-9]\d{3}([ -])\d{4}\1\d{4}" + E, 0.85, 0.98, "aadhaar",
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



# Words after "user", "login" or a greeting that are not a login name.
NOT_LOGINS = names.NOT_NAMES | FUNCTION_WORDS | words("""
experience experiences interface interfaces account accounts name names id ids agent guide
manual friendly base data error errors input feedback profile profiles settings review
reviews research story stories access count page screen details info information
credentials attempt attempts required issue issues problem problems here mom mum dad babe
love dear mate buddy again now today with from for of to in on at by as is was will can
who has have had should would could may might must not no yes please thanks
""")
VOWELS = set("aeiouy")
# How English words may start with two consonants.
ONSETS = words("""
bl br ch cl cr dr dw fl fr gh gl gn gr kh kl kn kr ph pl pn pr ps rh sc sh sk sl sm sn sp sq
st sv sw th tr ts tw wh wr
""")
TLD = re.compile(r"(?i:\.(?:com|org|net|edu|gov|io|co|uk|de|fr|info|biz|app|dev|me|us|ca|au)$)")
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


def _login(text: str) -> int:
    """A login name written alone: with a digit, "_" or ".", or starting with two
    consonants no English word starts with ("jsmith", "kmorales"); not a common word
    ("user experience", "hi mum")."""
    end = _trim(text)
    value = text[:end].lower()
    odd = any(c.isdigit() or c in "_." for c in value) or (
        value[:1] not in VOWELS and value[1:2] not in VOWELS and value[:2] not in ONSETS)
    return end if odd and value not in NOT_LOGINS else 0


def _password(text: str) -> int:
    """A password a few words after its cue: with a digit or a symbol, so not a word
    ("the password is wrong")."""
    end = _trim(text)
    value = text[:end]
    return end if any(c.isdigit() or not c.isalnum() for c in value) else 0


CHECKS: dict[str, Check] = {
    "luhn": _whole(sums.luhn),
    "card": _whole(sums.card),
    "aba": _whole(sums.aba),
    "aba_fed": _whole(sums.aba_fed),
    "iban": sums.iban,
    "vin": _whole(sums.vin),
    "verhoeff": _whole(sums.verhoeff),
    "nhs": _whole(sums.nhs),
    "nanp": _whole(sums.nanp),
    "e164": _whole(lambda t: 8 <= len(sums.digits_of(t)) <= 15),
    "ipv4": _whole(lambda t: sums.ip(t, 4)),
    "ipv6": _whole(lambda t: sums.ip(t, 6) and any(c.isalnum() for c in t)),
    "swift": _whole(sums.swift),
    "country": _whole(lambda t: t[4:6] in sums.COUNTRIES),
    "mixed": _whole(lambda t: (any(c.islower() for c in t) and any(c.isupper() for c in t)
                               and any(c.isdigit() for c in t))),
    "age": _whole(lambda t: 0 < int("".join(c for c in t if c.isdigit())[:3] or 0) <= 130),
    "person": _whole(names.is_person),
    "full_name": _whole(lambda t: names.is_person(t) and len(t.split()) > 1),
    "trim": _trim,
    "login": _login,
    "password": _password,
    "handle": _whole(lambda t: not TLD.search(t)),
    "account": _whole(lambda t: 4 <= len(sums.digits_of(t)) <= 17),
}

# --- spaCy's spans ------------------------------------------------------------------

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
# The recogniser's types that overrule a NAME found by its words, when it is sure (from
# VETO, as calibrated): what it saw there is a company, a place, a work, an event or a
# date ("for New York,"). Unsure, it often calls a name it does not know a company.
NOT_A_NAME = {"ORGANIZATION", "LOCATION", "COMMERCIAL_ITEM", "EVENT", "TITLE", "DATE"}
VETO = 0.9


def _from_entities(text: str, ents: Sequence[Any]) -> list[Pii]:
    """NAME, DATE_TIME and ADDRESS from the recogniser's entities of ``text``."""
    out = []
    for ent in ents:
        if ent.type == "PERSON":
            for s, e in _cut(text, ent.begin, ent.end):
                span = names.name_span(text, s, e)
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
    """Every rule's spans in ``text``, as (tier, span): the group ``v`` or ``w`` that
    matched, else the whole match; those under MIN_SCORE, or just after a DECOY's words,
    left out."""
    out = []
    for rule, pattern, context in COMPILED:
        groups = [g for g in ("v", "w") if g in pattern.groupindex]
        for match in pattern.finditer(text):
            group = next((g for g in groups if match.group(g)), 0)
            begin, end = match.span(group)
            if rule.tier == 0 and DECOY.search(text, max(0, begin - 30), begin):
                continue
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
    others = [(e.begin, e.end) for e in ents if e.type in NOT_A_NAME and e.score >= VETO]
    candidates = [(tier, p) for tier, p in _matches(text) if p.type != "NAME"
                  or not any(b < p.end and p.begin < e for b, e in others)]
    candidates += [(1, p) for p in _from_entities(text, ents) if p.score >= MIN_SCORE]
    return _join_dates(text, _choose(candidates, len(text)))


def _join_dates(text: str, found: list[Pii]) -> list[Pii]:
    """Each DATE_TIME with its weekday, its time (or date) and its time zone, as one span
    (:mod:`socialsight.language.dates`); the joined span keeps the surer score."""
    out: list[Pii] = []
    for pii in found:
        if pii.type == "DATE_TIME":
            floor = out[-1].end if out else 0
            pii = Pii(pii.type, pii.score, dates.weekday_start(text, pii.begin, floor), pii.end)
            last = out[-1] if out else None
            if last and last.type == "DATE_TIME" and dates.joins(
                    text, (last.begin, last.end), (pii.begin, pii.end)):
                pii = Pii(pii.type, max(last.score, pii.score), out.pop().begin, pii.end)
        out.append(pii)
    for i, pii in enumerate(out):
        if pii.type == "DATE_TIME":
            limit = out[i + 1].begin if i + 1 < len(out) else len(text)
            out[i] = Pii(pii.type, pii.score, pii.begin,
                         dates.zone_end(text, pii.begin, pii.end, limit))
    return out


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

