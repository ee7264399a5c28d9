"""boto3's Comprehend client on DetectPiiEntities, ContainsPiiEntities, DetectSyntax and
BatchDetectSyntax, driven as AWS's detection example drives them: the dominant language
first, its code for the rest, on a billing notice.

Each response is checked against botocore's output shape, each answer against what a
person reading the notice would mark, and against socialsight's own detectors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.aws.conftest import ACCESS_KEY, SECRET_KEY
from tests.aws.test_comprehend import call, error_of

NOTICE = (
    "Dear Daniel Okafor,\n"
    "Thank you for your order. We charged $89.99 to your Mastercard 5555 5555 5555 4444 "
    "on March 12, 2025. Your package ships to 1600 Lakeview Drive, Apt 4B, Denver, "
    "CO 80203.\n"
    "Questions about this bill? Email billing@example.com or call 303-555-0142 before 5 pm."
)
EXPECTED = [
    ("NAME", "Daniel Okafor"),
    ("CREDIT_DEBIT_NUMBER", "5555 5555 5555 4444"),
    ("DATE_TIME", "March 12, 2025"),
    ("ADDRESS", "1600 Lakeview Drive, Apt 4B, Denver, CO 80203"),
    ("EMAIL", "billing@example.com"),
    ("PHONE", "303-555-0142"),
    ("DATE_TIME", "5 pm"),
]
TEXTS = [NOTICE, "I love this small city.", "Call me at 206-555-0147 😀"]


@pytest.fixture(scope="module")
def comprehend(aws_client: Callable[[str], Any]) -> Any:
    return aws_client("comprehend")


def test_the_detection_example_on_a_billing_notice(comprehend: Any) -> None:
    languages = call(comprehend, "DetectDominantLanguage", Text=NOTICE)["Languages"]
    code = languages[0]["LanguageCode"]
    assert code == "en"

    entities = call(comprehend, "DetectPiiEntities", Text=NOTICE,
                    LanguageCode=code)["Entities"]
    assert [(e["Type"], NOTICE[e["BeginOffset"]:e["EndOffset"]]) for e in entities] == EXPECTED
    assert "$89.99" not in {NOTICE[e["BeginOffset"]:e["EndOffset"]] for e in entities}
    scores = {e["Type"]: e["Score"] for e in entities}
    assert scores["CREDIT_DEBIT_NUMBER"] == 0.99  # Luhn, a Mastercard prefix, "Mastercard"
    assert all(0.5 <= e["Score"] <= 1 for e in entities)

    labels = call(comprehend, "ContainsPiiEntities", Text=NOTICE,
                  LanguageCode=code)["Labels"]
    assert {label["Name"] for label in labels} == {kind for kind, _ in EXPECTED}
    for label in labels:  # each type's surest span
        assert label["Score"] == max(e["Score"] for e in entities
                                     if e["Type"] == label["Name"])

    tokens = call(comprehend, "DetectSyntax", Text=NOTICE, LanguageCode=code)["SyntaxTokens"]
    assert [t["TokenId"] for t in tokens] == list(range(1, len(tokens) + 1))
    for token in tokens:
        assert NOTICE[token["BeginOffset"]:token["EndOffset"]] == token["Text"]
        assert 0 < token["PartOfSpeech"]["Score"] <= 1
    tags = {t["Text"]: t["PartOfSpeech"]["Tag"] for t in tokens}
    assert (tags["charged"], tags["$"], tags["89.99"], tags["Denver"], tags["order"],
            tags["your"], tags["."]) == ("VERB", "SYM", "NUM", "PROPN", "NOUN", "PRON", "PUNCT")


def test_the_answers_are_socialsights_own_detectors(comprehend: Any) -> None:
    from socialsight.language.pii import detect
    from socialsight.language.syntax import syntax

    for text, found, tokens in zip(TEXTS, detect(TEXTS), syntax(TEXTS), strict=True):
        entities = call(comprehend, "DetectPiiEntities", Text=text, LanguageCode="en")
        assert entities["Entities"] == [p.comprehend() for p in found]
        answer = call(comprehend, "DetectSyntax", Text=text, LanguageCode="en")
        assert answer["SyntaxTokens"] == [t.comprehend() for t in tokens]


def test_offsets_are_code_points_over_the_wire(comprehend: Any) -> None:
    text = "👍🏽 👨‍👩‍👧 write to ann@example.com"
    entities = call(comprehend, "DetectPiiEntities", Text=text, LanguageCode="en")["Entities"]
    assert [(e["Type"], e["BeginOffset"], e["EndOffset"]) for e in entities] == [
        ("EMAIL", 18, 33)]
    assert text[18:33] == "ann@example.com"
    tokens = call(comprehend, "DetectSyntax", Text=text, LanguageCode="en")["SyntaxTokens"]
    assert [t["Text"] for t in tokens if t["BeginOffset"] >= 9][:2] == ["write", "to"]


def test_text_without_pii(comprehend: Any) -> None:
    text = "The coffee here is great and the staff are lovely."
    assert call(comprehend, "DetectPiiEntities", Text=text, LanguageCode="en")["Entities"] == []
    assert call(comprehend, "ContainsPiiEntities", Text=text, LanguageCode="en")["Labels"] == []


def test_batch_syntax_answers_each_text_as_the_single_call_does(comprehend: Any) -> None:
    response = call(comprehend, "BatchDetectSyntax", TextList=TEXTS, LanguageCode="en")
    assert response["ErrorList"] == []
    assert [r["Index"] for r in response["ResultList"]] == list(range(len(TEXTS)))
    for text, result in zip(TEXTS, response["ResultList"], strict=True):
        alone = call(comprehend, "DetectSyntax", Text=text, LanguageCode="en")
        assert result["SyntaxTokens"] == alone["SyntaxTokens"]
    many = call(comprehend, "BatchDetectSyntax", TextList=["Hi there."] * 25, LanguageCode="en")
    assert len(many["ResultList"]) == 25
    with pytest.raises(comprehend.exceptions.BatchSizeLimitExceededException) as excinfo:
        comprehend.batch_detect_syntax(TextList=["Hi there."] * 26, LanguageCode="en")
    assert error_of(excinfo) == ("BatchSizeLimitExceededException", 400)


def test_languages_as_aws_answers_them(comprehend: Any) -> None:
    # PII takes Comprehend's whole LanguageCode list; socialsight reads English only.
    with pytest.raises(comprehend.exceptions.UnsupportedLanguageException) as excinfo:
        comprehend.detect_pii_entities(Text=NOTICE, LanguageCode="es")
    assert error_of(excinfo) == ("UnsupportedLanguageException", 400)
    with pytest.raises(comprehend.exceptions.UnsupportedLanguageException):
        comprehend.contains_pii_entities(Text=NOTICE, LanguageCode="ja")
    # Syntax's list is en, es, fr, de, it, pt: ja is not on it.
    with pytest.raises(comprehend.exceptions.UnsupportedLanguageException):
        comprehend.detect_syntax(Text=NOTICE, LanguageCode="fr")
    with pytest.raises(ClientError) as excinfo:
        comprehend.detect_syntax(Text=NOTICE, LanguageCode="ja")
    assert error_of(excinfo) == ("ValidationException", 400)
    assert "[en, es, fr, de, it, pt]" in str(excinfo.value)
    with pytest.raises(ClientError) as excinfo:
        comprehend.batch_detect_syntax(TextList=[NOTICE], LanguageCode="xx")
    assert error_of(excinfo) == ("ValidationException", 400)


def test_text_size_limits(comprehend: Any) -> None:
    # Syntax: 5,000 UTF-8 bytes; 2,501 "é" are 5,002.
    accented = "é" * 2501
    with pytest.raises(comprehend.exceptions.TextSizeLimitExceededException) as excinfo:
        comprehend.detect_syntax(Text=accented, LanguageCode="en")
    assert error_of(excinfo) == ("TextSizeLimitExceededException", 400)
    assert "5000 bytes" in str(excinfo.value)
    with pytest.raises(comprehend.exceptions.TextSizeLimitExceededException) as excinfo:
        comprehend.batch_detect_syntax(TextList=[NOTICE, accented], LanguageCode="en")
    assert "document 1" in str(excinfo.value)
    # PII: 100,000 bytes.
    call(comprehend, "DetectPiiEntities", Text=accented, LanguageCode="en")
    for method in (comprehend.detect_pii_entities, comprehend.contains_pii_entities):
        with pytest.raises(comprehend.exceptions.TextSizeLimitExceededException) as excinfo:
            method(Text="a" * 100_001, LanguageCode="en")
        assert "100000 bytes" in str(excinfo.value)


def test_missing_and_empty_members(aws_server: str) -> None:
    import boto3

    client = boto3.client("comprehend", endpoint_url=aws_server, region_name="us-east-1",
                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                          config=Config(parameter_validation=False,
                                        retries={"max_attempts": 1}))
    for method in (client.detect_pii_entities, client.contains_pii_entities,
                   client.detect_syntax):
        for params in ({"Text": "", "LanguageCode": "en"}, {"LanguageCode": "en"},
                       {"Text": NOTICE}):
            with pytest.raises(ClientError) as excinfo:
                method(**params)
            assert error_of(excinfo) == ("ValidationException", 400), (method, params)
    for params in ({"TextList": [], "LanguageCode": "en"}, {"LanguageCode": "en"},
                   {"TextList": ["fine", ""], "LanguageCode": "en"}):
        with pytest.raises(ClientError) as excinfo:
            client.batch_detect_syntax(**params)
        assert error_of(excinfo) == ("ValidationException", 400), params
