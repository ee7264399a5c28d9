"""PII as a person reading the text would mark it: Comprehend's types, spans that hold
exactly the value, offsets in code points, and scores that rank a checksum above a
mere shape."""

from __future__ import annotations

import botocore.session
import pytest

from socialsight.language import pii

NOTICE = (
    "Hi Maria Lopez. Your Northwind Bank Visa card 4539 1488 0343 6467 has a balance of "
    "$312.47, and a minimum payment of $35.00 is due on August 15, 2024. We will debit "
    "your checking account 000123456789 (routing number 021000021) on that date.\n\n"
    "Your statement was mailed to 742 Evergreen Terrace, Springfield, OR 97477. "
    "Questions? Call us at (541) 555-0182 or write to maria.lopez@example.net."
)


def found(text: str) -> list[tuple[str, str]]:
    """(type, text) of each PII entity of ``text``, checking its offsets on the way."""
    out = []
    for entity in pii.detect([text])[0]:
        assert 0 <= entity.begin < entity.end <= len(text)
        assert pii.MIN_SCORE <= entity.score <= 1
        out.append((entity.type, text[entity.begin:entity.end]))
    return out


def score(text: str, kind: str) -> float | None:
    return next((e.score for e in pii.detect([text])[0] if e.type == kind), None)


def test_a_billing_notice_has_the_pii_a_person_would_mark() -> None:
    assert found(NOTICE) == [
        ("NAME", "Maria Lopez"),
        ("CREDIT_DEBIT_NUMBER", "4539 1488 0343 6467"),
        ("DATE_TIME", "August 15, 2024"),
        ("BANK_ACCOUNT_NUMBER", "000123456789"),
        ("BANK_ROUTING", "021000021"),
        ("ADDRESS", "742 Evergreen Terrace, Springfield, OR 97477"),
        ("PHONE", "(541) 555-0182"),
        ("EMAIL", "maria.lopez@example.net"),
    ]
    # The amounts are not PII; nor is the bank's name a person's.
    labels = pii.labels(pii.detect([NOTICE])[0])
    assert {label["Name"] for label in labels} == {
        "NAME", "CREDIT_DEBIT_NUMBER", "DATE_TIME", "BANK_ACCOUNT_NUMBER", "BANK_ROUTING",
        "ADDRESS", "PHONE", "EMAIL"}
    assert [label["Score"] for label in labels] == sorted(
        (label["Score"] for label in labels), reverse=True)


def test_a_name_stops_at_the_sentence_and_leaves_titles_and_greetings_out() -> None:
    # The recogniser's PERSON runs on into the next sentence ("Zhang Wei. Your"): cut.
    assert found("Hello Zhang Wei. Your order has shipped.") == [("NAME", "Zhang Wei")]
    assert ("NAME", "Ann Lee") in found("Thanks to Dr. Ann Lee for the visit")
    assert ("NAME", "John F. Kennedy") in found("A book about John F. Kennedy and Boston")
    # A greeting finds a name the recogniser may miss; "Dear Customer" has none.
    assert found("Dear Customer, Hi Team, Hello World!") == []


def test_pii_at_the_first_and_the_last_character() -> None:
    assert found("jane.doe@example.com") == [("EMAIL", "jane.doe@example.com")]
    assert found("4111 1111 1111 1111") == [("CREDIT_DEBIT_NUMBER", "4111 1111 1111 1111")]
    text = "206-555-0147 is the number, or write to bob@example.org"
    assert found(text) == [("PHONE", "206-555-0147"), ("EMAIL", "bob@example.org")]
    assert text.endswith("bob@example.org")


def test_empty_and_pii_free_texts() -> None:
    assert pii.detect([]) == []
    assert pii.detect([""]) == [[]]
    assert pii.detect(["   \n "]) == [[]]
    assert found("The coffee here is great and the staff are lovely.") == []
    assert pii.labels([]) == []


