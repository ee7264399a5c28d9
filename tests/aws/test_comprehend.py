"""boto3's Comprehend client, pointed at socialsight serve: every call on real posts.

Each response is checked against botocore's own output shape for the operation, and
each answer against what ``socialsight enrich`` stores for the same post.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.aws.conftest import ACCESS_KEY, SECRET_KEY
from tests.aws.shapes import check_shape

POSITIVE = ("Absolutely love these running shoes from @nike 😍 Super comfortable, great "
            "grip, and they arrived a day early. Best purchase this year!")
NEGATIVE = ("Worst customer service ever. My order arrived broken, nobody answers the phone "
            "and the refund still has not come after three weeks. Never again.")
SPANISH = ("¡Qué día tan bonito en la playa de Barcelona! El agua está perfecta y la comida "
           "riquísima.")
PEOPLE = "Just met Tim Cook at the Microsoft office in London, what a day! #tech"
ENGLISH = [POSITIVE, NEGATIVE, PEOPLE]


@pytest.fixture(scope="module")
def comprehend(aws_client: Callable[[str], Any]) -> Any:
    return aws_client("comprehend")


def call(client: Any, operation: str, **params: Any) -> dict[str, Any]:
    """``client.<operation>(**params)``, its response checked against botocore's shape."""
    method = "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")
    response: dict[str, Any] = getattr(client, method)(**params)
    check_shape(response, "comprehend", operation)
    assert response["ResponseMetadata"]["RequestId"]
    return response


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_sentiment_of_a_glowing_and_an_angry_review(comprehend: Any) -> None:
    good = call(comprehend, "DetectSentiment", Text=POSITIVE, LanguageCode="en")
    bad = call(comprehend, "DetectSentiment", Text=NEGATIVE, LanguageCode="en")
    assert good["Sentiment"] == "POSITIVE"
    assert bad["Sentiment"] == "NEGATIVE"
    for response in (good, bad):
        scores = response["SentimentScore"]
        assert sum(scores.values()) == pytest.approx(1.0, abs=1e-4)
        assert all(0 <= v <= 1 for v in scores.values())
    assert good["SentimentScore"]["Positive"] > 0.5 > good["SentimentScore"]["Negative"]
    assert bad["SentimentScore"]["Negative"] > 0.5 > bad["SentimentScore"]["Positive"]


def test_entities_find_the_person_the_company_and_the_city(comprehend: Any) -> None:
    found = call(comprehend, "DetectEntities", Text=PEOPLE, LanguageCode="en")["Entities"]
    by_type = {e["Type"]: e["Text"] for e in found}
    assert by_type["PERSON"] == "Tim Cook"
    assert by_type["ORGANIZATION"] == "Microsoft"
    assert by_type["LOCATION"] == "London"
    for entity in found:
        assert PEOPLE[entity["BeginOffset"]:entity["EndOffset"]] == entity["Text"]
        assert 0 < entity["Score"] <= 1
    assert "#tech" not in {e["Text"] for e in found}


def test_key_phrases_point_into_the_post(comprehend: Any) -> None:
    phrases = call(comprehend, "DetectKeyPhrases", Text=NEGATIVE,
                   LanguageCode="en")["KeyPhrases"]
    texts = [p["Text"] for p in phrases]
    assert "the refund" in texts
    for phrase in phrases:
        assert NEGATIVE[phrase["BeginOffset"]:phrase["EndOffset"]] == phrase["Text"]


def test_dominant_language_of_spanish_and_english_posts(comprehend: Any) -> None:
    spanish = call(comprehend, "DetectDominantLanguage", Text=SPANISH)["Languages"]
    english = call(comprehend, "DetectDominantLanguage", Text=NEGATIVE)["Languages"]
    assert spanish[0]["LanguageCode"] == "es"
    assert english[0]["LanguageCode"] == "en"
    assert 0.5 < spanish[0]["Score"] <= 1


