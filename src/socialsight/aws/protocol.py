"""The AWS JSON 1.1 protocol: ``POST /`` with ``X-Amz-Target: Service.Operation``.

This is what boto3 speaks to Rekognition and Comprehend; pointed at ``socialsight serve``
(``endpoint_url``), it reaches :func:`mount`'s endpoint. One request goes:

1. the target names a service of :data:`SERVICES`;
2. the body, refused early when bigger than the service allows (``Content-Length``
   first, then while it streams in);
3. the signature (:mod:`socialsight.aws.sigv4`, and the policy in its docstring);
4. the operation of the target, on the JSON object of the body, in a worker thread
   (the models are CPU-bound: the event loop keeps serving other requests), at most
   ``serve.aws_concurrency`` at once: the others wait their turn, holding only their
   body, so that many requests cannot multiply the memory one analysis takes;
5. its answer as ``application/x-amz-json-1.1`` with an ``x-amzn-RequestId``.

A target that names no operation served here is ``UnknownOperationException``; when it
names one the service has on AWS (botocore's model: :data:`REKOGNITION_OPERATIONS`,
:data:`COMPREHEND_OPERATIONS`), the message says that socialsight does not serve it and
that docs/aws-api.md lists what is served, and why the rest is not.

Errors come back as AWS sends them, so boto3 raises ``client.exceptions.<Code>``::

    HTTP/1.1 400
    x-amzn-ErrorType: TextSizeLimitExceededException
    {"__type": "TextSizeLimitExceededException", "Message": "..."}

An operation that fails unexpectedly answers the service's internal error (500); the
traceback goes to the log, never to the client.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response

from socialsight.aws import comprehend, rekognition, sigv4
from socialsight.aws.core import AwsContext, AwsError, Operation
from socialsight.errors import (
    InputError,
    LakeBusyError,
    MediaError,
    NotFoundError,
    SocialsightError,
    TransientError,
)
from socialsight.net import is_loopback, read_limited

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.1"
MiB = 1024 * 1024


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Every operation of the two services as botocore's models name them (botocore 1.43;
# tests/aws/test_operations_table.py fails when a newer botocore has more, and checks
# that docs/aws-api.md's table gives each its answer). An operation here that a service
# does not serve is answered as one AWS has and socialsight does not (:func:`unknown`).
REKOGNITION_OPERATIONS = _names("""
AssociateFaces CompareFaces CopyProjectVersion CreateCollection CreateDataset
CreateFaceLivenessSession CreateProject CreateProjectVersion CreateStreamProcessor
CreateUser DeleteCollection DeleteDataset DeleteFaces DeleteProject DeleteProjectPolicy
DeleteProjectVersion DeleteStreamProcessor DeleteUser DescribeCollection DescribeDataset
DescribeProjectVersions DescribeProjects DescribeStreamProcessor DetectCustomLabels
DetectFaces DetectLabels DetectModerationLabels DetectProtectiveEquipment DetectText
DisassociateFaces DistributeDatasetEntries GetCelebrityInfo GetCelebrityRecognition
GetContentModeration GetFaceDetection GetFaceLivenessSessionResults GetFaceSearch
GetLabelDetection GetMediaAnalysisJob GetPersonTracking GetSegmentDetection
GetTextDetection IndexFaces ListCollections ListDatasetEntries ListDatasetLabels
ListFaces ListMediaAnalysisJobs ListProjectPolicies ListStreamProcessors
ListTagsForResource ListUsers PutProjectPolicy RecognizeCelebrities SearchFaces
SearchFacesByImage SearchUsers SearchUsersByImage StartCelebrityRecognition
StartContentModeration StartFaceDetection StartFaceSearch StartLabelDetection
StartMediaAnalysisJob StartPersonTracking StartProjectVersion StartSegmentDetection
StartStreamProcessor StartTextDetection StopProjectVersion StopStreamProcessor
TagResource UntagResource UpdateDatasetEntries UpdateStreamProcessor
""")
COMPREHEND_OPERATIONS = _names("""
BatchDetectDominantLanguage BatchDetectEntities BatchDetectKeyPhrases
BatchDetectSentiment BatchDetectSyntax BatchDetectTargetedSentiment ClassifyDocument
ContainsPiiEntities CreateDataset CreateDocumentClassifier CreateEndpoint
CreateEntityRecognizer CreateFlywheel DeleteDocumentClassifier DeleteEndpoint
DeleteEntityRecognizer DeleteFlywheel DeleteResourcePolicy DescribeDataset
DescribeDocumentClassificationJob DescribeDocumentClassifier
DescribeDominantLanguageDetectionJob DescribeEndpoint DescribeEntitiesDetectionJob
DescribeEntityRecognizer DescribeEventsDetectionJob DescribeFlywheel
DescribeFlywheelIteration DescribeKeyPhrasesDetectionJob DescribePiiEntitiesDetectionJob
DescribeResourcePolicy DescribeSentimentDetectionJob
DescribeTargetedSentimentDetectionJob DescribeTopicsDetectionJob DetectDominantLanguage
DetectEntities DetectKeyPhrases DetectPiiEntities DetectSentiment DetectSyntax
DetectTargetedSentiment DetectToxicContent ImportModel ListDatasets
ListDocumentClassificationJobs ListDocumentClassifierSummaries ListDocumentClassifiers
ListDominantLanguageDetectionJobs ListEndpoints ListEntitiesDetectionJobs
ListEntityRecognizerSummaries ListEntityRecognizers ListEventsDetectionJobs
ListFlywheelIterationHistory ListFlywheels ListKeyPhrasesDetectionJobs
ListPiiEntitiesDetectionJobs ListSentimentDetectionJobs ListTagsForResource
ListTargetedSentimentDetectionJobs ListTopicsDetectionJobs PutResourcePolicy
StartDocumentClassificationJob StartDominantLanguageDetectionJob
StartEntitiesDetectionJob StartEventsDetectionJob StartFlywheelIteration
StartKeyPhrasesDetectionJob StartPiiEntitiesDetectionJob StartSentimentDetectionJob
StartTargetedSentimentDetectionJob StartTopicsDetectionJob
StopDominantLanguageDetectionJob StopEntitiesDetectionJob StopEventsDetectionJob
StopKeyPhrasesDetectionJob StopPiiEntitiesDetectionJob StopSentimentDetectionJob
StopTargetedSentimentDetectionJob StopTrainingDocumentClassifier
StopTrainingEntityRecognizer TagResource UntagResource UpdateEndpoint UpdateFlywheel
""")
OPERATIONS_TABLE = "docs/aws-api.md"  # where the served ones, and why not the others, are


@dataclass(frozen=True)
class Service:
    """One AWS service answered here, and how it differs from the others."""

    operations: dict[str, Operation]
    signing_name: str  # the service in a SigV4 credential scope
    max_body: int  # bytes of JSON a request may have
    too_large: str  # its error for a body over max_body
    internal: str  # its error for a failure of our own
    title: str  # its name, as AWS writes it
    aws_operations: frozenset[str]  # every operation AWS has (botocore's model)


# X-Amz-Target prefix → service. Rekognition takes images up to 5 MB, 6.7 MB in base64,
# two of them in CompareFaces; Comprehend 25 texts of 100 KB, up to 6 bytes of JSON per
# byte of text escaped.
SERVICES: dict[str, Service] = {
    "RekognitionService": Service(rekognition.OPERATIONS, "rekognition", 14 * MiB,
                                  "ImageTooLargeException", "InternalServerError",
                                  "Amazon Rekognition", REKOGNITION_OPERATIONS),
    "Comprehend_20171127": Service(comprehend.OPERATIONS, "comprehend", 8 * MiB,
                                   "TextSizeLimitExceededException", "InternalServerException",
                                   "Amazon Comprehend", COMPREHEND_OPERATIONS),
}
UNKNOWN_MAX_BODY = 1 * MiB


def mount(app: FastAPI, ctx: AwsContext) -> None:
    """Answer the AWS JSON 1.1 protocol at ``POST /`` of ``app``."""
    serve = ctx.settings.serve
    loopback = is_loopback(serve.host)
    if not loopback and not serve.aws_access_key_id:
        log.warning("the AWS API refuses every request on %s: set serve.aws_access_key_id "
                    "and serve.aws_secret_access_key to let signed requests in", serve.host)

    turns = anyio.CapacityLimiter(serve.aws_concurrency)

    @app.post("/", include_in_schema=False)
    async def aws(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        try:
            return _answer(await _handle(request, ctx, loopback, turns), request_id)
        except AwsError as exc:
            return _error(exc, request_id)


async def _handle(request: Request, ctx: AwsContext, loopback: bool,
                  turns: anyio.CapacityLimiter) -> bytes:
    target = request.headers.get("x-amz-target", "")
    prefix, _, name = target.partition(".")
    service = SERVICES.get(prefix)
    body = await read_body(request, service)
    serve = ctx.settings.serve
    sigv4.authenticate(
        sigv4.Request(request.method, request.scope.get("raw_path", b"/").decode("latin-1"),
                      request.url.query,
                      [(k.decode("latin-1"), v.decode("latin-1"))
                       for k, v in request.headers.raw], body),
        serve.aws_access_key_id, serve.aws_secret_access_key, loopback,
        service.signing_name if service else None)
    operation = service.operations.get(name) if service else None
    if service is None or operation is None:
        raise AwsError("UnknownOperationException", unknown(target, service, name))
    params = parse_body(body)
    try:
        result = await anyio.to_thread.run_sync(operation, params, ctx, limiter=turns)
        return orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY)
    except AwsError:
        raise
    except SocialsightError as exc:
        known = aws_error_of(exc)
        if known is None:
            log.exception("AWS operation %s failed", target)
            raise AwsError(service.internal, "An internal error occurred; the server's log "
                           "has the details.", 500) from None
        raise known from None
    except Exception:
        log.exception("AWS operation %s failed", target)
        raise AwsError(service.internal, "An internal error occurred; the server's log "
                       "has the details.", 500) from None


def unknown(target: str, service: Service | None, name: str) -> str:
    """UnknownOperationException's message: an operation AWS has that is not served here
    says so (and where the table of what is served is); any other target is unknown."""
    if not target:
        return "The request has no X-Amz-Target header naming an operation"
    if service is not None and name in service.aws_operations:
        return (f"{name} is an {service.title} operation that socialsight does not serve; "
                f"{OPERATIONS_TABLE} lists the operations served here, and why the others "
                "are not")
    return f"Unknown operation {target!r}"


# socialsight's own errors as AWS answers them, most specific class first: the one place
# where the exception tree (errors.py) meets AWS's error names.
AWS_ERRORS: tuple[tuple[type[SocialsightError], str, int], ...] = (
    (NotFoundError, "ResourceNotFoundException", 400),
    (LakeBusyError, "ThrottlingException", 400),
    (MediaError, "InvalidImageFormatException", 400),
    (InputError, "InvalidParameterException", 400),
    (TransientError, "ThrottlingException", 400),
)


def aws_error_of(exc: SocialsightError) -> AwsError | None:
    """The AWS error for one of socialsight's own, or None (then it is an internal error)."""
    for kind, code, status in AWS_ERRORS:
        if isinstance(exc, kind):
            return AwsError(code, str(exc), status)
    return None


