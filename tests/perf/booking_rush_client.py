"""The booking rush's HTTP clients (standard library only: spawned client processes import nothing of Django).

``http_rush`` starts the given number of processes, each running its share of the clients as threads; a
barrier shared by every thread of every process releases them together, and each POSTs checkout once.
"""

import http.client
import multiprocessing
import threading
import time

CSRF_SECRET = "b" * 32  # an unmasked CSRF secret: the same value goes in the cookie and in the header


def checkout(port: int, cookie: str) -> tuple[int, float, float]:
    """POST /bookings/checkout/ as the session in ``cookie``: (HTTP status, start, end); status 0 if unanswered."""
    started = time.time()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(
            "POST",
            "/bookings/checkout/",
            body="",
            headers={
                "Host": "127.0.0.1",
                "Cookie": f"{cookie}; csrftoken={CSRF_SECRET}",
                "X-CSRFToken": CSRF_SECRET,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        response = conn.getresponse()
        response.read()
        status = response.status
    except OSError:
        status = 0
    finally:
        conn.close()
    return status, started, time.time()


def one_by_one(*, port: int, cookies: list[str]) -> list[tuple[int, float, float]]:
    return [checkout(port, cookie) for cookie in cookies]


def _client_process(port: int, cookies: list[str], barrier, results) -> None:
    out: list[tuple[int, float, float]] = []
    lock = threading.Lock()

    def one(cookie: str) -> None:
        barrier.wait(timeout=120)  # a client that never gets going breaks the barrier: the run then shows errors
        result = checkout(port, cookie)
        with lock:
            out.append(result)

    threads = [threading.Thread(target=one, args=(cookie,)) for cookie in cookies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(out)


def http_rush(*, port: int, cookies: list[str], processes: int) -> list[tuple[int, float, float]]:
    """Every cookie's user POSTs /bookings/checkout/ at once: (HTTP status, start, end) per request."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(cookies))
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_client_process, args=(port, cookies[i::processes], barrier, results))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    collected = [r for _ in workers for r in results.get(timeout=300)]
    for worker in workers:
        worker.join(timeout=60)
    return collected
