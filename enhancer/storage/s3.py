"""S3 storage (AWS, MinIO, R2, moto): private objects, SSE-S3, SigV4 presigned reads."""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import (BotoCoreError, ClientError, ConnectionClosedError, ConnectTimeoutError,
                                 EndpointConnectionError, HTTPClientError, ReadTimeoutError)
from botocore.exceptions import ConnectionError as BotoConnectionError

from ..errors import NotFoundError, StorageError
from .base import StoredObject, validate_key

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_BUSY = {"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "RequestTimeTooSkewed", "503", "500"}


class S3Storage:
    """Objects in one S3 bucket.

    Every call is bounded: ``connect_timeout_s`` to open a connection,
    ``read_timeout_s`` for each wait on the server, and ``max_attempts`` tries in
    all (botocore's standard retry mode: throttling, 5xx and connection errors,
    with jittered backoff). A store that stops answering fails the call after
    about ``max_attempts * read_timeout_s`` instead of hanging it.
    """

    kind = "s3"

    def __init__(self, bucket: str, *, region: str = "us-east-1", endpoint_url: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None,
                 cloudfront_domain: str | None = None, client=None, connect_timeout_s: float = 5,
                 read_timeout_s: float = 20, max_attempts: int = 3):
        self.bucket = bucket
        self.region = region
        self.endpoint_url = endpoint_url
        self.cloudfront_domain = cloudfront_domain
        self.timeouts = (connect_timeout_s, read_timeout_s, max_attempts)
        self.client = client or boto3.client(
            "s3", region_name=region, endpoint_url=endpoint_url,
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
            config=Config(signature_version="s3v4",
                          retries={"total_max_attempts": max(1, max_attempts), "mode": "standard"},
                          connect_timeout=connect_timeout_s, read_timeout=read_timeout_s, tcp_keepalive=True,
                          s3={"addressing_style": "path" if endpoint_url else "auto"},
                          max_pool_connections=32))

    def _fail(self, action: str, key: str, exc: Exception) -> StorageError:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
        hint = {"NoSuchBucket": f"the bucket {self.bucket} does not exist (run `python -m enhancer create-bucket`)",
                "AccessDenied": "access denied: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket policy",
                "InvalidAccessKeyId": "the AWS access key was rejected",
                "SignatureDoesNotMatch": "the AWS secret key was rejected"}.get(code) or self._network(exc) or str(exc)
        err = StorageError(f"Could not {action} s3://{self.bucket}/{key}: {hint}")
        # worth another try later: the network, or S3 saying it is busy (botocore already retried)
        err.transient = (self._network(exc) is not None or code in _BUSY or str(getattr(exc, "response", {}).get("ResponseMetadata", {})
                                                 .get("HTTPStatusCode", "")).startswith("5"))
        return err

    def _network(self, exc: Exception) -> str | None:
        connect_s, read_s, attempts = self.timeouts
        where = self.endpoint_url or f"S3 ({self.region})"
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        if isinstance(exc, ConnectTimeoutError):
            return f"S3 unreachable at {where}: connect timed out after {connect_s:g} s{tries}"
        if isinstance(exc, ReadTimeoutError):
            return f"S3 at {where} stopped answering: timed out after {read_s:g} s{tries}"
        if isinstance(exc, (EndpointConnectionError, ConnectionClosedError, BotoConnectionError, HTTPClientError)):
            return f"S3 unreachable at {where}: {exc.__class__.__name__}{tries}"
        return None

    def put(self, key: str, data: bytes, *, content_type: str) -> str:
        validate_key(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type,
                                   ServerSideEncryption="AES256", CacheControl="max-age=31536000")
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("write", key, exc) from exc
        return self.uri(key)

    def get(self, key: str) -> bytes:
        validate_key(key)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _NOT_FOUND:
                raise NotFoundError(f"No stored object {key}") from None
            raise self._fail("read", key, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("read", key, exc) from exc

    def delete(self, key: str) -> None:
        validate_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("delete", key, exc) from exc

    def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _NOT_FOUND:
                return False
            raise self._fail("check", key, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("check", key, exc) from exc

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def public_url(self, key: str) -> str:
        k = quote(key)
        if self.cloudfront_domain:
            return f"https://{self.cloudfront_domain}/{k}"
        if self.endpoint_url:
            return f"{self.endpoint_url.rstrip('/')}/{self.bucket}/{k}"
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{k}"

    def url(self, key: str, *, expires_s: int = 3600, download_name: str | None = None) -> str:
        params = {"Bucket": self.bucket, "Key": validate_key(key)}
        if download_name:
            safe = download_name.replace('"', "")
            params["ResponseContentDisposition"] = f'attachment; filename="{safe}"'
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s)

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        """Objects whose key starts with ``prefix``, in key order, a page (1000) at a time."""
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for o in page.get("Contents", ()):
                    yield StoredObject(o["Key"], int(o["Size"]), o["LastModified"])
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("list", prefix, exc) from exc

    def check(self) -> str:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("reach", "", exc) from exc
        return f"s3://{self.bucket} ({self.endpoint_url or self.region})"

    def create_bucket(self) -> bool:
        """Create the bucket (private, default SSE-S3). Returns False if it already existed."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return False
        except ClientError:
            pass
        try:
            kw = {}
            if self.region != "us-east-1":
                kw["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            self.client.create_bucket(Bucket=self.bucket, **kw)
            self.client.put_public_access_block(Bucket=self.bucket, PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True,
                "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
            self.client.put_bucket_encryption(Bucket=self.bucket, ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("create", "", exc) from exc
        return True
