"""Batches on Celery workers: images/minute with 1 and 2 worker processes, the broker's cost per task, and the
local process pool on the same photos.

Run by hand (not a test), with RabbitMQ on 127.0.0.1:5672 (guest/guest), Redis on 127.0.0.1:6379 and
MariaDB on 127.0.0.1:3306; S3 is moto's server in a process of its own::

    python benchmarks/workers.py                  # 24 photos, OPTIMIZE to 200 KB and AUTO, RabbitMQ
    python benchmarks/workers.py --photos 60 --modes OPTIMIZE
    python benchmarks/workers.py --no-check       # skip the Redis / SQS correctness rows
    python benchmarks/workers.py --pin            # each worker on a core of its own (a one-core "machine")
    python benchmarks/workers.py --photos 200 --repeat 3 --no-check   # the scaling figure, medians
    sudo python benchmarks/workers.py --photos 200 --repeat 3 --cpu-share 0.5   # each worker a "machine" of its own

Photos are 2 MP (1732x1155, benchmarks/bulk.py's) served from a loopback HTTP server, each distinct, in
a CSV manifest. Each row is a fresh MariaDB database and bucket. Workers are real ``celery worker``
processes (``--concurrency 1`` each, their own name and working directory, as on two machines), started
before the clock starts; the clock runs from submit (create, stage, enqueue) to the batch's last record.
``gap ms`` is the median time a worker process spends between two items (record, acknowledge, top-up,
the next delivery, the claim). The broker table is the broker alone: task messages published in a
burst, then received and acknowledged one at a time (prefetch 1), and a lone round trip.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bulk import SIZE, Backend, make_photos, serve  # noqa: E402
from enhancer.app import build_backends  # noqa: E402
from enhancer.batch import BatchRunner, create_batches  # noqa: E402
from enhancer.batch.fetch import FetchPolicy, Fetcher  # noqa: E402
from enhancer.batch.intake import manifest_bytes  # noqa: E402
from enhancer.config import settings_from_mapping  # noqa: E402
from enhancer.options import EnhanceOptions  # noqa: E402

BROKERS = {"rabbitmq": {"BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//"},
           "redis": {"BROKER_URL": "redis://127.0.0.1:6379/4"}}


def options(mode: str) -> EnhanceOptions:
    return EnhanceOptions.parse(mode=mode, target_size_kb=200 if mode == "OPTIMIZE" else None)


CGROUP_CPU = Path("/sys/fs/cgroup/cpu")  # cgroup v1's cpu controller (on cgroup v2: /sys/fs/cgroup + cpu.max)


class CpuBudget:
    """A CPU budget of its own for one worker "machine": ``share`` of a core (CFS quota), as on a machine
    whose cores are its own, while the services (database, S3, broker) run on what the workers leave."""

    def __init__(self, name: str, share: float, period_us: int = 20_000):
        v2 = not CGROUP_CPU.is_dir()
        self.dir = (Path("/sys/fs/cgroup") if v2 else CGROUP_CPU) / name
        try:
            self.dir.mkdir()
            quota = int(share * period_us)
            if v2:
                (self.dir / "cpu.max").write_text(f"{quota} {period_us}")
            else:
                (self.dir / "cpu.cfs_period_us").write_text(str(period_us))
                (self.dir / "cpu.cfs_quota_us").write_text(str(quota))
        except OSError as exc:
            raise SystemExit(f"--cpu-share needs a writable cgroup cpu controller (root): {exc}") from None

    def wrap(self, cmd: list[str]) -> list[str]:
        # the shell joins the group, then becomes the worker: its pool processes are born inside it
        return ["sh", "-c", f'echo $$ > {self.dir / "cgroup.procs"} && exec "$@"', "sh", *cmd]

    def remove(self) -> None:
        try:
            self.dir.rmdir()
        except OSError:
            pass


class Workers:
    """``n`` celery worker processes, concurrency 1 each, in their own folders."""

    def __init__(self, env: dict[str, str], root: Path, n: int, *, pin: bool = False, cpu_share: float = 0.0):
        self.procs, self.budgets = [], []
        cpus = sorted(os.sched_getaffinity(0))
        for i in range(n):
            # --pin: each worker on a core of its own, as on a machine of its own (one core each)
            pinned = ["taskset", "-c", str(cpus[i % len(cpus)])] if pin else []
            d = root / f"machine{i + 1}"
            d.mkdir(parents=True, exist_ok=True)
            log = open(d / "worker.log", "ab")
            cmd = [*pinned, sys.executable, "-m", "celery", "-A", "enhancer.worker", "worker", "--concurrency", "1",
                   "-n", f"bench{i + 1}-{uuid.uuid4().hex[:6]}@%h", "-l", "WARNING", "--without-gossip"]
            if cpu_share:
                self.budgets.append(CpuBudget(f"pixel-lab-bench-{root.name}-{i + 1}", cpu_share))
                cmd = self.budgets[-1].wrap(cmd)
            self.procs.append((subprocess.Popen(
                cmd, cwd=d, env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True), d / "worker.log"))

    def wait_ready(self, b, n: int, timeout: float = 120) -> None:
        from enhancer.batch.workers import live_workers

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(live_workers(b, within_s=10)) >= n:
                return
            time.sleep(0.3)
        raise SystemExit(f"workers not ready after {timeout} s; see their worker.log")

    def stop(self) -> None:
        for p, _ in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p, _ in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)
        for budget in self.budgets:
            budget.remove()


def on_workers(backend: Backend, manifest: Path, mode: str, n_workers: int, broker: dict, root: Path, *,
               pin: bool = False, cpu_share: float = 0.0) -> dict:
    from enhancer.batch.control import summary
    from enhancer.batch.start import submit

    env = {**backend.env(), **broker, "BROKER_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
           "PIXEL_LAB_ALLOW_PRIVATE_URLS": "1", "BATCH_WINDOW": "8"}
    settings = settings_from_mapping(env)
    b = build_backends(settings)
    b.storage.create_bucket()
    workers = Workers(env, root / uuid.uuid4().hex[:6], n_workers, pin=pin, cpu_share=cpu_share)
    try:
        workers.wait_ready(b, n_workers)
        cpu0, t0 = cpu_times(), time.perf_counter()
        (bid,) = submit(b, settings, manifest, options=options(mode), name="bench")["batch_ids"]
        while (sm := summary(b, bid, failures=0)).status not in ("completed", "failed", "cancelled"):
            time.sleep(0.1)
        elapsed, cpu = time.perf_counter() - t0, cpu_per_item(cpu0, cpu_times(), sm.completed + sm.failed)
        gap = gaps_ms(b, bid)
    finally:
        workers.stop()
        b.engine.dispose()
        backend.cleanup(env)
    return {"done": sm.completed, "failed": sm.failed, "elapsed": elapsed, "ipm": sm.completed / elapsed * 60,
            "overhead": gap, "cpu": cpu}


def on_local_pool(backend: Backend, manifest: Path, mode: str, processes: int) -> dict:
    env = {**backend.env(), "PIXEL_LAB_ALLOW_PRIVATE_URLS": "1"}
    settings = settings_from_mapping(env)
    b = build_backends(settings)
    b.storage.create_bucket()
    runner = BatchRunner(b, workers=max(2, processes), processes=processes, settings=settings, poll_s=0.5,
                         fetcher=Fetcher(FetchPolicy(allow_private=True), pool_size=4))
    try:
        if runner._procs is not None:  # start its processes before the clock, as the workers are started
            for f in [runner._procs.submit(time.sleep, 0.5) for _ in range(processes)]:
                f.result()
        t0 = time.perf_counter()
        ids = create_batches(b, manifest, options=options(mode), name="bench")
        sms = [runner.run(i) for i in ids]
        elapsed = time.perf_counter() - t0
    finally:
        runner.close()
        b.engine.dispose()
        backend.cleanup(env)
    done = sum(s.completed for s in sms)
    return {"done": done, "failed": sum(s.failed for s in sms), "elapsed": elapsed, "ipm": done / elapsed * 60,
            "overhead": float("nan")}


def broker_cost(broker: dict, n: int = 300) -> tuple[float, float, float]:
    """ms per message: (publish, then receive + acknowledge with prefetch 1, one full round trip alone)."""
    from kombu import Consumer, Queue

    from enhancer.broker import ITEM_TASK, producer_app

    settings = settings_from_mapping({**broker, "BROKER_QUEUE": f"rt-{uuid.uuid4().hex[:8]}"})
    app = producer_app(settings)
    got = []
    with app.connection_for_write() as conn:
        q = Queue(settings.broker_queue, routing_key=settings.broker_queue)
        with conn.channel() as ch, Consumer(ch, queues=[q], callbacks=[lambda body, m: (got.append(1), m.ack())],
                                            accept=["json"]) as consumer:
            consumer.qos(prefetch_count=1)
            with app.producer_or_acquire() as producer:
                send = lambda i: app.send_task(ITEM_TASK, args=[str(i), "bench"], queue=settings.broker_queue,
                                               producer=producer)
                send(-1)
                conn.drain_events(timeout=10)  # warm: the queue exists, the connection is up
                t0 = time.perf_counter()
                for i in range(n):
                    send(i)
                t1 = time.perf_counter()
                while len(got) < n + 1:
                    conn.drain_events(timeout=10)
                t2 = time.perf_counter()
                for i in range(50):
                    send(i)
                    conn.drain_events(timeout=10)
                t3 = time.perf_counter()
            ch.queue_delete(settings.broker_queue)
    return (t1 - t0) / n * 1000, (t2 - t1) / n * 1000, (t3 - t2) / 50 * 1000


SERVICES = {"mariadbd": "database", "mysqld": "database", "moto.server": "S3 (moto)", "beam.smp": "broker",
            "redis-server": "broker"}


def cpu_times() -> dict[str, float]:
    """CPU seconds so far by role: celery workers, each service, this process (the photo server), idle."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = open("/proc/stat").readline().split()[1:]
    out = {"idle": (int(fields[3]) + int(fields[4])) / tick}  # idle + iowait, all CPUs
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ticks = stat[stat.rfind(")") + 2:].split()
        used = (int(ticks[11]) + int(ticks[12])) / tick  # utime + stime
        role = ("workers" if "celery" in cmd and "worker" in cmd else
                "photo server + bench" if int(pid) == os.getpid() else
                next((r for k, r in SERVICES.items() if k in cmd), "other"))
        out[role] = out.get(role, 0.0) + used
    return out


