"""Explanations completed per second through the real pipeline, next to a bare Celery task.

    .venv/bin/python bench/pipeline.py            (or: make bench-pipeline)

Both run in the same worker process (threads pool, `--concurrency`), against the same fake
OpenAI server (a subprocess that waits `--latency` seconds, then streams its answer one word
per chunk), with the same request: each phase's explanations are asked in sessions of their
own, and the bare task then sends the messages the pipeline sent in that phase (the median
prompt), so a later phase's longer sessions are not held against the pipeline alone. The
pipeline is the production path: rows made by `explanation_request`, the task claims (budget
under the school's settings lock), builds the prompt behind the PII shield, asks the
moderation endpoint, calls the provider outside any transaction while publishing live
deltas to Redis, moderates the reply and finishes with usage and the tutor's message.

Two scenarios, each pipeline then bare: `long` (a 150-word answer: per-chunk costs
dominate) and `short` (10 words: the pipeline's fixed cost per explanation). The headline
figures are those of the first scenario; `worker_cpu_ms_per_explanation` is the worker's
CPU time per explanation, the figure least skewed by other load on the machine.

Targets: `ratio` >= 0.7 (the core issue) and >= 0.8 (the performance issue);
`in_flight_peak` >= 100 per worker process; the worker's
`db_connections_peak` <= DATABASE_POOL_MAX_SIZE whatever the concurrency.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    BENCH_API_KEY,
    WORKER_APPLICATION_NAME,
    Bench,
    Processes,
    Sampler,
    cpu_seconds,
    emit,
    fake_openai_start,
    load_average,
    machine,
    rss_mb,
    worker_start,
)

BENCH = Bench("pipeline", redis_db=15)
TERMINAL = ("succeeded", "failed", "blocked")


def reply_text(words: int) -> str:
    """A realistic tutor answer of about `words` words (streamed one word per chunk)."""
    base = (
        "Good question! A fraction names a part of a whole that is split into equal parts. "
        "In $\\frac{3}{4}$ the denominator 4 says the whole has four equal parts, and the "
        "numerator 3 says we take three of them. To add $\\frac{1}{5} + \\frac{2}{5}$, keep "
        "the fifths and add the numerators: one fifth and two fifths make three fifths. "
        "Try it yourself: what is $\\frac{2}{6} + \\frac{3}{6}$? "
    ).split()
    return " ".join(base[i % len(base)] for i in range(words))


def _explanations_create(seeded: Any, count: int, tag: str) -> list[int]:
    """`count` queued explanations spread over the students' sessions, through the real
    service; the enqueue is held back so the timed phase starts with a full queue."""
    from accounts.tenancy import school_context
    from tutoring.services import explanations as service

    held: list[int] = []
    original = service._enqueue
    service._enqueue = lambda explanation: held.append(explanation.pk)  # type: ignore[assignment]
    try:
        with school_context(seeded.school):
            for i in range(count):
                index = i % len(seeded.students)
                service.explanation_request(
                    actor=seeded.students[index],
                    session=seeded.sessions[index],
                    question=f"Why do we keep the denominator when adding fractions? ({tag} {i})",
                )
    finally:
        service._enqueue = original  # type: ignore[assignment]
    return held


def _median_messages(conn: Any, ids: list[int]) -> list[dict[str, str]]:
    """The messages of the phase's median-sized prompt, for the bare task to send."""
    rows = conn.execute(
        "SELECT messages_sent FROM tutoring_explanation WHERE id = ANY(%s) AND status = %s"
        " ORDER BY length(messages_sent::text), id",
        [ids, "succeeded"],
    ).fetchall()
    return rows[len(rows) // 2][0]


def _pipeline_counts(conn: Any, ids: list[int]) -> tuple[int, int]:
    done, failed = conn.execute(
        "SELECT count(*) FILTER (WHERE status = ANY(%s)),"
        " count(*) FILTER (WHERE status IN ('failed', 'blocked'))"
        " FROM tutoring_explanation WHERE id = ANY(%s)",
        [list(TERMINAL), ids],
    ).fetchone()
    return int(done), int(failed)


def run_pipeline(school_id: int, ids: list[int], conn: Any, timeout: float) -> dict[str, Any]:
    from tutoring.tasks import explanation_generate

    start = time.perf_counter()
    for explanation_id in ids:
        explanation_generate.delay(school_id, explanation_id)
    done = failed = 0
    deadline = start + timeout
    while time.perf_counter() < deadline:
        done, failed = _pipeline_counts(conn, ids)
        if done >= len(ids):
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "done": done, "failed": failed}