async def read_body(request: Request, service: Service | None) -> bytes:
    """The body, or the service's error as soon as it is known to be too big."""
    limit = service.max_body if service else UNKNOWN_MAX_BODY
    code = service.too_large if service else "RequestEntityTooLargeException"
    return await read_limited(
        request, limit, lambda size: _too_large(code, limit, size),
        lambda size: AwsError("SerializationException", f"The request ended after {size:,} "
                              "bytes, before its body did."))


def parse_body(body: bytes) -> dict[str, Any]:
    """The request's JSON object (an empty body is ``{}``, as for AWS)."""
    if not body.strip():
        return {}
    try:
        params = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise AwsError("SerializationException", f"The request body is not JSON: {exc}") \
            from None
    if not isinstance(params, dict):
        raise AwsError("SerializationException", "The request body must be a JSON object")
    return params


def _too_large(code: str, limit: int, size: int) -> AwsError:
    return AwsError(code, f"The request body has {size} bytes or more; at most {limit} are "
                    "accepted", 413 if code == "RequestEntityTooLargeException" else 400)


def _answer(body: bytes, request_id: str) -> Response:
    return Response(body, media_type=CONTENT_TYPE,
                    headers={"x-amzn-RequestId": request_id})


def _error(exc: AwsError, request_id: str) -> Response:
    body = {"__type": exc.code, "Message": exc.message}
    return Response(orjson.dumps(body), status_code=exc.status, media_type=CONTENT_TYPE,
                    headers={"x-amzn-RequestId": request_id, "x-amzn-ErrorType": exc.code})