def test_the_answers_are_what_enrich_stores(comprehend: Any) -> None:
    from socialsight.enrich import analyse_posts

    posts = [*ENGLISH, SPANISH]
    stored = analyse_posts(list(posts), [None] * len(posts))
    for post, row in zip(posts, stored, strict=True):
        language = call(comprehend, "DetectDominantLanguage", Text=post)["Languages"][0]
        assert (language["LanguageCode"], language["Score"]) == (row["lang"], row["lang_score"])
    for post, row in zip(ENGLISH, stored[:len(ENGLISH)], strict=True):
        sentiment = call(comprehend, "DetectSentiment", Text=post, LanguageCode="en")
        scores = sentiment["SentimentScore"]
        assert (sentiment["Sentiment"], scores["Positive"], scores["Negative"],
                scores["Neutral"], scores["Mixed"]) == row["sentiment"]
        entities = call(comprehend, "DetectEntities", Text=post, LanguageCode="en")
        assert [(e["Text"], e["Type"], e["Score"], e["BeginOffset"], e["EndOffset"])
                for e in entities["Entities"]] == row["entities"]
        phrases = call(comprehend, "DetectKeyPhrases", Text=post, LanguageCode="en")
        assert [(p["Text"], p["BeginOffset"], p["EndOffset"])
                for p in phrases["KeyPhrases"]] == row["key_phrases"]


@pytest.mark.parametrize(("batch", "single", "language"), [
    ("BatchDetectSentiment", "DetectSentiment", True),
    ("BatchDetectEntities", "DetectEntities", True),
    ("BatchDetectKeyPhrases", "DetectKeyPhrases", True),
    ("BatchDetectDominantLanguage", "DetectDominantLanguage", False),
])
def test_batch_forms_answer_each_text_as_the_single_call_does(
        comprehend: Any, batch: str, single: str, language: bool) -> None:
    extra = {"LanguageCode": "en"} if language else {}
    response = call(comprehend, batch, TextList=ENGLISH, **extra)
    assert response["ErrorList"] == []
    assert [r["Index"] for r in response["ResultList"]] == list(range(len(ENGLISH)))
    for text, result in zip(ENGLISH, response["ResultList"], strict=True):
        alone = call(comprehend, single, Text=text, **extra)
        alone.pop("ResponseMetadata")
        assert {k: v for k, v in result.items() if k != "Index"} == alone


def test_text_over_the_byte_limit_is_refused(comprehend: Any) -> None:
    # 2,501 characters, 5,002 bytes: Comprehend counts UTF-8 bytes, not characters.
    accented = "é" * 2501
    with pytest.raises(comprehend.exceptions.TextSizeLimitExceededException) as excinfo:
        comprehend.detect_sentiment(Text=accented, LanguageCode="en")
    assert error_of(excinfo) == ("TextSizeLimitExceededException", 400)
    assert "5000 bytes" in str(excinfo.value)
    # Entities take up to 100,000 bytes.
    call(comprehend, "DetectEntities", Text=accented, LanguageCode="en")
    with pytest.raises(comprehend.exceptions.TextSizeLimitExceededException):
        comprehend.detect_dominant_language(Text="a" * 100_001)
    with pytest.raises(comprehend.exceptions.TextSizeLimitExceededException) as excinfo:
        comprehend.batch_detect_sentiment(TextList=[POSITIVE, accented], LanguageCode="en")
    assert "document 1" in str(excinfo.value)


def test_languages_it_cannot_read_and_codes_that_do_not_exist(comprehend: Any) -> None:
    with pytest.raises(comprehend.exceptions.UnsupportedLanguageException) as excinfo:
        comprehend.detect_sentiment(Text=SPANISH, LanguageCode="es")
    assert error_of(excinfo) == ("UnsupportedLanguageException", 400)
    with pytest.raises(comprehend.exceptions.UnsupportedLanguageException):
        comprehend.batch_detect_entities(TextList=[SPANISH], LanguageCode="es")
    with pytest.raises(ClientError) as excinfo:
        comprehend.detect_key_phrases(Text=POSITIVE, LanguageCode="xx")
    assert error_of(excinfo) == ("ValidationException", 400)
    assert "languageCode" in str(excinfo.value)


def test_more_than_25_texts_in_a_batch(comprehend: Any) -> None:
    with pytest.raises(comprehend.exceptions.BatchSizeLimitExceededException) as excinfo:
        comprehend.batch_detect_dominant_language(TextList=[POSITIVE] * 26)
    assert error_of(excinfo) == ("BatchSizeLimitExceededException", 400)
    assert len(call(comprehend, "BatchDetectDominantLanguage",
                    TextList=[POSITIVE] * 25)["ResultList"]) == 25


