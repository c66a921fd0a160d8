"""Time one 12 MP photo from upload to recorded, on each backend.

    python benchmarks/upload.py            # SQLite + folder, and MariaDB + S3 (moto server) if reachable

Prints a table: backend, mode, median and min wall time over a few runs
(each run is a fresh SKU, so every one stores, enhances and records).
"""
from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from db import make_engine  # noqa: E402
from enhancer.service import Backends, EnhanceOptions, upload  # noqa: E402
from enhancer.storage import LocalStorage, S3Storage  # noqa: E402

RUNS = 5


def photo_12mp(seed: int) -> bytes:
    from skimage import data

    base = Image.fromarray(data.astronaut()).resize((4000, 3000), Image.Resampling.LANCZOS)
    arr = np.asarray(base).astype(np.int16)
    arr += np.random.default_rng(seed).normal(0, 3, arr.shape).astype(np.int16)  # sensor grain
    buf = io.BytesIO()
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def backends(tmp: Path):
    yield "sqlite + folder", make_engine(f"sqlite:///{tmp / 'bench.db'}"), LocalStorage(tmp / "storage")
    try:
        import pymysql
        from moto.server import ThreadedMotoServer

        conn = pymysql.connect(host="127.0.0.1", user="root", password="", connect_timeout=2)
        name = f"pl_bench_{uuid.uuid4().hex[:8]}"
        conn.cursor().execute(f"CREATE DATABASE `{name}`")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        st = S3Storage("bench-bucket", endpoint_url=f"http://{host}:{port}", access_key_id="x",
                       secret_access_key="x")
        st.create_bucket()
        try:
            yield "mariadb + s3 (moto)", make_engine(f"mysql+pymysql://root@127.0.0.1/{name}?charset=utf8mb4"), st
        finally:
            conn.cursor().execute(f"DROP DATABASE `{name}`")
            server.stop()
    except Exception as exc:  # the embedded figure is still useful
        print(f"(MariaDB + S3 skipped: {exc})", file=sys.stderr)


def main() -> None:
    photos = [photo_12mp(i) for i in range(RUNS)]
    print(f"12 MP JPEG, {len(photos[0]) / 1024:.0f} KB, {RUNS} runs each\n")
    print(f"{'backend':<22}{'mode':<12}{'target':>8}{'median ms':>11}{'min ms':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, engine, storage in backends(Path(tmp)):
            svc = Backends(engine, storage)
            for mode, target in (("OPTIMIZE", 500), ("AUTO", 500)):
                times = []
                for i, data in enumerate(photos):
                    t0 = time.perf_counter()
                    up(svc, data, f"p{i}.jpg", sku_id=f"{mode}-{i}-{uuid.uuid4().hex[:6]}",
                                           mode=mode, target_size_kb=target)
                    times.append((time.perf_counter() - t0) * 1000)
                print(f"{name:<22}{mode:<12}{target:>6}KB{statistics.median(times):>11.0f}{min(times):>9.0f}")
            engine.dispose()


if __name__ == "__main__":
    main()


def up(b, data, filename, *, sku_id=None, **opts):
    return upload(b, data, filename, EnhanceOptions.parse(**opts), sku_id=sku_id, actor="benchmark")