def test_offsets_count_code_points_past_emoji() -> None:
    # 👍🏽 is two code points (four UTF-16 units); 👨‍👩‍👧 five; 🇺🇸 two.
    text = "👍🏽 👨‍👩‍👧 🇺🇸 mail ann@example.com or call +44 20 7946 0958 😀"
    entities = pii.detect([text])[0]
    assert [(e.type, e.begin, e.end) for e in entities] == [
        ("EMAIL", text.index("ann@"), text.index("ann@") + len("ann@example.com")),
        ("PHONE", text.index("+44"), text.index("+44") + len("+44 20 7946 0958")),
    ]
    # Code points, as Comprehend counts them: 17 (in UTF-16 units it would be 24).
    assert entities[0].begin == 17
    assert len(text[:17].encode("utf-16-le")) // 2 == 24


def test_a_card_number_that_fails_luhn_is_not_a_card() -> None:
    assert found("Order 4111 1111 1111 1112 shipped") == []
    assert found("Order 4111111111111112 shipped") == []
    # Luhn-valid and of a card network: a card, surer still with a card's words.
    assert score("Order 4111 1111 1111 1111 shipped", "CREDIT_DEBIT_NUMBER") == 0.95
    valid = score("Visa card 4111 1111 1111 1111", "CREDIT_DEBIT_NUMBER")
    assert valid == 0.99
    # A card's own words around a card-shaped number that fails Luhn (a typo, or AWS's
    # own sample "1111-0000-1111-0000"): still a card, but scored as the weak sign it is.
    typo = score("credit card account 1111-0000-1111-0000", "CREDIT_DEBIT_NUMBER")
    assert typo is not None and typo < valid


def test_a_nine_digit_number_is_a_routing_number_only_with_a_checksum_or_its_words() -> None:
    assert found("Ticket 123456789 closed") == []  # fails the ABA checksum
    assert score("Ticket 021000021 closed", "BANK_ROUTING") == 0.5  # checksum: a weak sign
    assert score("routing number 021000021", "BANK_ROUTING") == 0.97
    assert score("routing number XXXXX0000", "BANK_ROUTING") == 0.8  # masked: the words
    assert found("your bank account XXXXXX1111 is set") == [
        ("BANK_ACCOUNT_NUMBER", "XXXXXX1111")]


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("IBAN GB82 WEST 1234 5698 7654 32 please", "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
     "GB82 WEST 1234 5698 7654 32"),
    ("my VIN is 1HGCM82633A004352", "VEHICLE_IDENTIFICATION_NUMBER", "1HGCM82633A004352"),
    ("Aadhaar 2341 2341 2346", "IN_AADHAAR", "2341 2341 2346"),
    ("NHS number 943 476 5919", "UK_NATIONAL_HEALTH_SERVICE_NUMBER", "943 476 5919"),
    ("SIN 046 454 286", "CA_SOCIAL_INSURANCE_NUMBER", None),  # starts with 0: never issued
    ("SIN 130 692 544", "CA_SOCIAL_INSURANCE_NUMBER", "130 692 544"),
    ("My SSN is 123-45-6789", "SSN", "123-45-6789"),
    ("ITIN 912-78-1234", "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "912-78-1234"),
    ("NINO AB123456C", "UK_NATIONAL_INSURANCE_NUMBER", "AB123456C"),
    ("PAN ABCPE1234F", "IN_PERMANENT_ACCOUNT_NUMBER", "ABCPE1234F"),
    ("voter ID ABC1234567", "IN_VOTER_NUMBER", "ABC1234567"),
    ("SWIFT DEUTDEFF", "SWIFT_CODE", "DEUTDEFF"),
    ("exp 08/27, CVV: 123", "CREDIT_DEBIT_EXPIRY", "08/27"),
    ("exp 08/27, CVV: 123", "CREDIT_DEBIT_CVV", "123"),
    ("your PIN is 9876.", "PIN", "9876"),
    ("password: *very20special#pass*", "PASSWORD", "*very20special#pass*"),
    ("username: jdoe42.", "USERNAME", "jdoe42"),
    ("key AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY", "AKIAIOSFODNN7EXAMPLE"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_SECRET_KEY",
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("server 192.168.0.1 is down", "IP_ADDRESS", "192.168.0.1"),
    ("on 2001:db8::8a2e:370:7334 now", "IP_ADDRESS", "2001:db8::8a2e:370:7334"),
    ("mac 00:1A:2B:3C:4D:5E", "MAC_ADDRESS", "00:1A:2B:3C:4D:5E"),
    ("see https://example.com/a_(b).", "URL", "https://example.com/a_(b)"),
    ("I am 40 years old", "AGE", "40 years"),
    ("passport no. X1234567", "PASSPORT_NUMBER", "X1234567"),
    ("driver's license D1234567", "DRIVER_ID", "D1234567"),
    ("license plate 7ABC123", "LICENSE_PLATE", "7ABC123"),
])
def test_each_type_by_its_format_checksum_and_words(text: str, kind: str,
                                                    value: str | None) -> None:
    values = [v for k, v in found(text) if k == kind]
    assert values == ([value] if value else []), found(text)


