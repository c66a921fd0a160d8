"""The REST API against a real server on loopback (``streamlit run streamlit_app.py``, SQLite + folder).

    python benchmarks/api.py                      # all of it (about 10 minutes on 2 cores)
    python benchmarks/api.py --uploads 200        # fewer uploads for the memory line
    python benchmarks/api.py --server uvicorn     # the standalone app instead
    python benchmarks/api.py --listing-only       # only GET /images on 100 000 rows, by offset and by cursor

Prints one table:
- POST /enhance/upload of a 2 MP photo (AUTO): p50/p95 end to end (429s retried after Retry-After) and
  photos/s at 1, 4 and 16 concurrent clients;
- throughput against the CLI (``python -m enhancer enhance --force``) on the same photos, start-up excluded
  (goal: the API at least 90 % of the CLI);
- GET /images p50 on 100 000 rows (goal: 50 ms or less), first page, a filtered page and a deep page;
- 32 concurrent clients: no 5xx and no lost upload;
- the server's resident memory along ``--uploads`` uploads (goal: flat).

Every upload has a new SKU and ``force``, so each one enhances (nothing is reused).
"""
from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from api_server import ApiServer  # noqa: E402  (tests/api_server.py: the test suite's server helper)

POOL = 12  # distinct photos (uploads cycle through them with force and new SKUs)


def photos(n: int) -> list[bytes]:
    from skimage import data

    out = []
    for i in range(n):
        base = (data.astronaut(), data.chelsea(), data.coffee())[i % 3]
        img = Image.fromarray(base).resize((1632, 1224), Image.Resampling.LANCZOS)  # 2.0 MP
        arr = np.asarray(img).astype(np.int16) + np.random.default_rng(i).normal(0, 3, (1224, 1632, 3))
        buf = io.BytesIO()
        Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


class Client:
    """Upload clients: one HTTP session per thread; each upload carries an Idempotency-Key (its SKU), so a
    connection reset (a keep-alive connection closed by the server as it was reused) is retried safely."""

    def __init__(self, server: ApiServer, data: list[bytes]):
        self.server, self.data = server, data
        self.lock = threading.Lock()
        self.local = threading.local()
        self.n = 0
        self.status: dict[int | str, int] = {}
        self.accepted: list[str] = []

    def _count(self, what) -> None:
        with self.lock:
            self.status[what] = self.status.get(what, 0) + 1

    def upload(self, tag: str) -> float:
        """One upload to the end (retrying 429s as told); its wall time."""
        import requests

        http = getattr(self.local, "http", None) or requests.Session()
        self.local.http = http
        with self.lock:
            i = self.n
            self.n += 1
        sku = f"{tag}-{i}"
        headers = {"Authorization": f"Bearer {self.server.keys['operator']}", "Idempotency-Key": sku}
        t0 = time.perf_counter()
        while True:
            try:
                r = http.post(f"{self.server.url}/api/v1/enhance/upload", headers=headers, timeout=600,
                              files={"file": (f"{sku}.jpg", self.data[i % len(self.data)], "image/jpeg")},
                              data={"sku_id": sku, "force": "true", "mode": "AUTO"})
            except requests.ConnectionError:
                self._count("reset")
                time.sleep(0.2)
                continue
            self._count(r.status_code)
            if r.status_code not in (429, 409):  # 409: the first try with this key is still running
                break
            time.sleep(float(r.headers.get("Retry-After", "1")))
        if r.status_code == 200:
            with self.lock:
                self.accepted.append(sku)
        return time.perf_counter() - t0


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def concurrent(client: Client, clients: int, per_client: int, tag: str) -> tuple[list[float], float]:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as ex:
        lat = list(ex.map(lambda _: client.upload(tag), range(clients * per_client)))
    return lat, time.perf_counter() - t0


def cli_rate(server: ApiServer, data: list[bytes], tmp: Path, n: int) -> float:
    """Photos per second of ``python -m enhancer enhance --force`` (one process), start-up excluded."""
    files = []
    for i in range(n + 1):
        p = tmp / "cli" / f"CLI-{i}.jpg"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(data[i % len(data)])
        files.append(str(p))

    def run(paths):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "enhancer", "enhance", "--force", "--mode", "AUTO", *paths],
                       cwd=ROOT, env=server.env, check=True, capture_output=True)
        return time.perf_counter() - t0

    one = min(run(files[:1]), run(files[:1]))  # start-up + 1 photo (the lower of two: a loaded machine)
    many = run(files[1:])  # start-up + n photos
    return (n - 1) / max(many - one, 1e-6)


