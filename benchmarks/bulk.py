"""Bulk throughput, end to end: CSV of URLs → fetch → enhance (OPTIMIZE to 200 KB) → store → record.

Run by hand (not a test)::

    python benchmarks/bulk.py                       # SQLite + folder, workers 1 2 4, threads then 2 processes
    python benchmarks/bulk.py --backend mariadb-s3  # MariaDB on 127.0.0.1:3306 + S3 via moto's server
    python benchmarks/bulk.py --processes 2         # enhancement in 2 worker processes
    python benchmarks/bulk.py --profile             # cProfile one run, top functions by total time

Photos are 2 MP (1732x1155) from skimage.data with seeded noise, so every item
is distinct; they are served from a local ThreadingHTTPServer. Each row is a
fresh database and storage, timed from create_batches to the last record.
``cpu ms/img`` is this process's CPU time (plus its worker processes'; not moto's, which runs
in a process of its own as S3 would be remote) per
image: unlike img/min it does not move when other jobs share the machine
(``load1``), so it is the figure to compare changes by.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from enhancer.app import build_backends  # noqa: E402
from enhancer.batch import BatchRunner, create_batches  # noqa: E402
from enhancer.batch.fetch import FetchPolicy, Fetcher  # noqa: E402
from enhancer.batch.intake import manifest_bytes  # noqa: E402
from enhancer.options import EnhanceOptions  # noqa: E402
from enhancer.config import settings_from_mapping  # noqa: E402

SIZE = (1732, 1155)  # 2.0 MP
SOURCES = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry")


def make_photos(n: int) -> list[bytes]:
    from skimage import data

    bases = []
    for name in SOURCES:
        arr = getattr(data, name)()
        arr = np.stack([arr] * 3, -1) if arr.ndim == 2 else arr[..., :3]
        bases.append(np.asarray(Image.fromarray(arr).resize(SIZE, Image.Resampling.LANCZOS)))
    rng = np.random.default_rng(1234)
    out = []
    for i in range(n):
        arr = np.clip(bases[i % len(bases)].astype(np.int16) + rng.integers(-3, 4, bases[0].shape), 0, 255)
        buf = io.BytesIO()
        Image.fromarray(arr.astype(np.uint8)).save(buf, "JPEG", quality=92)
        out.append(buf.getvalue())
    return out


def serve(photos: list[bytes]) -> ThreadingHTTPServer:
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as image hosts and CDNs serve

        def log_message(self, *a):
            pass

        def do_GET(self):
            body = photos[int(self.path.rsplit("/", 1)[-1].split(".")[0])]
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


class Backend:
    """A fresh database + storage per run."""

    def __init__(self, kind: str, root: Path):
        self.kind, self.root = kind, root
        self._moto = None
        if kind == "mariadb-s3":
            # moto in its own process, as S3 is elsewhere in production: in this process
            # its request handling would compete with the workers for the GIL.
            import socket
            import subprocess

            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            self._moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.endpoint = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)

    def env(self) -> dict[str, str]:
        tag = uuid.uuid4().hex[:8]
        if self.kind == "sqlite-local":
            return {"DATABASE_URL": f"sqlite:///{self.root / tag / 'pl.db'}", "STORAGE_DIR": str(self.root / tag / "st"),
                    "PIXEL_LAB_DATA_DIR": str(self.root / tag)}
        import pymysql

        conn = pymysql.connect(host="127.0.0.1", user="root", password="")
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE pl_bench_{tag} CHARACTER SET utf8mb4")
        conn.close()
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        return {"DATABASE_URL": f"mysql+pymysql://root@127.0.0.1:3306/pl_bench_{tag}",
                "S3_BUCKET": f"pl-bench-{tag}", "S3_ENDPOINT_URL": self.endpoint, "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "PIXEL_LAB_DATA_DIR": str(self.root / tag)}

    def cleanup(self, env: dict[str, str]) -> None:
        if self.kind == "mariadb-s3":
            import pymysql

            conn = pymysql.connect(host="127.0.0.1", user="root", password="")
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {env['DATABASE_URL'].rsplit('/', 1)[1]}")
            conn.close()

    def close(self) -> None:
        if self._moto:
            self._moto.terminate()
            self._moto.wait(10)


def run_once(backend: Backend, manifest: Path, *, workers: int, processes: int, profile: bool = False,
             setup=None) -> dict:
    env = backend.env()
    settings = settings_from_mapping({**env, "PIXEL_LAB_ALLOW_PRIVATE_URLS": "1"})
    svc = build_backends(settings)
    if settings.storage_kind == "s3":
        svc.storage.create_bucket()
    runner = BatchRunner(svc, workers=workers, processes=processes, settings=settings, poll_s=0.5,
                         process_setup=setup,
                         fetcher=Fetcher(FetchPolicy(allow_private=True), pool_size=workers))
    profiles: list[cProfile.Profile] = []
    if profile:  # cProfile sees one thread only, so profile each item's work on its worker thread
        one = runner._one

        def profiled(*a):
            p = cProfile.Profile()
            p.enable()
            try:
                return one(*a)
            finally:
                p.disable()
                profiles.append(p)

        runner._one = profiled
    t0, cpu0, kids0 = time.perf_counter(), time.process_time(), _children_cpu()
    ids = create_batches(svc, manifest, options=EnhanceOptions.parse(mode="OPTIMIZE", target_size_kb=200), name="bench")
    sms = [runner.run(i) for i in ids]
    elapsed = time.perf_counter() - t0
    runner.close()  # waits for worker processes, so their CPU time is counted below
    parent, kids = time.process_time() - cpu0, _children_cpu() - kids0
    svc.engine.dispose()
    backend.cleanup(env)
    done = sum(s.completed for s in sms)
    failed = sum(s.failed for s in sms)
    if profiles:
        st = pstats.Stats(profiles[0])
        for p in profiles[1:]:
            st.add(p)
        st.sort_stats("tottime").print_stats(25)
    return {"done": done, "failed": failed, "elapsed": elapsed, "ipm": done / elapsed * 60,
            "cpu_ms": (parent + kids) / max(done, 1) * 1000, "parent_ms": parent / max(done, 1) * 1000}


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=("sqlite-local", "mariadb-s3", "both"), default="sqlite-local")
    ap.add_argument("--images", type=int, default=600, help="600: worker-process start-up is amortised as in a real batch")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--processes", type=int, nargs="+", default=[0, 2],
                    help="0 = threads only; N = enhancement in N worker processes (the CLI's default: one per CPU)")
    ap.add_argument("--profile", action="store_true", help="cProfile the first configuration only")
    args = ap.parse_args(argv)

    print(f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.1f}", file=sys.stderr)
    print(f"making {args.images} distinct {SIZE[0]}x{SIZE[1]} photos…", file=sys.stderr)
    photos = make_photos(args.images)
    srv = serve(photos)
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    backends = ("sqlite-local", "mariadb-s3") if args.backend == "both" else (args.backend,)
    print(f"\n{'backend':<13} {'workers':>7} {'procs':>5} {'images':>6} {'failed':>6} {'seconds':>8} {'img/min':>8} "
          f"{'load1':>6} {'cpu ms/img':>10} {'of which parent':>15}")
    with tempfile.TemporaryDirectory(prefix="pl-bench-") as tmp:
        root = Path(tmp)
        manifest = root / "manifest.csv"
        manifest.write_bytes(manifest_bytes([{"sku_id": f"B-{i:05d}", "image_url": f"{base}/img/{i}.jpg"}
                                             for i in range(args.images)]))
        for kind in backends:
            be = Backend(kind, root)
            try:
                for procs in args.processes:
                    for w in args.workers:
                        r = run_once(be, manifest, workers=w, processes=procs, profile=args.profile)
                        print(f"{kind:<13} {w:>7} {procs:>5} {r['done']:>6} {r['failed']:>6} "
                              f"{r['elapsed']:>8.1f} {r['ipm']:>8.0f} {os.getloadavg()[0]:>6.1f} {r['cpu_ms']:>10.0f} {r['parent_ms']:>15.0f}", flush=True)
                        if args.profile:
                            return 0
            finally:
                be.close()
    srv.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
