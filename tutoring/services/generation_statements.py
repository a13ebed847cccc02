"""The statements of the worker's hot path, compiled once per process (accounts/compiled.py).

Read by tutoring/services/generation.py; each generation runs these instead of building
and compiling the same querysets again (docs/performance.md, the pipeline's third round).
"""

from __future__ import annotations

from datetime import datetime

from accounts.compiled import CompiledInsert, CompiledQuery, CompiledUpdate
from accounts.models import School
from tutoring.models import Explanation, Message

Status = Explanation.Status

HISTORY_TURNS_LOADED = 400  # the prompt trims to its token budget; this bounds the read

# The claim's reads, compiled once per process (accounts/compiled.py): the school, the row
# with its session's student (the prompt's student context and the PII shield read it),
# and the turns before the question (the prompt trims them to its token budget).
SCHOOL = CompiledQuery(School, lambda rows, pk: rows.filter(pk=pk), pk=int)
CLAIMED = CompiledQuery(
    Explanation,
    lambda rows, pk: rows.select_related("session__student", "lesson_version", "exercise").filter(
        pk=pk
    ),
    pk=int,
)
HISTORY = CompiledQuery(
    Message,
    lambda rows, session_id, before, explanation_id: (
        rows.filter(session_id=session_id, created_at__lt=before)
        .exclude(explanation_id=explanation_id)
        .exclude(explanation__status=Status.BLOCKED)  # blocked turns never reach a provider
        .order_by("-created_at", "-id")
        .values_list("role", "content")[:HISTORY_TURNS_LOADED]
    ),
    session_id=int,
    before=datetime,
    explanation_id=int,
)

# The claim's and the finish's conditional UPDATEs, their SQL built once. The claim takes a
# row that is queued and due, or running with an expired lease; the other two write only
# while the claim they belong to still holds (status running, the claimed attempt).
CLAIM = CompiledUpdate(
    Explanation,
    fields=("status", "lease_until", "started_at", "reserved_tokens"),
    increments=("attempt",),
    where="id = %s AND ((status = %s AND (next_attempt_at IS NULL OR next_attempt_at <= %s))"
    " OR (status = %s AND lease_until < %s))",
)
RESERVE = CompiledUpdate(
    Explanation, fields=("reserved_tokens", "provider", "model"), where="id = %s AND attempt = %s"
)
SUCCEED = CompiledUpdate(
    Explanation,
    fields=(
        "status",
        "content",
        "provider",
        "model",
        "prompt_version",
        "messages_sent",
        "prompt_tokens",
        "completion_tokens",
        "cached_tokens",
        "cost_microdollars",
        "latency_ms",
        "provider_request_id",
        "reserved_tokens",
        "lease_until",
        "error_code",
        "error_message",
        "finished_at",
    ),
    where="id = %s AND status = %s AND attempt = %s",
)
TUTOR_MESSAGE = CompiledInsert(Message)