@pytest.mark.parametrize(("good", "bad", "kind"), [
    ("IBAN GB82 WEST 1234 5698 7654 32", "IBAN GB83 WEST 1234 5698 7654 32",
     "INTERNATIONAL_BANK_ACCOUNT_NUMBER"),
    ("1HGCM82633A004352", "1HGCM82639A004352", "VEHICLE_IDENTIFICATION_NUMBER"),
    ("Aadhaar 2341 2341 2346", "Aadhaar 2341 2341 2347", "IN_AADHAAR"),
    ("NHS 943 476 5919", "NHS 943 476 5918", "UK_NATIONAL_HEALTH_SERVICE_NUMBER"),
])
def test_a_checksum_that_fails_is_not_the_type(good: str, bad: str, kind: str) -> None:
    assert score(good, kind) is not None
    assert score(bad, kind) is None


def test_very_long_text_keeps_offsets_into_the_whole() -> None:
    sentence = ("Barack Obama spoke at Harvard University about the climate in 2024. The "
                "new store in Boston opened on Monday with 300 people waiting outside. ")
    text = (sentence * 350)[:49_950] + " Write to ann.lee@example.org today"  # 50 KB
    entities = pii.detect([text])[0]
    for entity in entities:
        assert entity.end <= len(text)
    last = [e for e in entities if e.type == "EMAIL"]
    assert [(text[e.begin:e.end], e.begin) for e in last] == [
        ("ann.lee@example.org", text.index("ann.lee@"))]
    assert sum(e.type == "NAME" for e in entities) >= 300  # every Barack Obama, or nearly


def test_the_types_are_comprehends() -> None:
    model = botocore.session.get_session().get_service_model("comprehend")
    enum = model.shape_for("PiiEntityType").enum
    assert set(pii.TYPES) == set(enum) - {"ALL"}
    served = {rule.type for rule in pii.RULES} | {"NAME", "DATE_TIME", "ADDRESS"}
    assert served == set(pii.TYPES)
    assert all(rule.context in pii.CONTEXT for rule in pii.RULES if rule.context)
    assert all(rule.check in pii.CHECKS for rule in pii.RULES if rule.check)


# --- PII found with the post's other analyses ---------------------------------------------

CARD = "4111 1111 1111 1111"
# Emoji (a skin tone and a joined family: several code points each) and a link before
# the PII, so an offset counted in anything but code points would land off it.
BEFORE = "👍🏽 👨‍👩‍👧 https://t.co/abc123 "


def test_enrich_finds_the_pii_detectpiientities_finds_from_the_same_entities() -> None:
    from socialsight.language.analyze import analyse_texts

    texts = [NOTICE, BEFORE + f"mail jane.doe@example.com or use card {CARD}",
             "jane@example.com", ""]
    results = analyse_texts(texts, ["en"] * len(texts), key_phrases=True)
    assert [r.pii for r in results] == pii.detect(texts)
    assert [p.type for p in results[1].pii] == ["URL", "EMAIL", "CREDIT_DEBIT_NUMBER"]
    assert results[3].pii == [] and results[3].skipped == "no text to analyse"
    answer = results[0].comprehend()
    assert answer["PiiEntities"] == [p.comprehend() for p in pii.detect([NOTICE])[0]]
    assert {"Type": "EMAIL", "BeginOffset": NOTICE.index("maria.lopez@")}.items() <= \
        answer["PiiEntities"][-1].items()
    # language.pii = false: none looked for.
    assert analyse_texts(texts[:2], None, find_pii=False)[1].pii == []