def run_bare(messages: list[dict[str, str]], model: str, n: int, timeout: float) -> dict[str, Any]:
    import redis
    from django.conf import settings

    from bench.bare_tasks import DONE_KEY, FAILED_KEY, bare_complete

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(DONE_KEY, FAILED_KEY)
    start = time.perf_counter()
    for _ in range(n):
        bare_complete.apply_async(
            (messages, model, settings.LLM_MAX_COMPLETION_TOKENS), queue="llm"
        )
    done = failed = 0
    deadline = start + timeout
    while time.perf_counter() < deadline:
        done, failed = (int(v or 0) for v in client.mget(DONE_KEY, FAILED_KEY))
        if done + failed >= n:
            break
        time.sleep(0.02)
    return {"seconds": time.perf_counter() - start, "done": done + failed, "failed": failed}


SCENARIOS = {
    # A realistic answer streamed one word per chunk: the SDK's per-chunk parsing, the
    # safety guard and the live deltas dominate, and a worker process is CPU-bound.
    "long": 150,
    # A one-line answer: what is left is the pipeline's fixed cost per explanation
    # (claim, prompt, budget, moderation, finish) against the provider's latency.
    "short": 10,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=600, help="explanations per phase")
    parser.add_argument("--latency", type=float, default=1.0, help="fake model latency, s")
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="s between chunks")
    parser.add_argument(
        "--scenarios", default="long,short", help=f"comma-separated, of {sorted(SCENARIOS)}"
    )
    parser.add_argument("--concurrency", type=int, default=100, help="worker threads")
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1, help="bare+pipeline rounds")
    args = parser.parse_args()
    scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]

    BENCH.create_database()
    BENCH.flush_redis()
    with Processes() as processes:
        fake = fake_openai_start(
            processes,
            BENCH.env(),
            latency=args.latency,
            chunk_delay=args.chunk_delay,
            reply=reply_text(SCENARIOS[scenarios[0]]),
        )
        port = int(fake.base_url.rsplit(":", 1)[1].split("/")[0])
        llm_env = {
            "LLM_PROVIDER": "openai",
            "OPENAI_API_KEY": BENCH_API_KEY,
            "OPENAI_BASE_URL": fake.base_url,
            "LLM_TIMEOUT_SECONDS": "30",
        }
        BENCH.setup_django(**llm_env)
        from django.conf import settings
        from django.db import connection

        from bench.seed import school_seed, sessions_start

        seeded = school_seed(slug="bench-pipeline", students=args.students)
        sessions_start(seeded)
        warmup_ids = _explanations_create(seeded, args.concurrency, "warm-up")
        batches = {}
        for scenario in scenarios:
            for r in range(args.rounds):
                sessions_start(seeded)  # a phase's history is its own
                batches[(scenario, r)] = _explanations_create(seeded, args.n, f"{scenario} {r}")
        # This process's own pooled connections must not count as the worker's.
        connection.close()
        connection.close_pool()  # type: ignore[attr-defined]  # the PostgreSQL backend's pool

        worker = worker_start(
            processes, BENCH.env(**llm_env), name="llm", concurrency=args.concurrency
        )
        conn = BENCH.owner_connection()
        sampler_conn = BENCH.owner_connection()
        timeout = 120 + 20 * args.n * args.latency / args.concurrency

        def db_connections() -> int:
            return sampler_conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = %s AND application_name = %s",
                [BENCH.database, WORKER_APPLICATION_NAME],
            ).fetchone()[0]

        # Warm-up: every worker thread, the tokenizer, the SDK's connection pool.
        run_pipeline(seeded.school.pk, warmup_ids, conn, timeout)
        messages = conn.execute(
            "SELECT messages_sent FROM tutoring_explanation WHERE id = %s", [warmup_ids[-1]]
        ).fetchone()[0]
        model = settings.LLM_MODEL
        run_bare(messages, model, args.concurrency, timeout)
        rss_idle = rss_mb(worker.pid)

        results: dict[str, Any] = {}
        for scenario in scenarios:
            if scenario != scenarios[0]:
                processes.stop(fake.process)
                fake = fake_openai_start(
                    processes,
                    BENCH.env(),
                    latency=args.latency,
                    chunk_delay=args.chunk_delay,
                    reply=reply_text(SCENARIOS[scenario]),
                    port=port,
                )
                # The worker's keep-alive connections went with the old server.
                run_bare(messages, model, args.concurrency, timeout)
            rounds: list[dict[str, Any]] = []
            for r in range(args.rounds):
                entry: dict[str, Any] = {}
                for phase in ("pipeline", "bare"):
                    fake.reset_stats()
                    cpu_before = cpu_seconds(worker.pid)
                    with (
                        Sampler(db_connections, 0.05) as db_peak,
                        Sampler(lambda: rss_mb(worker.pid), 0.1) as rss_peak,
                    ):
                        if phase == "bare":
                            messages = _median_messages(conn, batches[(scenario, r)])
                            result = run_bare(messages, model, args.n, timeout)
                        else:
                            ids = batches[(scenario, r)]
                            result = run_pipeline(seeded.school.pk, ids, conn, timeout)
                    cpu = cpu_seconds(worker.pid) - cpu_before
                    stats = fake.stats()
                    entry[phase] = result | {
                        "per_s": round(args.n / result["seconds"], 2),
                        "worker_cpu_ms_per_explanation": round(cpu / args.n * 1000, 1),
                        "in_flight_peak": stats["in_flight_peak"],
                        "provider_chat_calls": stats["chat_calls"],
                        "provider_moderation_calls": stats["moderation_calls"],
                        "provider_moderation_texts": stats["moderation_texts"],
                        "db_connections_peak": int(db_peak.peak),
                        "worker_rss_peak_mb": rss_peak.peak,
                        "load_average": load_average(),
                    }
                    entry[phase]["seconds"] = round(entry[phase]["seconds"], 2)
                    if phase == "bare":
                        entry[phase]["prompt_chars"] = sum(len(m["content"]) for m in messages)
                rounds.append(entry)
            pipeline_per_s = statistics.median(r["pipeline"]["per_s"] for r in rounds)
            bare_per_s = statistics.median(r["bare"]["per_s"] for r in rounds)
            in_flight = max(r["pipeline"]["in_flight_peak"] for r in rounds)
            rss_peak_mb = max(r["pipeline"]["worker_rss_peak_mb"] for r in rounds)
            results[scenario] = {
                "reply_words": SCENARIOS[scenario],
                "pipeline_per_s": pipeline_per_s,
                "bare_per_s": bare_per_s,
                "ratio": round(pipeline_per_s / bare_per_s, 3),
                "in_flight_peak": in_flight,
                "bare_in_flight_peak": max(r["bare"]["in_flight_peak"] for r in rounds),
                "db_connections_peak": max(r["pipeline"]["db_connections_peak"] for r in rounds),
                "worker_cpu_ms_per_explanation": {
                    "pipeline": statistics.median(
                        r["pipeline"]["worker_cpu_ms_per_explanation"] for r in rounds
                    ),
                    "bare": statistics.median(
                        r["bare"]["worker_cpu_ms_per_explanation"] for r in rounds
                    ),
                },
                "worker_rss_mb": {"idle_after_warmup": rss_idle, "peak": rss_peak_mb},
                "memory_per_in_flight_generation_mb": (
                    round((rss_peak_mb - rss_idle) / in_flight, 3) if in_flight else None
                ),
                "failed": sum(r["pipeline"]["failed"] for r in rounds),
                "bare_prompt_chars": statistics.median(r["bare"]["prompt_chars"] for r in rounds),
                "rounds": rounds,
            }
        conn.close()
        sampler_conn.close()

    pool_max = settings.DATABASE_POOL_MAX_SIZE
    headline = results[scenarios[0]]
    emit(
        {
            "benchmark": "pipeline",
            "scenario": scenarios[0],
            **{k: v for k, v in headline.items() if k != "rounds"},
            "n": args.n,
            "latency": args.latency,
            "chunk_delay": args.chunk_delay,
            "concurrency": args.concurrency,
            "worker_processes": 1,
            "db_pool_max_size": pool_max,
            "targets": {
                name: {
                    "ratio >= 0.7 (issue 3)": result["ratio"] >= 0.7,
                    "ratio >= 0.8 (issue 8)": result["ratio"] >= 0.8,
                    "in_flight_peak >= 100 per worker process": result["in_flight_peak"] >= 100,
                    "db_connections_peak <= DATABASE_POOL_MAX_SIZE": (
                        result["db_connections_peak"] <= pool_max
                    ),
                }
                for name, result in results.items()
            },
            "scenarios": results,
            "machine": machine(BENCH) | {"load_average_at_end": load_average()},
        }
    )


if __name__ == "__main__":
    main()
