"""Celery: a real worker against Redis runs a task, and the beat schedule is code in portal/celery.py."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis
from celery import Celery

from portal.celery import BEAT_SCHEDULE
from portal.celery import app as portal_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_worker_process(tmp_path):
    """A `celery -A portal worker` subprocess on Redis, listening only on queues with a suffix unique to this run."""
    suffix = f"_t{uuid.uuid4().hex[:10]}"
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
        "CELERY_QUEUE_SUFFIX": suffix,
        "DJANGO_DEBUG": "false",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    queues = ",".join(f"{name}{suffix}" for name in ("default", "email", "billing"))
    command = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "portal",
        "worker",
        "-Q",
        queues,
        "-n",
        f"test{suffix}@%h",
        "--pool=solo",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=INFO",
    ]
    with log_path.open("w") as log:
        # Its own session, so stopping it also stops anything it spawned.
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield suffix, process, log_path
    finally:
        # TERM asks for a warm shutdown (finish the current task, then exit).
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        # kombu leaves a binding key per queue name; these names are never used again.
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        leftovers = list(client.scan_iter(match=f"*{suffix}*"))
        if leftovers:
            client.delete(*leftovers)


@pytest.mark.redis
@pytest.mark.timeout(120)
def test_real_worker_runs_heartbeat_and_stores_its_result_in_redis(celery_worker_process):
    """A task sent through Redis to the suffixed default queue is run by a real worker, its result read from Redis."""
    suffix, process, log_path = celery_worker_process
    redis_url = os.environ["REDIS_URL"]
    # A plain client app: the test process's own Celery app runs tasks eagerly (portal.settings.test).
    client = Celery("portal-test-client", broker=redis_url, backend=redis_url)
    sent_at = datetime.now().astimezone()
    result = client.send_task("portal.tasks.heartbeat", queue=f"default{suffix}")
    try:
        value = result.get(timeout=60)
    except Exception:
        pytest.fail(f"worker did not answer (exit status {process.poll()}); its log:\n{log_path.read_text()}")
    assert result.status == "SUCCESS"
    ran_at = datetime.fromisoformat(value)
    assert sent_at - timedelta(seconds=5) <= ran_at <= datetime.now().astimezone() + timedelta(seconds=5)
    result.forget()
    assert process.poll() is None, "the worker should still be running until the fixture stops it"
    # The worker stores the result before it logs the success line, so give the log a moment to catch up.
    expected = f"Task portal.tasks.heartbeat[{result.id}] succeeded"
    deadline = time.monotonic() + 15
    while expected not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert expected in log_path.read_text()


def test_beat_schedule_is_code_naming_registered_tasks():
    """Beat's schedule lives in portal/celery.py and every entry names a task the worker knows."""
    portal_app.loader.import_default_modules()
    assert portal_app.conf.beat_schedule == BEAT_SCHEDULE
    assert BEAT_SCHEDULE, "the beat schedule is empty"
    for name, entry in BEAT_SCHEDULE.items():
        assert entry["task"] in portal_app.tasks, f"{name} names an unknown task {entry['task']}"


def test_tasks_are_routed_to_the_three_named_queues(settings):
    """billing.* tasks go to the billing queue, send_*/email_* tasks to email, everything else to default."""
    router = portal_app.amqp.router
    suffix = settings.CELERY_QUEUE_SUFFIX

    def queue_of(task_name: str) -> str:
        return router.route({}, task_name)["queue"].name

    assert queue_of("billing.tasks.issue_invoice") == f"billing{suffix}"
    assert queue_of("bookings.tasks.send_confirmation") == f"email{suffix}"
    assert queue_of("portal.tasks.heartbeat") == f"default{suffix}"
