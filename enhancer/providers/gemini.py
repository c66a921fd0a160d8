"""Google Gemini through the official ``google-genai`` SDK.

Analysis asks ``gemini_model`` for JSON findings (response schema); edits ask
``gemini_image_model`` for an image back. Retries of 408/429/5xx and transient
network errors are the SDK's own (``HttpRetryOptions``); everything that still
fails becomes a :class:`ProviderError` whose message never contains the key.
"""
from __future__ import annotations

import importlib
import json
from urllib.parse import urlsplit

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from ..errors import ProviderError
from ..types import Mode
from .base import (ANALYSIS_PROMPT, FINDINGS_KEYS, VARIANTS, AIConfig, ProviderResult,
                   pick_variant, prepare_upload)

RETRY_STATUS_CODES = (408, 429, 500, 502, 503, 504)


def _transport_errors(attr: str) -> tuple[type[BaseException], ...]:
    # The SDK runs on httpx2 (3.x) or httpx (older); catch whichever is installed.
    found = []
    for mod in ("httpx2", "httpx"):
        try:
            found.append(getattr(importlib.import_module(mod), attr))
        except (ImportError, AttributeError):
            pass
    return tuple(found)


_TIMEOUT_ERRORS = _transport_errors("TimeoutException")
_HTTP_ERRORS = _transport_errors("HTTPError")

# Finish reasons that mean "the model refused or failed", not "done".
_STOP_REASONS = {"SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT",
                 "BLOCKLIST", "SPII", "RECITATION", "IMAGE_RECITATION", "IMAGE_OTHER", "NO_IMAGE",
                 "OTHER", "MALFORMED_RESPONSE", "LANGUAGE", "MODEL_ARMOR"}

_FINDINGS_SCHEMA = types.Schema(
    type=types.Type.OBJECT,
    properties={
        "problems": types.Schema(type=types.Type.ARRAY, items=types.Schema(type=types.Type.STRING)),
        "suggested_mode": types.Schema(type=types.Type.STRING, enum=[m.value for m in Mode]),
        "product_category": types.Schema(type=types.Type.STRING),
        "alt_text": types.Schema(type=types.Type.STRING),
    },
    required=list(FINDINGS_KEYS),
)


