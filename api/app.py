"""The FastAPI app: routes under ``/v1``, mounted at ``/api`` by the dashboard's server or the standalone
one."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from enhancer.config import Settings
from enhancer.service import Backends

from . import problems
from .context import ApiContext
from .auth import AuthFirst
from .limits import BodyLimit
from .routes import batches, enhance, images, products, system

DESCRIPTION = """Pixel Lab's REST API: upload and enhance product photos, read images and their history,
review results, create products in bulk, run batches.

Every endpoint but `/v1/health` needs `Authorization: Bearer <key>` (create one with
`python -m enhancer api-key create --name NAME --role viewer|operator|admin`). Errors are
`application/problem+json` (RFC 9457). POSTs that create things accept an `Idempotency-Key` header."""


def create_app(settings: Settings | None = None, backends: Backends | None = None) -> FastAPI:
    """The API app. Without ``settings`` it reads the environment and ``.env`` (like the CLI) on first use."""
    ctx = ApiContext(settings, backends)
    app = FastAPI(title="Pixel Lab API", version="1", description=DESCRIPTION, docs_url="/v1/docs",
                  openapi_url="/v1/openapi.json", redoc_url=None)
    app.state.ctx = ctx
    v1 = APIRouter(prefix="/v1")
    for module in (enhance, images, products, batches, system):
        v1.include_router(module.router)
    app.include_router(v1)
    problems.install(app)
    app.add_middleware(BodyLimit, ctx=ctx)
    app.add_middleware(AuthFirst, ctx=ctx)  # outermost: no key, no body read
    return app


def lifespan(api: FastAPI):
    """A lifespan for the server that mounts ``api``: closes its CPU pool on shutdown.

    Mounted apps get no lifespan events of their own, so the host passes this on (``st.App(lifespan=…)``,
    ``Starlette(lifespan=…)``).
    """
    @asynccontextmanager
    async def span(_host):
        nodelay_listeners()
        try:
            yield None
        finally:
            api.state.ctx.close()

    return span


def nodelay_listeners() -> int:
    """Set TCP_NODELAY on this process's listening TCP sockets; accepted connections inherit it (Linux).

    Streamlit binds its own listening socket with protocol 0, so asyncio does not set TCP_NODELAY on the
    connections it accepts, and a response written as headers then body waits for the client's delayed
    ACK: about 40 ms on every reused keep-alive connection (measured: 48 ms against 2 ms for
    ``/_stcore/health``). Best effort: returns how many sockets it set.
    """
    import os
    import socket

    done = 0
    try:
        fds = [int(f) for f in os.listdir("/proc/self/fd")]
    except OSError:  # not Linux: nothing to do
        return 0
    for fd in fds:
        try:
            s = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        try:
            if s.family in (socket.AF_INET, socket.AF_INET6) and s.type == socket.SOCK_STREAM \
                    and s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                done += 1
        except OSError:
            pass
        finally:
            s.close()
    return done
