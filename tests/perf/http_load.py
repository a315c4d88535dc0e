"""A small HTTP load generator for the benchmarks (standard library only, so client processes stay light).

``run_load`` sends the given paths from several client processes at once, each one request after another on
a fresh connection, and returns requests per second and latency percentiles.
"""

import http.client
import multiprocessing
import statistics
import time


def _fetch_all(args: tuple[str, int, list[str], dict]) -> list[tuple[int, float]]:
    host, port, paths, headers = args
    results = []
    for path in paths:
        started = time.perf_counter()
        conn = http.client.HTTPConnection(host, port, timeout=60)
        try:
            conn.request("GET", path, headers={"Host": host, **headers})
            response = conn.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = 0
        finally:
            conn.close()
        results.append((status, time.perf_counter() - started))
    return results


def run_load(*, host: str, port: int, paths: list[str], clients: int, headers: dict | None = None) -> dict:
    """Requests/s, p50 and p95 latency (ms) and the number of non-200 answers."""
    shares = [(host, port, paths[i::clients], headers or {}) for i in range(clients)]
    # "spawn": the clients must not inherit the test process's database connections.
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        pool.map(time.sleep, [0] * clients)  # start the processes before the clock does
        started = time.perf_counter()
        results = [r for share in pool.map(_fetch_all, shares) for r in share]
        elapsed = time.perf_counter() - started
    latencies = sorted(seconds * 1000 for _, seconds in results)
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {
        "requests": len(results),
        "errors": sum(1 for status, _ in results if status != 200),
        "rps": len(results) / elapsed,
        "p50": cuts[49],
        "p95": cuts[94],
    }


if __name__ == "__main__":  # python tests/perf/http_load.py PORT PATH [REQUESTS] [CLIENTS]
    import sys

    port, path = int(sys.argv[1]), sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    clients = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    print(run_load(host="127.0.0.1", port=port, paths=[path] * count, clients=clients))
