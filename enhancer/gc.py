"""The reconciler: make the object store and the database agree again after crashes and outages.

Objects are written before the row that names them commits, and cleanup after
a failure is best effort, so a kill or an S3/database outage between the two
leaves objects no row references; a lost write or a manual delete leaves rows
whose files are gone. :func:`reconcile` finds both:

- an object under ``prefix`` that no row references and that is older than the
  grace period is deleted (younger ones may belong to an upload in flight);
- a ``COMPLETED`` image whose original, enhanced or thumbnail object is missing
  is marked ``FAILED`` with the missing key in ``error_message``;
- a ``PENDING``/``PROCESSING`` image untouched for longer than the grace period
  (its process died) is marked ``FAILED`` as interrupted;
- photos staged for workers (``batch-sources/<batch>/``) whose batch no longer
  exists, older than the grace period, are deleted (a batch delete that could
  not remove them, or a submit that died after staging).

Referenced keys are read with plain SQL from every ``*_key`` column of every
table, so a new table or key column is honoured without changing this module
(a column that holds something other than storage keys only keeps more).
Order matters for safety: the store is listed first, then the references are
read, and every deletion candidate is checked against the database again just
before it goes; a row is only marked after ``exists`` confirms the object is
gone, and only if it still names that key.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, String, bindparam, inspect, text

from .errors import EnhancerError, NotFoundError
from .service.keys import STAGED_ROOT
from .storage.base import Storage

log = logging.getLogger("enhancer.gc")
IMAGE_KEY_COLUMNS = ("original_key", "enhanced_key", "thumbnail_key")
_CHUNK = 500


@dataclass
class GcReport:
    """What one pass found and did (``dry_run``: what it would do)."""

    dry_run: bool
    objects_seen: int = 0
    kept_young: int = 0                                           # unreferenced but inside the grace period
    orphans_deleted: list[str] = field(default_factory=list)      # keys
    delete_errors: list[str] = field(default_factory=list)        # "key: reason"
    images_failed: list[tuple[str, str]] = field(default_factory=list)      # (image id, missing key)
    images_interrupted: list[str] = field(default_factory=list)   # ids of stale PENDING/PROCESSING images
    history_missing: list[tuple[str, str]] = field(default_factory=list)    # (history id, missing key), reported

    def to_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        """Human-readable lines for the CLI: one summary, then one per action."""
        verb = "would delete" if self.dry_run else "deleted"
        mark = "would mark" if self.dry_run else "marked"
        out = [f"gc{' (dry run)' if self.dry_run else ''}: {self.objects_seen} objects seen, "
               f"{verb} {len(self.orphans_deleted)} orphan(s), kept {self.kept_young} inside the grace period, "
               f"{mark} {len(self.images_failed)} image(s) FAILED for missing files and "
               f"{len(self.images_interrupted)} as interrupted"]
        out += [f"  {verb} orphan {k}" for k in self.orphans_deleted]
        out += [f"  could not delete {e}" for e in self.delete_errors]
        out += [f"  {mark} image {i} FAILED: missing {k}" for i, k in self.images_failed]
        out += [f"  {mark} image {i} FAILED: interrupted" for i in self.images_interrupted]
        out += [f"  history row {h} names missing {k} (left as is)" for h, k in self.history_missing]
        return out


def reconcile(engine: Engine, storage: Storage, *, grace_s: float = 3600, dry_run: bool = False,
              now: datetime | None = None, prefix: str = "uploads/") -> GcReport:
    """Delete old unreferenced objects and mark images whose objects are missing; see the module doc.

    Parameters
    ----------
    engine : Engine
        A migrated database.
    storage : Storage
        The object store the rows point into.
    grace_s : float
        Only objects and unfinished rows older than this are touched: an upload in
        flight stores its objects before its row commits.
    dry_run : bool
        Report what would be done, change nothing.
    now : datetime, optional
        The current time (aware, or naive UTC); for tests.
    prefix : str
        Only objects under this prefix are considered (keep it: a shared bucket
        holds other people's objects, which no row here references).

    Raises
    ------
    ValueError
        A negative grace period.
    StorageError, sqlalchemy.exc.SQLAlchemyError
        The store could not be listed or the database read (nothing was changed).
    """
    if grace_s < 0:
        raise ValueError(f"grace_s must be >= 0 seconds, got {grace_s}")
    now = _aware(now or datetime.now(timezone.utc))
    cutoff = now - timedelta(seconds=grace_s)
    report = GcReport(dry_run=dry_run)

    listed: dict[str, datetime] = {}
    for obj in storage.list(prefix):  # first the store, then the rows (see the module doc)
        listed[obj.key] = _aware(obj.last_modified)
    report.objects_seen = len(listed)
    columns = _key_columns(engine)
    referenced = _referenced(engine, columns)

    old = [k for k, when in listed.items() if k not in referenced and when < cutoff]
    report.kept_young = sum(1 for k, when in listed.items() if k not in referenced and when >= cutoff)
    still = _referenced(engine, columns, only=old)  # committed since the first read: keep
    _delete_orphans(storage, [k for k in old if k not in still], report, dry_run=dry_run)

    _orphan_sources(engine, storage, cutoff, report, dry_run=dry_run)
    _missing_images(engine, storage, listed, prefix, report, dry_run=dry_run, now=now)
    _interrupted_images(engine, cutoff, report, dry_run=dry_run, now=now)
    _missing_history(engine, storage, listed, prefix, report)
    for line in report.lines():
        log.info("[GC] %s", line.strip())
    return report


def start_periodic(engine: Engine, storage: Storage, *, stop: threading.Event, every_s: float = 3600.0,
                   grace_s: float = 3600.0) -> threading.Thread:
    """Run :func:`reconcile` now and then every ``every_s`` seconds in a daemon thread, until ``stop`` is set.

    For long-lived workers (the dashboard, a batch worker). A pass that fails
    (database or store down) is logged in one line and tried again next time.
    """
    def loop() -> None:
        while not stop.is_set():
            try:
                reconcile(engine, storage, grace_s=grace_s)
            except Exception as exc:  # an outage: the next pass will do it
                log.warning("[GC] pass failed: %s: %s", exc.__class__.__name__, str(exc).splitlines()[0][:300])
            stop.wait(every_s)

    t = threading.Thread(target=loop, daemon=True, name="pixel-lab-gc")
    t.start()
    return t


# -- references ------------------------------------------------------------------------------

def _key_columns(engine: Engine) -> list[tuple[str, str]]:
    insp = inspect(engine)
    out = []
    for table in insp.get_table_names():
        for col in insp.get_columns(table):
            if col["name"].endswith("_key") and isinstance(col["type"], String):
                out.append((table, col["name"]))
    return out


def _referenced(engine: Engine, columns: list[tuple[str, str]], *, only: list[str] | None = None) -> set[str]:
    """Every key named by a row; with ``only``, just which of those keys are named now."""
    found: set[str] = set()
    if only is not None and not only:
        return found
    with engine.connect() as conn:
        prep = engine.dialect.identifier_preparer
        for table, col in columns:
            t, c = prep.quote(table), prep.quote(col)
            if only is None:
                found.update(k for (k,) in conn.execute(text(f"SELECT {c} FROM {t} WHERE {c} IS NOT NULL")) if k)
                continue
            q = text(f"SELECT {c} FROM {t} WHERE {c} IN :keys").bindparams(bindparam("keys", expanding=True))
            for i in range(0, len(only), _CHUNK):
                found.update(k for (k,) in conn.execute(q, {"keys": only[i:i + _CHUNK]}))
    return found


def _orphan_sources(engine: Engine, storage: Storage, cutoff: datetime, report: GcReport, *,
                    dry_run: bool) -> None:
    """Staged batch sources whose batch row is gone (checked again just before each batch's objects go)."""
    by_batch: dict[str, list[str]] = {}
    for obj in storage.list(STAGED_ROOT):
        report.objects_seen += 1
        bid = obj.key[len(STAGED_ROOT):].split("/", 1)[0]
        if _aware(obj.last_modified) < cutoff:
            by_batch.setdefault(bid, []).append(obj.key)
        else:
            report.kept_young += 1
    if not by_batch:
        return
    q = text("SELECT id FROM batches WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
    ids = sorted(by_batch)
    with engine.connect() as conn:
        alive = {r[0] for i in range(0, len(ids), _CHUNK) for r in conn.execute(q, {"ids": ids[i:i + _CHUNK]})}
    _delete_orphans(storage, [k for bid in ids if bid not in alive for k in by_batch[bid]], report,
                    dry_run=dry_run)


def _delete_orphans(storage: Storage, keys: list[str], report: GcReport, *, dry_run: bool) -> None:
    for key in keys:
        if not dry_run:
            try:
                storage.delete(key)
            except EnhancerError as exc:
                report.delete_errors.append(f"{key}: {exc}")
                continue
        report.orphans_deleted.append(key)


# -- rows whose objects are gone -------------------------------------------------------------

def _gone(storage: Storage, listed: dict[str, datetime], prefix: str, key: str | None) -> bool:
    """Is ``key`` missing? The listing answers first; ``exists`` confirms (it may have been written since)."""
    if not key or (key.startswith(prefix) and key in listed):
        return False
    try:
        return not storage.exists(key)
    except (ValueError, NotFoundError):  # a key the store refuses cannot be read either
        return True


def _missing_images(engine, storage, listed, prefix, report: GcReport, *, dry_run: bool, now: datetime) -> None:
    cols = ", ".join(IMAGE_KEY_COLUMNS)
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, {cols} FROM product_images WHERE status = 'COMPLETED'")).all()
    for row in rows:
        for col, key in zip(IMAGE_KEY_COLUMNS, row[1:]):
            if not _gone(storage, listed, prefix, key):
                continue
            if not dry_run:
                with engine.begin() as conn:  # only if it still names that key and is still COMPLETED
                    n = conn.execute(text(
                        f"UPDATE product_images SET status = 'FAILED', error_message = :msg, updated_at = :now "
                        f"WHERE id = :id AND status = 'COMPLETED' AND {col} = :key"),
                        {"msg": f"reconciler: stored object {key} ({col}) is missing", "now": _naive(now),
                         "id": row[0], "key": key}).rowcount
                if not n:
                    break
            report.images_failed.append((row[0], key))
            break


def _interrupted_images(engine, cutoff: datetime, report: GcReport, *, dry_run: bool, now: datetime) -> None:
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text(
            "SELECT id FROM product_images WHERE status IN ('PENDING', 'PROCESSING') AND updated_at < :cutoff"),
            {"cutoff": _naive(cutoff)})]
    for image_id in ids:
        if not dry_run:
            with engine.begin() as conn:
                n = conn.execute(text(
                    "UPDATE product_images SET status = 'FAILED', error_message = :msg, updated_at = :now "
                    "WHERE id = :id AND status IN ('PENDING', 'PROCESSING') AND updated_at < :cutoff"),
                    {"msg": "reconciler: interrupted (still processing after the grace period; its process "
                            "stopped); upload it again", "now": _naive(now), "id": image_id,
                     "cutoff": _naive(cutoff)}).rowcount
            if not n:
                continue
        report.images_interrupted.append(image_id)


def _missing_history(engine, storage, listed, prefix, report: GcReport) -> None:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, enhanced_key, thumbnail_key FROM enhancement_history")).all()
    for hid, *keys in rows:
        for key in keys:
            if _gone(storage, listed, prefix, key):
                report.history_missing.append((hid, key))


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _naive(t: datetime) -> datetime:
    return t.astimezone(timezone.utc).replace(tzinfo=None)
