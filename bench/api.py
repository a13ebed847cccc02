"""Requests per second and latency of the student's API, next to a minimal Django view.

    .venv/bin/python bench/api.py                 (or: make bench-api)

Serves the application with gunicorn and uvicorn workers (`-k uvicorn.workers.UvicornWorker
-w --workers`, production's command) under bench/settings.py, which adds one bench-only URL:
`/bench/minimal`, the smallest Django JSON view, through the same middleware. `--clients`
threads (keep-alive HTTP/1.1, stdlib `http.client`: a light client, so the server is what
is measured) each sign in as a different student (a minted JWT) and request, for
`--duration` seconds per endpoint and round:

- `lesson_list`: GET /api/v1/schools/<slug>/lessons
- `explanation_detail`: GET /api/v1/schools/<slug>/explanations/<id> (answered, with
  Markdown and math to render), cycling through the student's own explanations
- `minimal`: GET /bench/minimal

Rounds alternate the endpoints, so drifting load on the machine hits them alike.
Target: each endpoint's requests per second >= 0.5x the minimal view's.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    PYTHON,
    WEB_APPLICATION_NAME,
    Bench,
    Processes,
    cpu_seconds,
    emit,
    load_average,
    machine,
    percentile,
    wait_for_http,
)
from bench.pipeline import reply_text  # noqa: E402

BENCH = Bench("api", redis_db=11)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _seed(students: int, explanations_each: int) -> dict[str, Any]:
    """Students with JWTs, their classes' lessons, and answered explanations of theirs."""
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.tenancy import school_context
    from bench.pipeline import _explanations_create
    from bench.seed import school_seed, sessions_start
    from tutoring.management.commands.demo_content import LESSONS
    from tutoring.models import Explanation

    seeded = school_seed(slug="bench-api", students=students, lessons=len(LESSONS))
    sessions_start(seeded)
    ids = _explanations_create(seeded, students * explanations_each, "api")
    answer = (
        "## Adding fractions\n\nKeep the denominator and add the numerators: "
        "$\\frac{1}{5} + \\frac{2}{5} = \\frac{3}{5}$.\n\n" + reply_text(120)
    )
    now = timezone.now()
    with school_context(seeded.school):
        Explanation.objects.for_school(seeded.school).filter(pk__in=ids).update(
            status=Explanation.Status.SUCCEEDED,
            content=answer,
            attempt=1,
            started_at=now,
            finished_at=now,
            prompt_tokens=900,
            completion_tokens=250,
        )
        by_student: dict[int, list[str]] = {}
        for student_id, public_id in (
            Explanation.objects.for_school(seeded.school)
            .filter(pk__in=ids)
            .values_list("student_id", "public_id")
        ):
            by_student.setdefault(student_id, []).append(str(public_id))
    return {
        "slug": seeded.school.slug,
        "clients": [
            {
                "token": str(AccessToken.for_user(m.user)),
                "explanations": by_student[m.user_id],
            }
            for m in seeded.students
        ],
    }


def _paths(endpoint: str, slug: str, client: dict[str, Any]) -> list[str]:
    if endpoint == "minimal":
        return ["/bench/minimal"]
    if endpoint == "lesson_list":
        return [f"/api/v1/schools/{slug}/lessons"]
    return [f"/api/v1/schools/{slug}/explanations/{e}" for e in client["explanations"]]


