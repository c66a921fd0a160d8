"""``celery -A crashing_worker worker``: the real worker app, except that a photo whose SKU starts with CRASH
kills the pool process enhancing it (as an out-of-memory kill would), every time it is tried."""
import os
import signal

import enhancer.batch.items as items
from enhancer.worker import app  # noqa: F401  (what ``celery -A`` looks for)

_upload = items.upload


def _crashing_upload(b, data, filename, opts, **kw):
    if str(kw.get("sku_id") or "").startswith("CRASH"):
        os.kill(os.getpid(), signal.SIGKILL)
    return _upload(b, data, filename, opts, **kw)


items.upload = _crashing_upload