def test_missing_and_empty_text_as_aws_answers_them(aws_server: str) -> None:
    # boto3 checks required members and minimum lengths itself; unchecked, the server does.
    import boto3

    client = boto3.client("comprehend", endpoint_url=aws_server, region_name="us-east-1",
                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                          config=Config(parameter_validation=False,
                                        retries={"max_attempts": 1}))
    for params in ({"Text": "", "LanguageCode": "en"}, {"LanguageCode": "en"},
                   {"Text": POSITIVE}):
        with pytest.raises(ClientError) as excinfo:
            client.detect_sentiment(**params)
        assert error_of(excinfo) == ("ValidationException", 400), params
    with pytest.raises(ClientError) as excinfo:
        client.batch_detect_sentiment(TextList=[], LanguageCode="en")
    assert error_of(excinfo) == ("ValidationException", 400)
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.detect_entities(Text=POSITIVE)


def test_features_that_do_not_exist_here_say_so(comprehend: Any) -> None:
    arn = "arn:aws:comprehend:us-east-1:123456789012:entity-recognizer-endpoint/brands"
    with pytest.raises(comprehend.exceptions.ResourceUnavailableException):
        comprehend.detect_entities(Text=POSITIVE, EndpointArn=arn)
    with pytest.raises(comprehend.exceptions.InvalidRequestException) as excinfo:
        comprehend.detect_entities(Bytes=b"%PDF-1.4", DocumentReaderConfig={
            "DocumentReadAction": "TEXTRACT_DETECT_DOCUMENT_TEXT"})
    assert "Bytes" in str(excinfo.value)


def long_text(size: int, seed: int = 0) -> str:
    """Paragraphs of real-looking posts, ``size`` bytes (ASCII) or just under."""
    sentences = [POSITIVE.replace("😍 ", ""), NEGATIVE, PEOPLE,
                 "The new Foot Locker store in Boston opened on Monday with 300 people "
                 "waiting outside.",
                 "Barack Obama spoke at Harvard University about the climate in 2024."]
    out: list[str] = []
    length, i = 0, seed
    while length < size:
        piece = sentences[i % len(sentences)] + ("\n\n" if i % 7 == 6 else " ")
        out.append(piece)
        length += len(piece)
        i += 1
    return "".join(out)[:size].rstrip()


@pytest.mark.slow
def test_a_long_text_is_read_whole_with_offsets_into_it(comprehend: Any) -> None:
    text = long_text(60_000) + " " + PEOPLE
    found = call(comprehend, "DetectEntities", Text=text, LanguageCode="en")["Entities"]
    for entity in found:
        assert text[entity["BeginOffset"]:entity["EndOffset"]] == entity["Text"]
    cooks = [e["BeginOffset"] for e in found if e["Text"] == "Tim Cook"]
    assert len(cooks) >= text.count("Tim Cook") - 1  # one may straddle a cut
    assert cooks[-1] == text.rindex("Tim Cook")  # the last, 60 KB in
    phrases = call(comprehend, "DetectKeyPhrases", Text=text, LanguageCode="en")
    for phrase in phrases["KeyPhrases"]:
        assert text[phrase["BeginOffset"]:phrase["EndOffset"]] == phrase["Text"]


@pytest.mark.slow
def test_the_biggest_batch_aws_allows_stays_in_bounded_memory(tmp_path: Any) -> None:
    """25 texts of 100 KB (AWS's limits) once took 9.7 GB and 5 minutes: now the server
    reads them in bounded pieces. Its address space is capped so a regression fails
    here instead of exhausting the machine; its peak resident memory must stay < 2 GiB."""
    import os
    import re
    import resource
    import signal
    import subprocess
    import sys

    import boto3

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))

    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALSIGHT_")}
    (tmp_path / "lake").mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "socialsight", "serve", "--lake", str(tmp_path / "lake"),
         "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=env, preexec_fn=cap)
    try:
        assert proc.stdout is not None
        said = ""
        while "http://" not in said and proc.poll() is None:
            said += proc.stdout.readline()
        url = re.search(r"http://[^\s/]+", said)
        assert url, said
        client = boto3.client(
            "comprehend", endpoint_url=url.group(0), region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            config=Config(retries={"max_attempts": 1}, read_timeout=1800))
        texts = [long_text(100_000, seed) for seed in range(25)]
        answer = client.batch_detect_entities(TextList=texts, LanguageCode="en")
        assert answer["ErrorList"] == []
        assert [r["Index"] for r in answer["ResultList"]] == list(range(25))
        assert all(r["Entities"] for r in answer["ResultList"])
        with open(f"/proc/{proc.pid}/status") as status:
            peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
        assert peak < 2 << 20, f"the server peaked at {peak >> 10} MiB"  # kB
    finally:
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=60)[0]
    assert "failed" not in rest and "Traceback" not in rest, rest