def seed_rows(server: ApiServer, n: int = 100_000) -> None:
    """``n`` image rows (and their products) straight into the server's database, like tests/dashboard."""
    from sqlalchemy import insert

    from db import make_engine
    from db.models import ImageStatus, Product, ProductImage, ReviewStatus

    engine = make_engine(server.env["DATABASE_URL"])
    t0 = datetime(2026, 1, 1)
    with engine.begin() as c:
        for start in range(0, n, 10_000):
            rows = [{"id": f"{i:08d}-0000-0000-0000-000000000000",
                     "product_id": f"{i:08d}-0000-0000-0000-000000000000", "sku_id": f"SEED{i:06d}",
                     "position": 1, "is_main": True, "original_filename": f"photo_{i:06d}.jpg",
                     "status": ImageStatus.COMPLETED if i % 50 else ImageStatus.FAILED,
                     "review_status": ReviewStatus.APPROVED, "enhancement_mode": "AUTO",
                     "created_at": t0 + timedelta(seconds=i), "updated_at": t0}
                    for i in range(start, min(n, start + 10_000))]
            c.execute(insert(Product), [{"id": r["id"], "sku_id": r["sku_id"], "created_at": r["created_at"],
                                         "updated_at": t0, "status": "approved"} for r in rows])
            c.execute(insert(ProductImage), rows)
    engine.dispose()


def list_p50(server: ApiServer, params: dict, n: int = 40) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = server.call("GET", "/images", "viewer", params=params)
        times.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.text
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", choices=("streamlit", "uvicorn"), default="streamlit")
    ap.add_argument("--uploads", type=int, default=500, help="uploads for the memory line")
    ap.add_argument("--per-client", type=int, default=3, help="uploads per client in the latency runs")
    ap.add_argument("--listing-only", action="store_true", help="only the GET /images rows (about a minute)")
    args = ap.parse_args()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env = {"DATABASE_URL": f"sqlite:///{tmp / 'api.db'}", "STORAGE_DIR": str(tmp / "storage"),
               "PIXEL_LAB_DATA_DIR": str(tmp / "data")}
        server = ApiServer(args.server, env, tmp)
        try:
            server.keys["operator"] = server.cli("api-key", "create", "--name", "bench", "--role", "operator")["key"]
            server.keys["viewer"] = server.cli("api-key", "create", "--name", "bench-v", "--role", "viewer")["key"]
            if not args.listing_only:
                uploads(server, args, rows, tmp)
            listing(server, rows)
        finally:
            server.stop()
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    print(f"API benchmark ({args.server} server, SQLite + folder, API_WORKERS = cores)")
    for r in rows:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)))


def uploads(server: ApiServer, args, rows: list, tmp: Path) -> None:
    data = photos(POOL)
    client = Client(server, data)
    client.upload("WARM")
    rates = {}
    for clients in (1, 4, 16):
        lat, wall = concurrent(client, clients, args.per_client, f"C{clients}")
        rates[clients] = len(lat) / wall
        rows.append((f"upload 2 MP, {clients} client(s)",
                     f"p50 {statistics.median(lat) * 1000:.0f} ms, p95 {pct(lat, 95) * 1000:.0f} ms",
                     f"{rates[clients]:.2f} photos/s over {len(lat)}"))
    cli = cli_rate(server, data, tmp, 4 * args.per_client)
    best = max(rates.values())
    rows.append(("throughput vs CLI", f"API {best:.2f} / CLI {cli:.2f} photos/s",
                 f"{best / cli * 100:.0f} % (goal >= 90 %)"))

    before = dict(client.status)
    lat, wall = concurrent(client, 32, 2, "C32")
    codes = {k: v - before.get(k, 0) for k, v in client.status.items() if v - before.get(k, 0)}
    sent = [s for s in client.accepted if s.startswith("C32-")]
    lost = 64 - len(sent) + sum(
        1 for sku in sent
        if server.call("GET", "/images", "viewer", params={"sku_id": sku}).json()["total"] != 1)
    fivexx = sum(v for k, v in codes.items() if isinstance(k, int) and k >= 500)
    rows.append(("32 clients x 2 uploads", ", ".join(f"{k}: {v}" for k, v in codes.items()),
                 f"5xx {fivexx}, lost {lost} (goal 0, 0)"))

    rss = [(client.n, server.rss_kb())]
    step = max(1, args.uploads // 5)
    done = 0
    while done < args.uploads:
        k = min(step, args.uploads - done)
        concurrent(client, 4, max(1, k // 4), "MEM")
        done += 4 * max(1, k // 4)
        rss.append((client.n, server.rss_kb()))
    rows.append((f"server RSS over {done} more uploads",
                 " → ".join(f"{kb / 1024:.0f}" for _, kb in rss) + " MB",
                 f"after {rss[0][0]} → {rss[-1][0]} uploads"))


def listing(server: ApiServer, rows: list) -> None:
    seed_rows(server)
    rows.append(("GET /images?limit=50 on 100k rows", f"p50 {list_p50(server, {'limit': 50}):.1f} ms",
                 "goal <= 50 ms"))
    deep = {"limit": 50, "status": "COMPLETED"}
    rows.append(("… &status=COMPLETED&offset=90000", f"p50 {list_p50(server, deep | {'offset': 90000}):.1f} ms",
                 ""))
    # the same page by cursor: the next_cursor of the page just before it
    cursor = server.call("GET", "/images", "viewer", params=deep | {"offset": 89950}).json()["next_cursor"]
    rows.append(("… &status=COMPLETED&cursor=(row 90000)", f"p50 {list_p50(server, deep | {'cursor': cursor}):.1f} ms",
                 ""))
    rows.append(("… &sku_id=SEED050000", f"p50 {list_p50(server, {'sku_id': 'SEED050000'}):.1f} ms", ""))


if __name__ == "__main__":
    main()
