"""A small loopback TCP proxy that breaks the network on request (for MariaDB and S3 fault tests).

    proxy = FaultProxy("127.0.0.1", 3306).start()    # listens on 127.0.0.1:proxy.port
    proxy.delay(0.5)          # every forwarded chunk waits 0.5 s
    proxy.blackhole()         # connections stay open, but no reply reaches a client
    proxy.refuse()            # new connections are reset as soon as they are accepted
    proxy.refuse(count=1)     # ... only the next one
    proxy.cut()               # reset every open connection now
    proxy.after(b"COMMIT", "blackhole")  # forward the next chunk holding COMMIT, then drop its replies
    proxy.after(b"INSERT", fn) # ... or call fn(link) right after forwarding it (e.g. take S3 down too)
    proxy.heal()              # back to a plain pipe
    proxy.stop()

Faults are switches read by the pump threads between chunks, so a test flips
them from its own thread while a client is mid-query. ``blackhole`` models a
database or S3 server that stops answering (a hung host, a lost reply): only
a client-side read timeout gets the client out. ``cut`` and ``refuse`` model a
restart or a crash (the client sees a reset at once).
"""
from __future__ import annotations

import select
import socket
import struct
import threading
import time
from contextlib import contextmanager

_CHUNK = 65536
_LINGER_RST = struct.pack("ii", 1, 0)  # close() sends RST instead of FIN: the peer sees a reset


class _Link:
    """One client connection and its upstream twin."""

    def __init__(self, client: socket.socket, upstream: socket.socket):
        self.client, self.upstream = client, upstream
        self.blackholed = False  # this link's replies are dropped (set by an armed trigger)
        self.closed = threading.Event()

    def reset(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for sock in (self.client, self.upstream):
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass


class FaultProxy:
    """Forward ``127.0.0.1:<port>`` to ``target_host:target_port``, with switchable faults.

    Counters ``accepted`` (connections) and ``dropped`` (reply bytes thrown away)
    let a test check that a fault was actually hit.
    """

    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1"):
        self.target = (target_host, int(target_port))
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self.host, self.port = self._listener.getsockname()
        self._links: set[_Link] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._delay = 0.0
        self._blackhole = False
        self._refuse: bool | int = False
        self._trigger: tuple[bytes, object] | None = None
        self.accepted = 0
        self.dropped = 0

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        self._listener.listen(64)
        threading.Thread(target=self._accept_loop, daemon=True, name=f"proxy-{self.port}").start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
        except OSError:
            pass
        self._listener.close()
        self.cut()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    # -- faults -------------------------------------------------------------------------------
    def delay(self, seconds: float) -> None:
        """Hold every forwarded chunk (both directions) for ``seconds``."""
        self._delay = max(0.0, float(seconds))

    def blackhole(self, on: bool = True) -> None:
        """Accept and forward requests, but throw every reply away (open and new connections)."""
        self._blackhole = on

    def refuse(self, on: bool = True, *, count: int | None = None) -> None:
        """Reset new connections as soon as they are accepted (open ones are left alone).

        With ``count``, only the next ``count`` connections are refused, then the proxy accepts again.
        """
        self._refuse = count if (on and count) else bool(on)

    def cut(self) -> int:
        """Reset every open connection now; returns how many were cut."""
        with self._lock:
            links, self._links = list(self._links), set()
        for link in links:
            link.reset()
        return len(links)

    def after(self, trigger: bytes, action="blackhole") -> None:
        """One shot: forward the next client chunk containing ``trigger``, then fault that connection.

        ``action`` is ``"blackhole"`` (its replies are dropped: the server did the
        work, the client never hears), ``"cut"`` (reset right after forwarding), or
        a callable run with the connection's ``_Link`` right after forwarding.
        """
        if action not in ("blackhole", "cut") and not callable(action):
            raise ValueError(f"unknown action {action!r}; valid: blackhole, cut, or a callable")
        self._trigger = (bytes(trigger), action)

    def heal(self) -> None:
        """No more faults for new traffic (links already blackholed by a trigger stay so)."""
        self._delay, self._blackhole, self._refuse, self._trigger = 0.0, False, False, None

    @contextmanager
    def fault(self, kind: str, *args):
        """``with proxy.fault("blackhole"): ...`` switches a fault on for the block, then heals."""
        getattr(self, kind)(*args)
        try:
            yield self
        finally:
            self.heal()

    # -- plumbing -----------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            if self._refuse:
                if self._refuse is not True:  # a countdown
                    self._refuse = self._refuse - 1 or False
                _Link(client, client).reset()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _Link(client, client).reset()
                continue
            for sock in (client, upstream):
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(client, upstream)
            with self._lock:
                self._links.add(link)
            threading.Thread(target=self._pump, args=(link, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(link, False), daemon=True).start()

    def _pump(self, link: _Link, to_server: bool) -> None:
        src, dst = (link.client, link.upstream) if to_server else (link.upstream, link.client)
        try:
            while not link.closed.is_set():
                ready, _, _ = select.select([src], [], [], 0.1)
                if not ready:
                    continue
                data = src.recv(_CHUNK)
                if not data:
                    if not to_server and (self._blackhole or link.blackholed):
                        link.closed.wait()  # a silent server keeps the client waiting, even once it hangs up
                    break
                if self._delay:
                    time.sleep(self._delay)
                if to_server:
                    armed = self._take_trigger(data)
                    if armed == "blackhole":  # before forwarding: the reply may come back at once
                        link.blackholed = True
                    dst.sendall(data)
                    if armed not in (None, "blackhole"):
                        self._fire(link, armed)
                elif self._blackhole or link.blackholed:
                    self.dropped += len(data)
                else:
                    dst.sendall(data)
        except (OSError, ValueError):  # the other side (or cut()) closed it
            pass
        finally:
            with self._lock:
                self._links.discard(link)
            link.reset()

    def _take_trigger(self, data: bytes):
        """The armed action if ``data`` holds its trigger (disarming it), else None."""
        armed = self._trigger
        if armed is None or armed[0] not in data:
            return None
        self._trigger = None
        return armed[1]

    @staticmethod
    def _fire(link: _Link, action) -> None:
        if callable(action):
            action(link)
        else:  # "cut"
            time.sleep(0.05)  # let the server read what was forwarded before the reset
            link.reset()