class GeminiProvider:
    """Gemini analysis and image editing.

    Parameters
    ----------
    config : AIConfig
    client : google.genai.Client, optional
        Injected client (tests); by default one is built from ``config`` on first use.
    """

    name = "gemini"
    variants = tuple(v.name for v in VARIANTS)

    def __init__(self, config: AIConfig, *, client: genai.Client | None = None):
        self._cfg = config
        self._client = client

    # -- contract -------------------------------------------------------------------------
    def available(self) -> tuple[bool, str]:
        if not self._cfg.gemini_api_key:
            return False, "GEMINI_API_KEY is not set"
        return True, ""

    def check(self) -> None:
        """Fetch the analysis model's metadata: proves the key works and the model exists.

        Raises
        ------
        ProviderError
            With a message fit for the user (no traceback, no key).
        """
        client = self._get_client()
        self._call(lambda: client.models.get(model=self._cfg.gemini_model),
                   model=self._cfg.gemini_model)

    def analyze(self, data: bytes) -> ProviderResult:
        """Ask the model for findings as JSON (problems, suggested_mode, category, alt text).

        Raises
        ------
        InvalidImageError
            If ``data`` is not an image.
        ProviderError
            On API errors after retries, a blocked request or an answer that is not the JSON asked for.
        """
        data, mime = prepare_upload(data)
        client = self._get_client()
        model = self._cfg.gemini_model
        prompt = ANALYSIS_PROMPT.format(modes=", ".join(m.value for m in Mode))
        config = types.GenerateContentConfig(response_mime_type="application/json",
                                             response_schema=_FINDINGS_SCHEMA, temperature=0.2)
        resp = self._call(lambda: client.models.generate_content(
            model=model, contents=[types.Part.from_bytes(data=data, mime_type=mime), prompt],
            config=config), model=model)
        parts = self._parts(resp)
        text = "".join(p.text for p in parts if p.text and not p.thought)
        try:
            raw = json.loads(text)
        except ValueError:
            raw = None
        if not isinstance(raw, dict):
            raise ProviderError(f"Gemini's analysis was not the JSON object asked for "
                                f"(got {_preview(text)}). Try again.", provider=self.name)
        return ProviderResult(data=None, provider=self.name, prompt=prompt,
                              findings=_normalise_findings(raw), **_provenance(resp, model))

    def edit(self, data: bytes, *, prompt: str | None = None, variant: int = 0) -> ProviderResult:
        """Send the photo and an instruction to the image model; return its image.

        Raises
        ------
        InvalidImageError
            If ``data`` is not an image.
        ValueError
            If ``variant`` is out of range.
        ProviderError
            On API errors after retries, a blocked request, or an answer without an image.
        """
        instruction = pick_variant(variant, prompt)
        data, mime = prepare_upload(data)
        client = self._get_client()
        model = self._cfg.gemini_image_model
        config = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"])
        resp = self._call(lambda: client.models.generate_content(
            model=model, contents=[types.Part.from_bytes(data=data, mime_type=mime), instruction],
            config=config), model=model)
        parts = self._parts(resp)
        # Thinking models may return draft images marked as thoughts; the answer is the last one.
        images = [p.inline_data for p in parts if p.inline_data is not None and not p.thought
                  and (p.inline_data.mime_type or "").startswith("image/") and p.inline_data.data]
        text = " ".join(p.text for p in parts if p.text and not p.thought).strip()
        if not images:
            said = f" The model said: {_preview(text)}." if text else ""
            raise ProviderError(f"Gemini returned no image for this edit.{said} "
                                "Try another variant or prompt.", provider=self.name)
        findings = {"model_text": text} if text else {}
        return ProviderResult(data=images[-1].data, provider=self.name, prompt=instruction,
                              mime_type=images[-1].mime_type, findings=findings,
                              **_provenance(resp, model))

    # -- plumbing -------------------------------------------------------------------------
    def _get_client(self) -> genai.Client:
        ok, reason = self.available()
        if not ok:
            raise ProviderError(f"Gemini is not configured: {reason}.", provider=self.name)
        if self._client is None:
            cfg = self._cfg
            retry = types.HttpRetryOptions(
                attempts=int(cfg.max_retries) + 1, initial_delay=float(cfg.retry_base_delay_s),
                max_delay=max(float(cfg.retry_base_delay_s) * 2 ** int(cfg.max_retries), 0.0),
                exp_base=2, jitter=float(cfg.retry_base_delay_s),
                http_status_codes=list(RETRY_STATUS_CODES))
            # vertexai=False pins the Gemini Developer API even if GOOGLE_GENAI_USE_VERTEXAI is set.
            self._client = genai.Client(
                api_key=cfg.gemini_api_key, vertexai=False,
                http_options=types.HttpOptions(base_url=cfg.gemini_base_url,
                                               timeout=int(float(cfg.timeout_s) * 1000),
                                               retry_options=retry))
        return self._client

    def _call(self, fn, *, model: str):
        """Run one SDK call and translate every failure into a ProviderError."""
        attempts = int(self._cfg.max_retries) + 1
        try:
            return fn()
        except genai_errors.APIError as exc:
            raise self._api_error(exc, model=model, attempts=attempts) from None
        except _TIMEOUT_ERRORS:
            raise ProviderError(f"Gemini did not answer within {self._cfg.timeout_s:g} s "
                                f"({attempts} attempts). Try again later.", provider=self.name) from None
        except _HTTP_ERRORS as exc:
            raise ProviderError(f"Could not reach Gemini at {self._host()}: {type(exc).__name__}. "
                                "Check the network (or GEMINI_BASE_URL).", provider=self.name) from None
        except ValueError:
            # Body that is not JSON, or JSON the SDK cannot map onto its response types.
            raise ProviderError("Gemini sent a malformed response (not the expected JSON). "
                                "Try again later.", provider=self.name) from None

    def _api_error(self, exc: genai_errors.APIError, *, model: str, attempts: int) -> ProviderError:
        code, status = exc.code, exc.status or ""
        detail = self._scrub(exc.message or "")
        if code in (401, 403) or (code == 400 and _is_key_error(exc)):
            msg = (f"Gemini rejected the GEMINI_API_KEY (HTTP {code} {status}: {detail}). "
                   "Check the key in Google AI Studio and set GEMINI_API_KEY again.")
        elif code == 404:
            msg = f"Gemini model {model!r} was not found (HTTP 404). Check the model name setting."
        elif code == 429:
            msg = (f"Gemini rate limit or quota exceeded (HTTP 429) after {attempts} attempts: "
                   f"{detail} Wait a minute and try again, or check the plan's quota.")
        elif code and code >= 500:
            msg = (f"Gemini is failing (HTTP {code} {status}) after {attempts} attempts. "
                   "Try again later.")
        else:
            msg = f"Gemini rejected the request (HTTP {code} {status}): {detail}"
        return ProviderError(msg, status_code=code, provider=self.name)

    def _parts(self, resp: types.GenerateContentResponse) -> list[types.Part]:
        """The first candidate's parts, or a ProviderError saying why there are none."""
        fb = resp.prompt_feedback
        if fb is not None and fb.block_reason:
            why = f": {fb.block_reason_message}" if fb.block_reason_message else ""
            raise ProviderError(f"Gemini blocked the request ({_name(fb.block_reason)}){why}. "
                                "Try another photo or prompt.", provider=self.name)
        if not resp.candidates:
            raise ProviderError("Gemini returned an empty response (no candidates). Try again.",
                                provider=self.name)
        cand = resp.candidates[0]
        reason = _name(cand.finish_reason)
        if reason in _STOP_REASONS:
            raise ProviderError(f"Gemini stopped without a result (finish reason {reason}). "
                                "Try another photo or prompt.", provider=self.name)
        parts = list(cand.content.parts or []) if cand.content else []
        if not parts:
            raise ProviderError(f"Gemini returned an empty response (finish reason {reason or 'none'}). "
                                "Try again.", provider=self.name)
        return parts

    def _scrub(self, text: str) -> str:
        key = self._cfg.gemini_api_key
        return text.replace(key, "***") if key else text

    def _host(self) -> str:
        return urlsplit(self._cfg.gemini_base_url).netloc if self._cfg.gemini_base_url \
            else "generativelanguage.googleapis.com"


