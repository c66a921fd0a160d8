"""Amazon Bedrock image models (Titan Image Generator v2, Nova Canvas) through boto3.

Both models take the same request shapes. The white-background variant uses
``BACKGROUND_REMOVAL`` and flattens the cut-out on white here (the model
returns a transparent PNG); the other variants use ``IMAGE_VARIATION`` with a
high similarity so the product stays the same. Retries of throttling and 5xx
are botocore's standard mode; what still fails becomes a ProviderError.
"""
from __future__ import annotations

import base64
import binascii
import io
import json

import boto3
from botocore.config import Config
from botocore.exceptions import (BotoCoreError, ClientError, ConnectTimeoutError,
                                 EndpointConnectionError, NoCredentialsError, ReadTimeoutError)
from PIL import Image

from ..errors import ProviderError
from .base import VARIANTS, AIConfig, ProviderResult, pick_variant, sniff_mime
from .local import LocalProvider

# Output sizes valid for both Titan v2 and Nova Canvas; the closest aspect ratio is used
# so the product is not stretched.
_SIZES = ((1024, 1024), (1152, 896), (896, 1152), (1152, 768), (768, 1152), (1280, 768),
          (768, 1280), (1408, 768), (768, 1408), (1408, 640), (640, 1408))
_MAX_SIDE, _MIN_SIDE = 1408, 320     # input image limits shared by both models
_MAX_TEXT = 512                       # Titan's prompt limit (Nova allows more)
_SIMILARITY = 0.9                     # 0.2-1.0; high keeps the product unchanged
_AUTH_CODES = {"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException",
               "InvalidClientTokenId", "IncompleteSignature"}
_THROTTLE_CODES = {"ThrottlingException", "TooManyRequestsException", "ServiceQuotaExceededException",
                   "ModelNotReadyException"}