def _client_loop(
    port: int,
    token: str,
    paths: list[str],
    until: float,
    latencies: list[float],
    errors: list[str],
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    i = 0
    while time.perf_counter() < until:
        path = paths[i % len(paths)]
        i += 1
        began = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append((time.perf_counter() - began) * 1000)
        if response.status != 200:
            errors.append(f"{path}: HTTP {response.status}")
    connection.close()


def run_endpoint(
    endpoint: str, port: int, data: dict[str, Any], clients: int, duration: float
) -> dict[str, Any]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    until = time.perf_counter() + duration
    threads = []
    for index in range(clients):
        client = data["clients"][index % len(data["clients"])]
        thread = threading.Thread(
            target=_client_loop,
            args=(
                port,
                client["token"],
                _paths(endpoint, data["slug"], client),
                until,
                latencies[index],
                errors,
            ),
            daemon=True,
        )
        threads.append(thread)
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + 60)
    elapsed = time.perf_counter() - began
    flat = [value for per_client in latencies for value in per_client]
    return {"requests": len(flat), "seconds": elapsed, "latencies": flat, "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=10.0, help="s per endpoint and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn -w")
    parser.add_argument("--students", type=int, default=20)
    args = parser.parse_args()

    BENCH.create_database()
    BENCH.flush_redis()
    BENCH.setup_django()
    data = _seed(args.students, explanations_each=5)
    from django.db import connection

    connection.close()
    connection.close_pool()  # type: ignore[attr-defined]  # the PostgreSQL backend's pool

    endpoints = ["minimal", "lesson_list", "explanation_detail"]
    port = _free_port()
    with Processes() as processes:
        env = BENCH.env(DJANGO_SETTINGS_MODULE="bench.settings", PGAPPNAME=WEB_APPLICATION_NAME)
        web = processes.start(
            "gunicorn",
            [
                PYTHON,
                "-m",
                "gunicorn",
                "config.asgi:application",
                "-k",
                "uvicorn.workers.UvicornWorker",
                "-w",
                str(args.workers),
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            env,
        )
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process=web)
        for endpoint in endpoints:  # warm-up: imports, pools, caches of every worker
            run_endpoint(endpoint, port, data, args.clients, 2.0)
        collected: dict[str, dict[str, Any]] = {
            e: {
                "requests": 0,
                "seconds": 0.0,
                "latencies": [],
                "errors": [],
                "server_cpu": 0.0,
                "client_cpu": 0.0,
            }
            for e in endpoints
        }
        for _round in range(args.rounds):
            for endpoint in endpoints:
                server_before = cpu_seconds(web.pid)
                own_before = time.process_time()
                result = run_endpoint(endpoint, port, data, args.clients, args.duration)
                collected[endpoint]["server_cpu"] += cpu_seconds(web.pid) - server_before
                collected[endpoint]["client_cpu"] += time.process_time() - own_before
                for key in ("requests", "seconds"):
                    collected[endpoint][key] += result[key]
                collected[endpoint]["latencies"] += result["latencies"]
                collected[endpoint]["errors"] += result["errors"]

    figures: dict[str, dict[str, Any]] = {}
    for endpoint, result in collected.items():
        figures[endpoint] = {
            "requests_per_s": round(result["requests"] / result["seconds"], 1),
            "p50_ms": round(percentile(result["latencies"], 50), 2),
            "p95_ms": round(percentile(result["latencies"], 95), 2),
            "requests": result["requests"],
            # CPU per request of the gunicorn workers, and of this load generator.
            "server_cpu_ms_per_request": round(
                result["server_cpu"] / max(1, result["requests"]) * 1000, 2
            ),
            "client_cpu_ms_per_request": round(
                result["client_cpu"] / max(1, result["requests"]) * 1000, 2
            ),
            "errors": len(result["errors"]),
            "first_errors": result["errors"][:3],
        }
    minimal_rps = figures["minimal"]["requests_per_s"]
    ratios = {
        e: round(figures[e]["requests_per_s"] / minimal_rps, 3) for e in endpoints if e != "minimal"
    }
    emit(
        {
            "benchmark": "api",
            "endpoints": figures,
            "ratio_to_minimal": ratios,
            "clients": args.clients,
            "gunicorn_workers": args.workers,
            "duration_per_endpoint_s": args.duration * args.rounds,
            "targets": {f"{e} >= 0.5x minimal": r >= 0.5 for e, r in ratios.items()},
            "machine": machine(BENCH) | {"load_average_at_end": load_average()},
        }
    )


if __name__ == "__main__":
    main()