def test_a_post_in_another_language_gets_no_pii_run() -> None:
    from socialsight.language.analyze import analyse_texts

    [result] = analyse_texts(["Écrivez-moi à jean@exemple.fr, merci beaucoup pour votre "
                              "aide et à bientôt mes amis"], ["fr"])
    assert result.lang == "fr" and result.skipped and result.pii == []
    assert result.comprehend()["PiiEntities"] == []


def test_a_date_with_its_weekday_time_and_zone_is_one_moment() -> None:
    text = "Your appointment is on Tue 14 Oct 2025 at 3:30pm BST with Dr Okafor."
    assert found(text) == [("DATE_TIME", "Tue 14 Oct 2025 at 3:30pm BST"), ("NAME", "Okafor")]
    assert found("Lands 2025-04-11 16:05 UTC, gate shuts 15:35.") == [
        ("DATE_TIME", "2025-04-11 16:05 UTC"), ("DATE_TIME", "15:35")]


def test_logins_and_passwords_after_their_words_but_not_plain_words() -> None:
    assert found("Username: jdoe_88\nPassword: Tr0ub4dor&3") == [
        ("USERNAME", "jdoe_88"), ("PASSWORD", "Tr0ub4dor&3")]
    assert found("the password I set was Blue42sky! and it fails") == [
        ("PASSWORD", "Blue42sky")]
    assert found("RT jsmith_22: loved it") == [("USERNAME", "jsmith_22")]
    # A word after the cue is not a secret, nor a word after "user" a login.
    assert found("the password is wrong again") == []
    assert found("user experience matters; hi mum, how is the account?") == []


def test_card_codes_names_on_forms_and_decoys() -> None:
    assert found("Cardholder: PRIYA NAIR, CVV 123, exp 09/27") == [
        ("NAME", "PRIYA NAIR"), ("CREDIT_DEBIT_CVV", "123"), ("CREDIT_DEBIT_EXPIRY", "09/27")]
    assert found("Enter the 3 digit code on the back of your card: 447") == [
        ("CREDIT_DEBIT_CVV", "447")]
    assert ("NAME", "LEE, JI-HOON") in found("Account holder: LEE, JI-HOON")
    # A Luhn-valid number after "gift card no." or "promo code" is the shop's, not a card.
    assert not any(kind == "CREDIT_DEBIT_NUMBER" for kind, _ in
                   found("gift card no. 4111 1111 1111 1111, balance $20"))
    assert not any(kind == "CREDIT_DEBIT_NUMBER" for kind, _ in
                   found("use promo code 4111111111111111 at checkout"))


def test_addresses_across_lines_grouped_accounts_codes_and_plates() -> None:
    assert found("Send it to:\n17 Ashdown Road\nLeeds\nLS6 2AB") == [
        ("ADDRESS", "17 Ashdown Road\nLeeds\nLS6 2AB")]
    assert found("pay into account 12-3456-7890123-00 please") == [
        ("BANK_ACCOUNT_NUMBER", "12-3456-7890123-00")]
    assert found("Alarm code 4821, and the van AB12 CDE is outside") == [
        ("PIN", "4821"), ("LICENSE_PLATE", "AB12 CDE")]
    # A British plate's shape alone is a weak sign; written together, not even that.
    alone = score("Order AB12 CDE arrived", "LICENSE_PLATE")
    with_van = score("the van AB12 CDE", "LICENSE_PLATE")
    assert alone is not None and with_van is not None and alone < with_van
    assert found("Order AB12CDE arrived") == []
    assert found("Booking confirmed for Jamie Fraser.") == [("NAME", "Jamie Fraser")]
    assert found("ring Sam Reed on 07700 900123") == [
        ("NAME", "Sam Reed"), ("PHONE", "07700 900123")]
    # A business named like a person is not a NAME (Comprehend's own sample text).
    assert ("NAME", "Sunshine Spa") not in found("Customer feedback for Sunshine Spa, 123 Main St.")