class BedrockProvider:
    """Bedrock image editing.

    Parameters
    ----------
    config : AIConfig
    client : botocore client, optional
        Injected ``bedrock-runtime`` client (tests); by default built from ``config``.
    """

    name = "bedrock"
    variants = tuple(v.name for v in VARIANTS)

    def __init__(self, config: AIConfig, *, client=None):
        self._cfg = config
        self._client = client
        self._session = None

    # -- contract -------------------------------------------------------------------------
    def available(self) -> tuple[bool, str]:
        cfg = self._cfg
        if bool(cfg.aws_access_key_id) != bool(cfg.aws_secret_access_key):
            return False, "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither"
        if cfg.aws_access_key_id:
            return True, ""
        # No explicit keys: boto3's default chain (env, profile, instance role) may still have some.
        if self._get_session().get_credentials() is None:
            return False, ("AWS credentials are not configured (set AWS_ACCESS_KEY_ID and "
                           "AWS_SECRET_ACCESS_KEY, or an AWS profile or role)")
        return True, ""

    def check(self) -> None:
        """Look the model up in the Bedrock control plane: proves credentials, region and access.

        Raises
        ------
        ProviderError
            With a message fit for the user.
        """
        self._require_available()
        cfg = self._cfg
        control = self._get_session().client("bedrock", region_name=cfg.bedrock_region,
                                             endpoint_url=cfg.bedrock_endpoint_url,
                                             config=self._boto_config())
        self._call(lambda: control.get_foundation_model(modelIdentifier=cfg.bedrock_model_id))

    def analyze(self, data: bytes) -> ProviderResult:
        """Bedrock's image models cannot describe photos, so this is the local assessment.

        The result says ``provider="local"`` so stored provenance stays true.
        """
        result = LocalProvider().analyze(data)
        findings = dict(result.findings, note="Bedrock image models do not analyse photos; "
                                              "local assessment used.")
        return ProviderResult(data=None, provider=result.provider, findings=findings,
                              prompt=result.prompt)

    def edit(self, data: bytes, *, prompt: str | None = None, variant: int = 0) -> ProviderResult:
        """Edit the photo with the configured model.

        Raises
        ------
        InvalidImageError
            If ``data`` is not an image.
        ValueError
            If ``variant`` is out of range.
        ProviderError
            On API errors after retries, a content-filter refusal, or an answer without an image.
        """
        instruction = pick_variant(variant, prompt)
        sniff_mime(data)
        self._require_available()
        image, size = _prepare(data)
        cut_out = not (prompt and prompt.strip()) and VARIANTS[int(variant)].name == "white_background"
        if cut_out:
            body = {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": image}}
            sent = "BACKGROUND_REMOVAL, then flattened on white"
        else:
            text = instruction[:_MAX_TEXT]
            body = {"taskType": "IMAGE_VARIATION",
                    "imageVariationParams": {"text": text, "images": [image],
                                             "similarityStrength": _SIMILARITY},
                    "imageGenerationConfig": {"numberOfImages": 1, "width": size[0],
                                              "height": size[1]}}
            sent = text
        client = self._get_client()
        resp = self._call(lambda: client.invoke_model(
            modelId=self._cfg.bedrock_model_id, body=json.dumps(body),
            contentType="application/json", accept="application/json"))
        out = self._read_image(resp)
        if cut_out:
            out = _flatten_on_white(out)
        meta = resp.get("ResponseMetadata", {})
        request_id = meta.get("RequestId") or meta.get("HTTPHeaders", {}).get("x-amzn-requestid")
        return ProviderResult(data=out, provider=self.name, model_version=self._cfg.bedrock_model_id,
                              response_id=request_id, usage={"images": 1}, prompt=sent,
                              mime_type=sniff_mime(out))

    # -- plumbing -------------------------------------------------------------------------
    def _get_session(self):
        if self._session is None:
            cfg = self._cfg
            self._session = boto3.session.Session(
                aws_access_key_id=cfg.aws_access_key_id or None,
                aws_secret_access_key=cfg.aws_secret_access_key or None,
                region_name=cfg.bedrock_region)
        return self._session

    def _boto_config(self) -> Config:
        cfg = self._cfg
        return Config(retries={"total_max_attempts": int(cfg.max_retries) + 1, "mode": "standard"},
                      connect_timeout=float(cfg.timeout_s), read_timeout=float(cfg.timeout_s))

    def _get_client(self):
        if self._client is None:
            cfg = self._cfg
            self._client = self._get_session().client(
                "bedrock-runtime", region_name=cfg.bedrock_region,
                endpoint_url=cfg.bedrock_endpoint_url, config=self._boto_config())
        return self._client

    def _require_available(self) -> None:
        ok, reason = self.available()
        if not ok:
            raise ProviderError(f"Bedrock is not configured: {reason}.", provider=self.name)

    def _call(self, fn):
        """Run one boto3 call (its retries included) and translate failures."""
        attempts = int(self._cfg.max_retries) + 1
        try:
            return fn()
        except ClientError as exc:
            raise self._client_error(exc, attempts=attempts) from None
        except NoCredentialsError:
            raise ProviderError("Bedrock is not configured: AWS credentials were not found.",
                                provider=self.name) from None
        except ReadTimeoutError:
            raise ProviderError(f"Bedrock did not answer within {self._cfg.timeout_s:g} s "
                                f"({attempts} attempts). Try again later.", provider=self.name) from None
        except (EndpointConnectionError, ConnectTimeoutError):
            raise ProviderError(f"Could not reach Bedrock in {self._cfg.bedrock_region}. Check the "
                                "network, region and endpoint settings.", provider=self.name) from None
        except BotoCoreError as exc:
            raise ProviderError(f"Bedrock call failed: {type(exc).__name__}.",
                                provider=self.name) from None

    def _client_error(self, exc: ClientError, *, attempts: int) -> ProviderError:
        err = exc.response.get("Error", {})
        code, detail = err.get("Code", ""), err.get("Message", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        model = self._cfg.bedrock_model_id
        if code in _AUTH_CODES:
            msg = (f"AWS rejected the credentials ({code}). Check AWS_ACCESS_KEY_ID / "
                   "AWS_SECRET_ACCESS_KEY and the region.")
        elif code == "AccessDeniedException":
            msg = (f"AWS denied access to {model} ({detail}). Enable model access in the Bedrock "
                   "console and allow bedrock:InvokeModel for these credentials.")
        elif code == "ResourceNotFoundException":
            msg = f"Bedrock model {model!r} was not found in {self._cfg.bedrock_region} ({detail})."
        elif code in _THROTTLE_CODES or status == 429:
            msg = (f"Bedrock throttled the request ({code or status}) after {attempts} attempts. "
                   "Wait a minute and try again, or raise the account quota.")
        elif code == "ValidationException" and "content filter" in detail.lower():
            msg = f"Bedrock blocked the request: {detail} Try another photo or prompt."
        elif status and status >= 500:
            msg = f"Bedrock is failing (HTTP {status} {code}) after {attempts} attempts. Try again later."
        else:
            msg = f"Bedrock rejected the request (HTTP {status} {code}): {detail}"
        return ProviderError(msg, status_code=status, provider=self.name)

    def _read_image(self, resp: dict) -> bytes:
        try:
            payload = json.loads(resp["body"].read())
        except (KeyError, ValueError):
            raise ProviderError("Bedrock sent a malformed response (not JSON). Try again later.",
                                provider=self.name) from None
        if not isinstance(payload, dict):
            raise ProviderError("Bedrock sent a malformed response (not a JSON object).",
                                provider=self.name)
        if payload.get("error"):
            raise ProviderError(f"Bedrock returned an error: {payload['error']}", provider=self.name)
        images = payload.get("images") or []
        if not images or not isinstance(images[0], str):
            raise ProviderError("Bedrock returned no image for this edit. Try another variant.",
                                provider=self.name)
        try:
            out = base64.b64decode(images[0], validate=True)
        except (binascii.Error, ValueError):
            raise ProviderError("Bedrock sent an image that is not valid base64.",
                                provider=self.name) from None
        try:
            sniff_mime(out)
        except ValueError:
            raise ProviderError("Bedrock sent bytes that are not an image.", provider=self.name) from None
        return out


def _prepare(data: bytes) -> tuple[str, tuple[int, int]]:
    """Base64 PNG within the models' input limits, and the closest valid output size."""
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        rgba = img.convert("RGBA")
    # The models reject alpha; flatten on white like the marketplace would show it.
    rgb = Image.new("RGB", rgba.size, (255, 255, 255))
    rgb.paste(rgba, mask=rgba.getchannel("A"))
    w, h = rgb.size
    scale = min(1.0, _MAX_SIDE / max(w, h))
    scale = max(scale, _MIN_SIDE / min(w, h)) if min(w, h) * scale < _MIN_SIDE else scale
    if scale != 1.0:
        w, h = max(1, round(w * scale)), max(1, round(h * scale))
        rgb = rgb.resize((min(w, _MAX_SIDE), min(h, _MAX_SIDE)), Image.LANCZOS)
    buf = io.BytesIO()
    rgb.save(buf, "PNG")
    aspect = rgb.width / rgb.height
    size = min(_SIZES, key=lambda s: abs(s[0] / s[1] - aspect))
    return base64.b64encode(buf.getvalue()).decode("ascii"), size


def _flatten_on_white(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        rgba = img.convert("RGBA")
    out = Image.new("RGB", rgba.size, (255, 255, 255))
    out.paste(rgba, mask=rgba.getchannel("A"))
    buf = io.BytesIO()
    out.save(buf, "PNG")
    return buf.getvalue()
