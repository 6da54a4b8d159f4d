"""The service on loopback inside this process (uvicorn in a thread), and a load test against it.

`running(cfg)` is what the tests and `edgeecg bench serve` use: a real server, a real socket, the real worker
pool. `load(...)` sends a fixed number of requests from `clients` threads and times each one.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from edgeecg.serve.app import ServeConfig, create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(cfg: ServeConfig) -> Iterator[str]:
    """The base URL of a service started on 127.0.0.1, stopped on exit."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(cfg), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and thread.is_alive() and time.time() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("the service did not start within 60 s")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@dataclass
class Load:
    name: str
    requests: int
    clients: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def load(url: str, name: str, body: bytes, content_type: str, requests: int, clients: int,
         headers: dict | None = None) -> Load:
    """`requests` uploads of `body` from `clients` threads at once; a non-200 answer counts as an error."""
    import httpx

    def one(_: int) -> tuple[float, bool]:
        with httpx.Client(base_url=url, timeout=120, headers=headers or {}) as c:
            t0 = time.perf_counter()
            r = c.post("/v1/predict", content=body, headers={"Content-Type": content_type})
            return (time.perf_counter() - t0) * 1000, r.status_code == 200

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        done = list(pool.map(one, range(requests)))
    seconds = time.perf_counter() - t0
    ms = np.array([d[0] for d in done])
    return Load(name, requests, clients, seconds, sum(not ok for _, ok in done), float(np.percentile(ms, 50)),
                float(np.percentile(ms, 99)))
