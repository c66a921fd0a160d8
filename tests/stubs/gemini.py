"""Stub of the Gemini Developer API (generativelanguage.googleapis.com) wire format.

Answers ``POST /v1*/models/{model}:generateContent`` and ``GET /v1*/models/{model}``
with camelCase JSON shaped like the real service, so the real ``google-genai``
client can be pointed at it with ``HttpOptions(base_url=stub.url)``.
"""
from __future__ import annotations

import base64
import re
import uuid

from .server import Recorded, Reply, StubServer

_GENERATE = re.compile(r"^/v1(?:beta|alpha)?\d*/models/(?P<model>[^/:?]+):generateContent(?:\?.*)?$")
_GET_MODEL = re.compile(r"^/v1(?:beta|alpha)?\d*/models/(?P<model>[^/:?]+)(?:\?.*)?$")


def b64decode_any(text: str) -> bytes:
    """Decode standard or URL-safe base64 (the SDK sends URL-safe; the API accepts both)."""
    text = text.translate(str.maketrans("-_", "+/"))
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def usage(prompt: int = 1290, output: int = 1300) -> dict:
    return {"promptTokenCount": prompt, "candidatesTokenCount": output,
            "totalTokenCount": prompt + output,
            "promptTokensDetails": [{"modality": "IMAGE", "tokenCount": prompt - 10},
                                    {"modality": "TEXT", "tokenCount": 10}]}


def response(parts: list[dict], *, model: str = "gemini-2.5-flash-image", finish: str = "STOP",
             response_id: str | None = None, usage_metadata: dict | None = None) -> Reply:
    """A 200 ``GenerateContentResponse`` with one candidate made of ``parts``."""
    return Reply(200, {
        "candidates": [{"content": {"parts": parts, "role": "model"},
                        "finishReason": finish, "index": 0}],
        "usageMetadata": usage_metadata or usage(),
        "modelVersion": model,
        "responseId": response_id or uuid.uuid4().hex[:22],
    })


def image_part(data: bytes, mime_type: str = "image/png") -> dict:
    return {"inlineData": {"mimeType": mime_type, "data": base64.b64encode(data).decode()}}


def image_response(data: bytes, *, text: str | None = "Here is the edited photo.", **kw) -> Reply:
    parts = ([{"text": text}] if text else []) + [image_part(data)]
    return response(parts, **kw)


def json_response(text: str, **kw) -> Reply:
    """Structured output: the JSON arrives as the text of a part."""
    kw.setdefault("model", "gemini-2.5-flash")
    return response([{"text": text}], **kw)


def blocked(reason: str = "SAFETY") -> Reply:
    """The prompt itself was blocked: no candidates, ``promptFeedback.blockReason``."""
    return Reply(200, {"promptFeedback": {"blockReason": reason, "safetyRatings": [
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]},
        "usageMetadata": {"promptTokenCount": 1290, "totalTokenCount": 1290},
        "modelVersion": "gemini-2.5-flash-image", "responseId": uuid.uuid4().hex[:22]})


def error(code: int, status: str, message: str, details: list | None = None) -> Reply:
    """Google's error envelope, as sent with a 4xx/5xx status."""
    body = {"error": {"code": code, "message": message, "status": status}}
    if details:
        body["error"]["details"] = details
    return Reply(code, body)


def invalid_key() -> Reply:
    return error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
         "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}])


class GeminiStub(StubServer):
    """Default answer: a small PNG for image models, a findings JSON for the others.

    Parameters
    ----------
    api_key : str, optional
        If set, requests whose ``x-goog-api-key`` differs get the real invalid-key 400.
    image : bytes
        Image returned by the default edit reply.
    """

    def __init__(self, *, api_key: str | None = None, image: bytes = b"") -> None:
        super().__init__()
        self.api_key = api_key
        self.image = image

    def route(self, req: Recorded) -> Reply | None:
        if req.method == "POST" and (m := _GENERATE.match(req.path)):
            model = m["model"]
            if "image" in model:
                return image_response(self.image, model=model)
            return json_response('{"problems": ["cluttered background"], "suggested_mode": "FULL", '
                                 '"product_category": "shoes", "alt_text": "A red sneaker."}', model=model)
        if req.method == "GET" and (m := _GET_MODEL.match(req.path)):
            return Reply(200, {"name": f"models/{m['model']}", "displayName": m["model"],
                               "inputTokenLimit": 1048576, "outputTokenLimit": 65536,
                               "supportedGenerationMethods": ["generateContent"]})
        return None

    def not_found(self, req: Recorded) -> Reply:
        return error(404, "NOT_FOUND", f"stub: no route for {req.method} {req.path}")

    def check(self, req: Recorded) -> Reply | None:
        if self.api_key is not None and req.headers.get("x-goog-api-key") != self.api_key:
            return invalid_key()
        return None

    def sent_blobs(self, req: Recorded) -> list[tuple[str, bytes]]:
        """``(mime type, bytes)`` of each inline image in a generateContent body.

        Field names come in either casing (the SDK itself mixes ``inlineData`` and
        ``mime_type``); the real API accepts both, so the stub does too.
        """
        out = []
        for content in req.json().get("contents", []):
            for part in content.get("parts", []):
                blob = part.get("inlineData") or part.get("inline_data")
                if blob:
                    mime = blob.get("mimeType") or blob.get("mime_type")
                    out.append((mime, b64decode_any(blob["data"])))
        return out

    def sent_images(self, req: Recorded) -> list[bytes]:
        return [data for _, data in self.sent_blobs(req)]

    def sent_text(self, req: Recorded) -> str:
        return " ".join(p["text"] for c in req.json().get("contents", [])
                        for p in c.get("parts", []) if "text" in p)