def cpu_per_item(before: dict[str, float], after: dict[str, float], n: int) -> dict[str, float]:
    return {k: (after.get(k, 0.0) - before.get(k, 0.0)) / max(n, 1) * 1000 for k in after}


def gaps_ms(b, batch_id: str) -> float:
    """Median time a worker process spends between two items: record, ack, top-up, next delivery, claim."""
    from statistics import median

    from db import batch_repo as br

    with b.session() as s:
        items = [i for i in br.items(s, batch_id) if i.started_at and i.finished_at and i.worker]
    by_proc: dict[str, list] = {}
    for i in items:
        by_proc.setdefault(i.worker, []).append(i)
    gaps = []
    for its in by_proc.values():
        its.sort(key=lambda i: i.started_at)
        gaps += [(b_.started_at - a.finished_at).total_seconds() * 1000 for a, b_ in zip(its, its[1:])]
    return median(gaps) if gaps else float("nan")


def _median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["ipm"])[len(runs) // 2]


def row(label: str, mode: str, r: dict, base: float | None = None) -> None:
    scale = f"{r['ipm'] / base:.2f}x" if base else ""
    over = "" if r["overhead"] != r["overhead"] else f"{r['overhead']:.0f}"
    print(f"| {label:<30} | {mode:<8} | {r['done']:>4} | {r['failed']:>4} | {r['elapsed']:>7.1f} | {r['ipm']:>7.1f} "
          f"| {scale:>7} | {over:>8} | {os.getloadavg()[0]:>5.1f} |", flush=True)


ROLES = ("workers", "database", "S3 (moto)", "broker", "photo server + bench", "other")


def cpu_table(runs: list[tuple[str, dict, dict | None]], *, shared_cores: bool = True) -> None:
    """Where the two cores went, per image; and the best 1 → 2 scaling this machine allows.

    Here the services share the workers' two cores (on two machines they would not): with the 1-worker run's
    CPU per image spread over both cores with no idle time, 2 workers could reach at most
    2 x (1-worker wall per image) / (1-worker CPU per image) times its speed.
    """
    print(f"\n| CPU ms per image ({os.cpu_count()} cores) | " + " | ".join(ROLES) +
          " | idle | wall x cores | best 1→2 here | reached |")
    print("| --- " * (len(ROLES) + 6) + "|")
    for label, r, base in runs:
        cpu = r["cpu"]
        busy = sum(cpu.get(k, 0.0) for k in ROLES)
        wall = r["elapsed"] / max(r["done"] + r["failed"], 1) * 1000 * os.cpu_count()
        best = reached = ""
        if shared_cores and base is None:  # (with budgets of their own, the cores do not bound the workers)
            ceiling = 2 * (wall / os.cpu_count()) / busy
            best = f"{ceiling:.2f}x"
        elif shared_cores:
            reached = f"{r['ipm'] / base['ipm'] / ceiling:.0%} of it"
        print(f"| {label} | " + " | ".join(f"{cpu.get(k, 0.0):.1f}" for k in ROLES) +
              f" | {cpu.get('idle', 0.0):.1f} | {wall:.1f} | {best} | {reached} |", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=24)
    ap.add_argument("--modes", nargs="+", default=["OPTIMIZE", "AUTO"])
    ap.add_argument("--no-check", action="store_true", help="skip the Redis and SQS rows")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the 1- and 2-worker rows this many times, alternating, and report the medians "
                         "(a shared VM's speed drifts by 20 %% from one run to the next)")
    ap.add_argument("--pin", action="store_true",
                    help="pin each worker process to a core of its own (taskset), so one worker cannot spill its "
                         "threads onto the core the second worker gets: each stands in for a one-core machine")
    ap.add_argument("--cpu-share", type=float, default=0.0, metavar="F",
                    help="give each worker process a CPU budget of its own, F of a core (a CFS quota in a cgroup; "
                         "needs root): each stands in for a machine of its own, and the services run on the CPU "
                         "the workers leave, as they would on other machines (e.g. 0.5 on 2 cores)")
    args = ap.parse_args(argv)

    print(f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.1f}; making {args.photos} distinct "
          f"{SIZE[0]}x{SIZE[1]} photos…", file=sys.stderr)
    srv = serve(make_photos(args.photos))
    base_url = f"http://127.0.0.1:{srv.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="pl-bench-w-") as tmp:
        root = Path(tmp)
        manifest = root / "manifest.csv"
        manifest.write_bytes(manifest_bytes([{"sku_id": f"W-{i:05d}", "image_url": f"{base_url}/img/{i}.jpg"}
                                             for i in range(args.photos)]))
        backend = Backend("mariadb-s3", root)
        try:
            print("\n| broker | publish ms/msg | receive+ack ms/msg (prefetch 1) | cost per task ms | "
                  "one round trip alone ms |\n| --- | --- | --- | --- | --- |")
            for name, broker in BROKERS.items():
                pub, rec, rt = broker_cost(broker)
                print(f"| {name} | {pub:.2f} | {rec:.2f} | {pub + rec:.2f} | {rt:.2f} |", flush=True)
            print(f"\n| {'run':<30} | {'mode':<8} | {'done':>4} | {'fail':>4} | {'seconds':>7} | {'img/min':>7} "
                  f"| {'1→2':>7} | {'gap ms':>8} | {'load1':>5} |")
            print(f"| {'---':<30} | {'---':<8} | {'---':>4} | {'---':>4} | {'---':>7} | {'---':>7} | {'---':>7} "
                  f"| {'---':>8} | {'---':>5} |")
            cpu_rows = []
            for mode in args.modes:
                local1 = on_local_pool(backend, manifest, mode, 1)
                row("local pool, 1 process", mode, local1)
                row("local pool, 2 processes", mode, on_local_pool(backend, manifest, mode, 2), base=local1["ipm"])
                pin = " (pinned)" if args.pin else f" ({args.cpu_share:g} core each)" if args.cpu_share else ""
                ones, twos = [], []
                run = lambda n: on_workers(backend, manifest, mode, n, BROKERS["rabbitmq"], root,  # noqa: E731
                                           pin=args.pin, cpu_share=args.cpu_share)
                for _ in range(args.repeat):  # alternated, so drift in the machine's speed hits both alike
                    ones.append(run(1))
                    twos.append(run(2))
                rep = f", median of {args.repeat}" if args.repeat > 1 else ""
                one, two = _median_run(ones), _median_run(twos)
                row(f"rabbitmq, 1 worker{pin}{rep}", mode, one)
                row(f"rabbitmq, 2 workers{pin}{rep}", mode, two, base=one["ipm"])
                cpu_rows += [(f"1 worker, {mode}", one, None), (f"2 workers, {mode}", two, one)]
                if args.repeat > 1:
                    fmt = lambda rs: ", ".join(f"{r['ipm']:.0f}" for r in rs)  # noqa: E731
                    print(f"|   runs: 1 worker {fmt(ones)} img/min; 2 workers {fmt(twos)} img/min | | | | | | | | |")
            cpu_table(cpu_rows, shared_cores=not args.cpu_share)
            if not args.no_check:
                few = root / "few.csv"
                few.write_bytes(manifest_bytes([{"sku_id": f"C-{i:05d}", "image_url": f"{base_url}/img/{i}.jpg"}
                                                for i in range(min(8, args.photos))]))
                row("redis, 2 workers (check)", "OPTIMIZE", on_workers(backend, few, "OPTIMIZE", 2,
                                                                       BROKERS["redis"], root))
                sqs = {"BROKER_URL": "sqs://", "SQS_ENDPOINT_URL": backend.endpoint}
                row("sqs on moto, 2 workers (check)", "OPTIMIZE", on_workers(backend, few, "OPTIMIZE", 2, sqs, root))
        finally:
            backend.close()
    srv.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
