"""What an explanation costs in tokens and provider calls, and that it does not grow.

    .venv/bin/python bench/cost.py                (or: make bench-cost)

1. Prompt tokens per turn over a `--turns`-turn session (realistic questions and ~150-word
   tutor answers on the demo's fractions lesson), built with
   `tutoring.prompting.builder.build_prompt` exactly as the worker does. Target: every
   turn under LLM_PROMPT_TOKEN_BUDGET and flat (the last turns cost what the middle ones do). Also the CPU time to build each prompt
   and to redact the history the worker loads for it (`history_within_reach`), which must
   not grow with the session either.
2. The share of provider calls the cache saves on a repeated-question workload: students
   in classes of 25, three profiles, opening a session with a first question drawn from a
   few common ones (written with different case, spacing and punctuation) or one of their
   own, asked through `explanation_request` and answered by a real worker against the fake
   OpenAI server. Chat calls the fake received are counted against requests, for arrivals
   spread over the lesson (waves) and for everyone asking at the same second (a burst).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    BENCH_API_KEY,
    Bench,
    Processes,
    emit,
    fake_openai_start,
    load_average,
    machine,
    worker_start,
)

BENCH = Bench("cost", redis_db=14)

STUDENT_QUESTIONS = [
    "What is a fraction?",
    "Why do we keep the denominator the same when we add?",
    "Is 3/8 bigger than 2/8? How do you know?",
    "I added 1/5 and 2/5 and got 3/10. What did I do wrong?",
    "Can you show me with a pizza how 2/6 + 3/6 works?",
    "What does the numerator tell me?",
    "Why is 1/8 smaller than 1/4 if 8 is bigger than 4?",
    "How do I add three fractions like 1/7 + 2/7 + 3/7?",
    "What is a unit fraction?",
    "Can you give me another problem to try?",
]
TUTOR_ANSWER = (
    "Great question! Think of a pizza cut into equal slices. The denominator tells you how "
    "many equal slices the whole pizza has, and the numerator tells you how many of those "
    "slices you are talking about. When you add {a}/{d} and {b}/{d}, the slices stay the "
    "same size, so the denominator stays {d}. You only count how many slices you have now: "
    "{a} + {b} = {s}. So the answer is {s}/{d}. A common mistake is to add the denominators "
    "too, but that would change the size of the slices, and the slices did not change when "
    "you put them together. Try this one yourself: what is 2/9 + 4/9? Tell me what you get "
    "and how you thought about it, and I will check your thinking with you step by step. "
    "Remember: same-size parts, count the parts, keep the name of the part."
)
# Common first questions, with the spellings students actually type.
COMMON_FIRST_QUESTIONS = [
    ["What is a fraction?", "what is a fraction", "What is a fraction ?", "WHAT IS A FRACTION"],
    ["How do I add fractions?", "how do i add fractions", "How do I add fractions??"],
    ["Why do we keep the denominator?", "why do we keep the denominator"],
    ["What does the numerator mean?", "what does the numerator mean?"],
    ["Which is bigger, 1/8 or 1/4?", "which is bigger 1/8 or 1/4"],
]
COMMON_WEIGHTS = [0.3, 0.25, 0.2, 0.15, 0.1]
COMMON_SHARE = 0.7  # of first questions; the rest are a student's own


def _lesson() -> Any:
    from types import SimpleNamespace

    from tutoring.management.commands.demo_content import LESSONS

    spec = {k: v for k, v in LESSONS[0].items() if k != "exercises"}
    spec.setdefault("solution_released", False)
    spec.setdefault("full_solution_after_tries", 3)
    return SimpleNamespace(**spec)


def prompt_growth(turns: int) -> dict[str, Any]:
    from django.conf import settings

    from llm.tokens import count_message_tokens
    from tutoring.prompting.builder import build_prompt
    from tutoring.prompting.contract import StudentContext
    from tutoring.safety.pii import PiiMap
    from tutoring.services.generation import history_within_reach
    from tutoring.services.worker_sql import HISTORY_TURNS_LOADED

    lesson = _lesson()
    student = StudentContext(
        grade="5",
        language="en",
        reading_level="elementary",
        interests="football, pizza",
        accommodations="",
        pseudonym="bench",
    )
    roster = tuple(f"Student{i} Surname{i}" for i in range(25))
    budget = settings.LLM_PROMPT_TOKEN_BUDGET
    model = settings.LLM_MODEL
    history: list[tuple[str, str]] = []
    per_turn: list[dict[str, Any]] = []
    rng = random.Random(7)
    for turn in range(1, turns + 1):
        question = STUDENT_QUESTIONS[(turn - 1) % len(STUDENT_QUESTIONS)]
        # What the worker loads: the newest turns, capped by count and by what can fit.
        loaded = history_within_reach(history[::-1][:HISTORY_TURNS_LOADED], budget)
        # CPU time, best of three: the figure least disturbed by other work on the machine.
        redact_ms = build_ms = float("inf")
        for _attempt in range(3):
            started = time.thread_time()
            pii = PiiMap(names=roster)
            redacted = [(speaker, pii.redact(content)) for speaker, content in loaded]
            redact_ms = min(redact_ms, (time.thread_time() - started) * 1000)
            started = time.thread_time()
            built = build_prompt(
                school_policy="Be kind. Never give answers to graded homework.",
                lesson=lesson,
                student=student,
                history=redacted,
                question=question,
                kind="question",
                model=model,
                token_budget=budget,
            )
            build_ms = min(build_ms, (time.thread_time() - started) * 1000)
        tokens = count_message_tokens(built.messages, model)
        per_turn.append(
            {
                "turn": turn,
                "prompt_tokens": tokens,
                "history_turns_loaded": len(loaded),
                "dropped_turns": built.dropped_turns,
                "build_ms": round(build_ms, 2),
                "redact_history_ms": round(redact_ms, 2),
            }
        )
        a, b, d = rng.randint(1, 4), rng.randint(1, 4), rng.randint(9, 12)
        history += [("student", question), ("tutor", TUTOR_ANSWER.format(a=a, b=b, d=d, s=a + b))]

    def at(turn: int) -> dict[str, Any]:
        return per_turn[min(turn, turns) - 1]

    marks = sorted({1, 5, 10, 25, 50, 100, 150, turns})
    late = [t["prompt_tokens"] for t in per_turn[turns // 2 :]]
    # Minimum over each quarter, for the same reason.
    quarter = max(1, turns // 4)
    build_mid = min(t["build_ms"] for t in per_turn[quarter : 2 * quarter])
    build_late = min(t["build_ms"] for t in per_turn[-quarter:])
    redact_mid = min(t["redact_history_ms"] for t in per_turn[quarter : 2 * quarter])
    redact_late = min(t["redact_history_ms"] for t in per_turn[-quarter:])
    return {
        "turns": turns,
        "token_budget": budget,
        "model": model,
        "prompt_tokens_per_turn": {str(m): at(m)["prompt_tokens"] for m in marks if m <= turns},
        "max_prompt_tokens": max(t["prompt_tokens"] for t in per_turn),
        "second_half_min_max": [min(late), max(late)],
        "history_turns_loaded_at_end": per_turn[-1]["history_turns_loaded"],
        "dropped_turns_at_end": per_turn[-1]["dropped_turns"],
        "build_cpu_ms_min": {"second_quarter": build_mid, "last_quarter": build_late},
        "redact_history_cpu_ms_min": {"second_quarter": redact_mid, "last_quarter": redact_late},
        "targets": {
            "every turn <= LLM_PROMPT_TOKEN_BUDGET": all(
                t["prompt_tokens"] <= budget for t in per_turn
            ),
            # Flat: once the history fills the budget, later turns stay within 10% of each
            # other (what varies is only the length of the newest turns).
            "flat (second half within 10%)": max(late) <= 1.1 * min(late),
            "build + redact time flat (last quarter <= 1.5x second quarter)": (
                build_late + redact_late <= 1.5 * (build_mid + redact_mid)
            ),
        },
    }


def _first_question(rng: random.Random, index: int) -> str:
    if rng.random() < COMMON_SHARE:
        spellings = rng.choices(COMMON_FIRST_QUESTIONS, weights=COMMON_WEIGHTS)[0]
        return rng.choice(spellings)
    return f"Can you explain fractions using my own example number {index}?"


def cache_workload(
    seeded: Any, requests: int, wave: int, fake: Any, conn: Any, seed: int
) -> dict[str, Any]:
    """`requests` first questions in sessions of their own, `wave` at a time (each wave
    answered before the next is asked; a wave of every request is held back and sent at
    once, as when a whole class asks at the same second); returns calls against requests."""
    from accounts.tenancy import school_context
    from tutoring.services import explanations as service
    from tutoring.services.explanations import explanation_request, session_start
    from tutoring.tasks import explanation_generate

    rng = random.Random(seed)
    fake.reset_stats()
    served_from_cache = 0
    asked: list[int] = []
    started = time.perf_counter()
    for first in range(0, requests, wave):
        ids = []
        held: list[tuple[int, int]] = []
        original = service._enqueue
        if wave >= requests:
            service._enqueue = lambda e, held=held: held.append((e.school_id, e.pk))  # type: ignore[assignment, misc]
        for i in range(first, min(first + wave, requests)):
            membership = seeded.students[rng.randrange(len(seeded.students))]
            lesson = seeded.lessons_by_class[seeded.class_of_student[membership.user_id]][0]
            with school_context(seeded.school):
                session = session_start(actor=membership, lesson=lesson)
                explanation = explanation_request(
                    actor=membership, session=session, question=_first_question(rng, i)
                )
            served_from_cache += explanation.served_from_cache
            ids.append(explanation.pk)
        service._enqueue = original  # type: ignore[assignment]
        for school_id, explanation_id in held:
            explanation_generate.delay(school_id, explanation_id)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            pending = conn.execute(
                "SELECT count(*) FROM tutoring_explanation"
                " WHERE id = ANY(%s) AND status IN ('queued', 'running')",
                [ids],
            ).fetchone()[0]
            if not pending:
                break
            time.sleep(0.05)
        asked += ids
    failed = conn.execute(
        "SELECT count(*) FROM tutoring_explanation WHERE id = ANY(%s) AND status <> 'succeeded'",
        [asked],
    ).fetchone()[0]
    calls = fake.stats()["chat_calls"]
    return {
        "requests": requests,
        "arrival": f"waves of {wave}" if wave < requests else "one burst",
        "provider_chat_calls": calls,
        "served_from_cache": served_from_cache,
        "share_of_calls_saved": round(1 - calls / requests, 3),
        "not_succeeded": failed,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--students", type=int, default=75, help="in classes of 25")
    parser.add_argument("--requests", type=int, default=300, help="first questions asked")
    parser.add_argument("--wave", type=int, default=25, help="questions asked at once")
    args = parser.parse_args()

    BENCH.create_database()
    BENCH.flush_redis()
    with Processes() as processes:
        fake = fake_openai_start(
            processes, BENCH.env(), latency=0.2, reply=TUTOR_ANSWER.format(a=1, b=2, d=5, s=3)
        )
        llm_env = {
            "LLM_PROVIDER": "openai",
            "OPENAI_API_KEY": BENCH_API_KEY,
            "OPENAI_BASE_URL": fake.base_url,
        }
        BENCH.setup_django(**llm_env)
        growth = prompt_growth(args.turns)

        from bench.seed import school_seed

        seeded = school_seed(slug="bench-cost", students=args.students)
        worker_start(processes, BENCH.env(**llm_env), name="cost", concurrency=args.wave)
        conn = BENCH.owner_connection()
        spread = cache_workload(seeded, args.requests, args.wave, fake, conn, seed=1)
        # A new lesson version per class, so the burst starts with an empty cache too.
        from accounts.tenancy import school_context
        from tutoring.services import lessons as lesson_services

        with school_context(seeded.school):
            for lessons in seeded.lessons_by_class.values():
                lesson = lessons[0]
                lesson_services.lesson_update(
                    actor=seeded.teacher, lesson=lesson, tone=lesson.tone + " (v2)"
                )
                lesson.refresh_from_db()
        burst = cache_workload(seeded, args.requests, args.requests, fake, conn, seed=1)
        conn.close()

    emit(
        {
            "benchmark": "cost",
            "prompt": growth,
            "cache": {
                "students": args.students,
                "profiles": 3,
                "classes": len(seeded.classrooms),
                "common_first_question_share": COMMON_SHARE,
                "spread": spread,
                "burst": burst,
            },
            "machine": machine(BENCH) | {"load_average_at_end": load_average()},
        }
    )


if __name__ == "__main__":
    main()
