"""The benchmarks' load client: closed-loop HTTP cells on keep-alive connections, and their rows.

``Cell`` is one measured combination (target, leads per request, reasons, concurrency) with its
latencies; ``http_cell`` fills one by posting the same body from ``concurrency`` threads until a
deadline; ``Connection`` is the lean client every target is measured with.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass

from servers import Server  # the bench folder is not a package: bench/ is on sys.path

MAX_REQUESTS_PER_CELL = 200_000
WARMUP_REQUESTS = 20

@dataclass
class Cell:
    target: str
    leads: int
    reasons: bool | None
    concurrency: int
    latencies_ms: list[float]
    errors: int
    wall_s: float

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, q: float) -> float:
        data = sorted(self.latencies_ms)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, int(round(q * (len(data) - 1))))]

    def row(self) -> str:
        reasons = "n/a" if self.reasons is None else ("yes" if self.reasons else "no")
        rps = self.requests / self.wall_s if self.wall_s else 0.0
        return (f"| {self.target} | {self.leads} | {reasons} | {self.concurrency} | "
                f"{self.percentile(0.5):.2f} | {self.percentile(0.99):.2f} | {rps:,.0f} | "
                f"{rps * self.leads:,.0f} | {self.errors} |")


class Connection:
    """One keep-alive HTTP/1.1 connection of the standard library: the load client.

    A closed-loop client's own time per request is part of every latency it measures. httpx
    spends 0.3-0.6 ms of Python per request on this machine, as much as the whole of a
    one-lead request on the server; ``http.client`` spends a tenth of that, so the numbers
    measure the servers. Every target is measured with the same client.
    """

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.http = http.client.HTTPConnection(host, int(port), timeout=60)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        self.http.request("POST", path, body=body, headers=headers)
        response = self.http.getresponse()
        response.read()
        return response.status

    def close(self) -> None:
        self.http.close()


def http_cell(server: Server, path: str, body: bytes, headers: dict[str, str], concurrency: int,
              duration_s: float, ok: int = 200,
              warmup: int = WARMUP_REQUESTS) -> tuple[list[float], int, float]:
    """``concurrency`` threads, one keep-alive connection each, posting ``body`` until the
    deadline, after ``warmup`` requests."""
    warm = Connection(server.url)
    for _ in range(warmup):
        warm.post(path, body, headers)
    warm.close()
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    budget = MAX_REQUESTS_PER_CELL // concurrency
    barrier = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def worker(i: int) -> None:
        client = Connection(server.url)
        barrier.wait()
        for _ in range(budget):
            if time.perf_counter() >= deadline[0]:
                break
            began = time.perf_counter()
            try:
                status = client.post(path, body, headers)
            except (OSError, http.client.HTTPException):
                status = 0
                client.close()
                client = Connection(server.url)
            latencies[i].append((time.perf_counter() - began) * 1000)
            errors[i] += status != ok
        client.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    began = time.perf_counter()
    deadline[0] = began + duration_s
    barrier.wait()
    for t in threads:
        t.join()
    return [x for part in latencies for x in part], sum(errors), time.perf_counter() - began
