"""Checksums and the tables they need: what a PII type's number must satisfy beyond its
shape (:mod:`socialsight.language.pii` runs them as its rules' checks).

Luhn and the card networks' prefixes and lengths (cards, Canadian SINs), the ABA
checksum and the Federal Reserve's prefixes (US routing numbers), mod-97 and each
country's length (IBANs), ISO 3779's check digit (VINs), Verhoeff (Aadhaar), mod-11
(NHS numbers), the North American numbering plan, IP addresses, and SWIFT codes'
country letters. Each is a pure function of the span's text.
"""

from __future__ import annotations

import ipaddress

from socialsight.language.spans import words


def digits_of(text: str) -> list[int]:
    """The digits of ``text``, in order, as numbers."""
    return [int(c) for c in text if c.isdigit()]


def luhn(text: str) -> bool:
    """The Luhn (mod-10) checksum of cards and Canadian SINs; at least two digits."""
    digits = digits_of(text)
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


def card(text: str) -> bool:
    """Luhn-valid, and of a network's prefix and length (:data:`CARD_NETWORKS`)."""
    number = "".join(c for c in text if c.isdigit())
    return luhn(number) and any(
        len(number) in lengths and low <= int(number[:len(str(low))]) <= high
        for _, low, high, lengths in CARD_NETWORKS)


def aba(text: str) -> bool:
    """The ABA routing number checksum (weights 3, 7, 1) over nine digits."""
    d = digits_of(text)
    return (len(d) == 9 and any(d)
            and (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8])
            % 10 == 0)


def aba_fed(text: str) -> bool:
    """ABA checksum and a Federal Reserve district prefix (01-12, 21-32, 61-72, 80)."""
    prefix = int(text[:2])
    return aba(text) and (1 <= prefix <= 12 or 21 <= prefix <= 32 or 61 <= prefix <= 72
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


def iban(text: str) -> int:
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


def vin(text: str) -> bool:
    """ISO 3779's check digit (the 9th character), as North American VINs carry it."""
    total = sum(VIN_VALUES[c] * w for c, w in zip(text, VIN_WEIGHTS, strict=True))
    return text[8] == "0123456789X"[total % 11]


VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6), (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4), (9, 8, 7, 6, 5, 4, 3, 2, 1, 0))
VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2), (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8))


def verhoeff(text: str) -> bool:
    """Verhoeff's dihedral checksum, as Aadhaar numbers carry it."""
    check = 0
    for i, d in enumerate(reversed(digits_of(text))):
        check = VERHOEFF_D[check][VERHOEFF_P[i % 8][d]]
    return check == 0


def nhs(text: str) -> bool:
    """The NHS number's mod-11 check digit (the tenth)."""
    d = digits_of(text)
    rest = 11 - sum(x * (10 - i) for i, x in enumerate(d[:9])) % 11
    return len(d) == 10 and rest != 10 and (0 if rest == 11 else rest) == d[9]


def nanp(text: str) -> bool:
    """A North American number: area code and exchange start with 2-9."""
    d = digits_of(text)
    if len(d) == 11 and d[0] == 1:
        d = d[1:]
    return len(d) == 10 and d[0] >= 2 and d[3] >= 2


def ip(text: str, version: int) -> bool:
    """``text`` is an IP address of that version (4 or 6)."""
    try:
        return ipaddress.ip_address(text).version == version
    except ValueError:
        return False



# ISO 3166 country codes (SWIFT's fifth and sixth letters), Kosovo's XK with them.
COUNTRIES = words("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
VN VU WF WS XK YE YT ZA ZM ZW""")


def swift(text: str) -> bool:
    """A country, and a digit in the location or branch, or the head office's XXX."""
    return (text[4:6] in COUNTRIES
            and (any(c.isdigit() for c in text[6:]) or text.endswith("XXX")))