def _is_key_error(exc: genai_errors.APIError) -> bool:
    # AI Studio answers a bad key with 400 INVALID_ARGUMENT + ErrorInfo reason API_KEY_INVALID.
    blob = json.dumps(exc.details, default=str) if exc.details is not None else ""
    return "API_KEY_INVALID" in blob or "api key" in (exc.message or "").lower()


def _name(enum_or_str) -> str:
    if enum_or_str is None:
        return ""
    return str(getattr(enum_or_str, "value", enum_or_str)).upper()


def _preview(text: str, limit: int = 120) -> str:
    text = " ".join((text or "").split())
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _provenance(resp: types.GenerateContentResponse, model: str) -> dict:
    meta = resp.usage_metadata
    usage = {}
    if meta is not None:
        for ours, theirs in (("input_tokens", "prompt_token_count"),
                             ("output_tokens", "candidates_token_count"),
                             ("thinking_tokens", "thoughts_token_count"),
                             ("total_tokens", "total_token_count")):
            value = getattr(meta, theirs, None)
            if value is not None:
                usage[ours] = int(value)
    return {"model_version": resp.model_version or model, "response_id": resp.response_id,
            "usage": usage}


def _normalise_findings(raw: dict) -> dict:
    """Coerce the model's JSON into the findings shape; keep extra keys it volunteered."""
    problems = raw.get("problems") or []
    if isinstance(problems, str):
        problems = [problems]
    try:
        mode = Mode.parse(raw.get("suggested_mode") or "AUTO").value
    except ValueError:
        mode = Mode.AUTO.value  # a made-up mode must not reach the pipeline
    out = dict(raw)
    out.update(problems=[str(p) for p in problems], suggested_mode=mode,
               product_category=raw.get("product_category") or None,
               alt_text=raw.get("alt_text") or None)
    return out
