"""The message broker (RabbitMQ, Redis or SQS) as Celery sees it: one configuration for workers and producers.

The broker only carries "process item X" messages; the database is the one
record of state (no result backend). Delivery is at least once: a message is
acknowledged after its task ran (``acks_late``), requeued when the worker
process running it dies (``task_reject_on_worker_lost``), and each worker holds
one message per process (prefetch 1). The database claim in
:mod:`enhancer.batch.items` turns that into exactly once in effect.

The traps, and what this configuration does about them:

- RabbitMQ closes a channel whose delivery stays unacknowledged past its
  ``consumer_timeout`` (30 min by default) and requeues the message: the hard
  task time limit (``TASK_TIME_LIMIT``, 600 s) stays well under it.
- Redis and SQS hand an unacknowledged message to another worker after the
  visibility timeout: ``BROKER_VISIBILITY_TIMEOUT`` (at least twice the time
  limit, 1 h by default) is validated to be longer than the time limit.
- Redis must not evict keys (``maxmemory-policy noeviction``), or queued and
  unacknowledged messages vanish: :func:`broker_notes` reports the policy.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, urlsplit

from .batch.errors import BrokerError
from .config import Settings, mask_url

log = logging.getLogger("enhancer.broker")
ITEM_TASK = "pixel_lab.item"


def broker_url(settings: Settings) -> str:
    """The URL Celery connects to; for SQS through ``SQS_ENDPOINT_URL`` the endpoint and keys go in it."""
    url = settings.broker_url or ""
    if settings.broker_kind == "sqs" and settings.sqs_endpoint_url and url.rstrip("/") == "sqs:":
        # kombu builds the SQS endpoint from the URL's host and port (``is_secure`` picks the scheme).
        host = urlsplit(settings.sqs_endpoint_url).netloc
        cred = ""
        if settings.aws_access_key_id and settings.aws_secret_access_key:
            key, secret = settings.aws_access_key_id, settings.aws_secret_access_key
            cred = f"{quote(key, safe='')}:{quote(secret, safe='')}@"
        url = f"sqs://{cred}{host}"
    return url


def celery_config(settings: Settings) -> dict:
    """Celery settings from ours (see the module docstring for why each matters)."""
    if not settings.broker_url:
        raise BrokerError("BROKER_URL is not set: batches run on the local process pool, not on workers")
    limit = settings.task_time_limit_s
    transport: dict = {}
    kind = settings.broker_kind
    if kind in ("redis", "sqs"):
        transport["visibility_timeout"] = settings.broker_visibility_timeout_s
    if kind == "redis":
        transport.update(socket_connect_timeout=5, socket_timeout=30)
    if kind == "sqs":
        transport.update(region=settings.aws_region, wait_time_seconds=1, polling_interval=0.2)
        if settings.sqs_endpoint_url:
            transport["is_secure"] = settings.sqs_endpoint_url.startswith("https://")
    return dict(
        broker_url=broker_url(settings),
        broker_transport_options=transport,
        broker_connection_timeout=4,
        broker_connection_retry_on_startup=True,
        broker_heartbeat=30 if kind == "rabbitmq" else None,
        task_default_queue=settings.broker_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_time_limit=limit,
        task_soft_time_limit=max(5, limit - max(5, limit // 10)),
        task_ignore_result=True,
        result_backend=None,
        task_serializer="json",
        accept_content=["json"],
        # a lost broker connection means the unacknowledged message goes back to the queue: stop the
        # task instead of finishing it twice (the claim would refuse the second run anyway)
        worker_cancel_long_running_tasks_on_connection_loss=True,
        worker_send_task_events=False,
        task_send_sent_event=False,
        # a publish to a broker that is down fails in about a second instead of hanging the caller
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5,
                                   "interval_max": 1.0},
        # SQS has no broadcast: workers are listed from their heartbeats in the database instead
        worker_enable_remote_control=kind != "sqs",
    )


def make_app(settings: Settings, *, main: str = "pixel_lab"):
    """A Celery app configured for ``settings`` (no tasks registered: producers publish by name)."""
    from celery import Celery

    app = Celery(main, set_as_current=False)
    app.conf.update(celery_config(settings))
    return app


@lru_cache(maxsize=8)
def producer_app(settings: Settings):
    """One app per configuration per process, reused (it holds the producer connection pool)."""
    return make_app(settings, main="pixel_lab_producer")


def ping(settings: Settings, *, timeout: float = 3.0) -> str:
    """Connect to the broker once; BrokerError saying what to do when it cannot be reached."""
    app = producer_app(settings)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
            # SQS "connects" lazily: list the queue to prove the endpoint and keys work
            if settings.broker_kind == "sqs":
                with conn.channel() as ch:
                    ch.sqs().list_queues(QueueNamePrefix=settings.broker_queue)
    except Exception as exc:
        raise BrokerError(f"broker {mask_url(settings.broker_url)} unreachable "
                          f"({exc.__class__.__name__}: {str(exc)[:200]}); start it or fix BROKER_URL"
                          ) from None
    return f"{settings.broker_kind} at {mask_url(settings.broker_url)} reachable"


def publish(settings: Settings, batch_id: str, item_ids: Iterable[str], *, app=None) -> int:
    """Put one message per item of a batch on the queue; BrokerError when the broker refuses or is gone."""
    app = app or producer_app(settings)
    n = 0
    try:
        with app.producer_or_acquire() as producer:
            for item_id in item_ids:
                app.send_task(ITEM_TASK, args=[item_id, batch_id], queue=settings.broker_queue,
                              task_id=str(uuid.uuid4()), producer=producer, ignore_result=True)
                n += 1
    except Exception as exc:
        raise BrokerError(f"could not queue work on {mask_url(settings.broker_url)} after {n} message(s): "
                          f"{exc.__class__.__name__}: {str(exc)[:200]}") from None
    return n


def queue_depth(settings: Settings) -> int | None:
    """Messages waiting in the queue (not those a worker holds); None when the broker cannot say."""
    app = producer_app(settings)
    try:
        with app.connection_for_write() as conn, conn.channel() as ch:
            if settings.broker_kind == "rabbitmq":
                return int(ch.queue_declare(queue=settings.broker_queue, passive=True).message_count)
            # kombu's virtual transports (Redis lists, SQS attributes): a passive declare of an empty
            # Redis queue says "not found", so ask the transport for the size itself
            return int(ch._size(settings.broker_queue))
    except Exception as exc:  # no queue yet (nothing published) or broker down
        log.debug("queue depth unavailable: %s", exc)
        return None


def workers_answering(settings: Settings, *, timeout: float = 1.0) -> int | None:
    """How many workers answer a broadcast ping (None on SQS, which has no broadcast)."""
    if settings.broker_kind == "sqs":
        return None
    try:
        return len(producer_app(settings).control.ping(timeout=timeout) or [])
    except Exception as exc:
        log.debug("ping failed: %s", exc)
        return 0


def broker_notes(settings: Settings) -> list[str]:
    """Warnings about the broker's own configuration (Redis eviction policy)."""
    if settings.broker_kind != "redis":
        return []
    try:
        import redis

        r = redis.Redis.from_url(settings.broker_url, socket_connect_timeout=3, socket_timeout=3)
        policy = (r.config_get("maxmemory-policy") or {}).get("maxmemory-policy")
    except Exception:  # CONFIG may be disabled on managed Redis
        return []
    if policy and policy != "noeviction":
        return [f"Redis maxmemory-policy is {policy}: set noeviction, or queued work can be evicted"]
    return []
