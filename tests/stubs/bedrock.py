"""Stub of the Bedrock runtime (``InvokeModel``) and control plane (``GetFoundationModel``).

Reached through boto3's ``endpoint_url`` with dummy credentials; errors use the
restJson1 shape botocore parses (``x-amzn-ErrorType`` header + ``{"message"}``).
"""
from __future__ import annotations

import base64
import re
import uuid
from urllib.parse import unquote

from .server import Recorded, Reply, StubServer

_INVOKE = re.compile(r"^/model/(?P<model>[^/]+)/invoke$")
_GET_MODEL = re.compile(r"^/foundation-models/(?P<model>[^/]+)$")


def _request_id() -> dict:
    return {"x-amzn-RequestId": str(uuid.uuid4())}


def images(*datas: bytes) -> Reply:
    return Reply(200, {"images": [base64.b64encode(d).decode() for d in datas], "error": None},
                 headers=_request_id())


def error(status: int, error_type: str, message: str) -> Reply:
    return Reply(status, {"message": message},
                 headers={"x-amzn-ErrorType": f"{error_type}:http://internal.amazon.com/coral/",
                          **_request_id()})


def throttled(status: int = 429) -> Reply:
    return error(status, "ThrottlingException", "Too many requests, please wait before trying again.")


class BedrockStub(StubServer):
    """Default answer: ``{"images": [self.image]}``; records the decoded invoke bodies."""

    def __init__(self, *, image: bytes = b"") -> None:
        super().__init__()
        self.image = image

    def route(self, req: Recorded) -> Reply | None:
        if req.method == "POST" and (m := _INVOKE.match(req.path)):
            return images(self.image)
        if req.method == "GET" and (m := _GET_MODEL.match(req.path)):
            model = unquote(m["model"])
            return Reply(200, {"modelDetails": {
                "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{model}",
                "modelId": model, "providerName": "Amazon", "inputModalities": ["TEXT", "IMAGE"],
                "outputModalities": ["IMAGE"]}}, headers=_request_id())
        return None

    def not_found(self, req: Recorded) -> Reply:
        return error(404, "UnknownOperationException", f"stub: no route for {req.method} {req.path}")

    def check(self, req: Recorded) -> Reply | None:
        # Real AWS refuses unsigned requests; the stub at least insists on SigV4.
        if not req.headers.get("authorization", "").startswith("AWS4-HMAC-SHA256"):
            return error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        return None

    def invoked_model(self, req: Recorded) -> str:
        return unquote(_INVOKE.match(req.path)["model"])
