"""Representations API v1 shares between its audiences: the tags, explanation (the
generation job a client polls or streams), message, class, lesson and person references,
and the 202 answer that points at an explanation.

Answer keys, accepted answers, worked solutions and the teacher's notes for the tutor are
never part of a shared representation: the serializers here simply have no such fields.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import (
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Membership
from tutoring.live.sse import explanation_label
from tutoring.models import Explanation, Message
from tutoring.rendering import render_markdown, render_plain

STUDENT = "student"
ASKING = "asking the tutor"
TEACHER = "teacher"
TEACHER_ROLE = Membership.Role.TEACHER


def markdown_html(text: str) -> str:
    """`text` (Markdown with TeX math) rendered and sanitized; '' for no text."""
    return str(render_markdown(text)) if text else ""


def absolute_url(request: Request, name: str, **kwargs: Any) -> str:
    """The absolute URL of the named route, for `Location` headers."""
    return request.build_absolute_uri(reverse(name, kwargs=kwargs))


# --- Shared representations ------------------------------------------------------------------


class ClassroomRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()


class LessonRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    title = serializers.CharField()


class ExplanationErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="e.g. `provider_unavailable`, `budget_exhausted`.")
    message = serializers.CharField(help_text="What the student can do about it.")


class UsageTokensSerializer(serializers.Serializer):
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()


EXPLANATION_EXAMPLE = {
    "id": "7d1c5a52-3f0e-4b7e-9b3c-2f3d1f0a9e61",
    "session_id": "0b8f2d2e-8a57-4f43-8a55-5b4f7c1b2d90",
    "kind": "question",
    "question": "Why do we keep the denominator?",
    "status": "succeeded",
    "content": "The denominator names the **size** of the parts: $\\frac{1}{5}$ …",
    "content_html": "<p>The denominator names the <strong>size</strong> of the parts: "
    '<span class="math inline">\\(\\frac{1}{5}\\)</span> …</p>',
    "served_from_cache": False,
    "error": None,
    "usage": {"prompt_tokens": 812, "completion_tokens": 164, "total_tokens": 976},
    "is_helpful": None,
    "feedback_comment": "",
    "created_at": "2025-03-04T09:15:02.113000Z",
    "started_at": "2025-03-04T09:15:02.410000Z",
    "finished_at": "2025-03-04T09:15:05.902000Z",
}


class ExplanationSerializer(serializers.Serializer):
    """The tutor's answer to one question: a job whose `status` a client polls or streams."""

    id = serializers.UUIDField(source="public_id")
    session_id = serializers.UUIDField(source="session.public_id")
    kind = serializers.ChoiceField(choices=Explanation.Kind.choices)
    question = serializers.CharField()
    status = serializers.ChoiceField(
        choices=Explanation.Status.choices,
        help_text="queued -> running -> succeeded | failed | blocked.",
    )
    content = serializers.CharField(
        help_text="The answer in Markdown with TeX math; '' until done."
    )
    content_html = serializers.SerializerMethodField(
        help_text="`content` rendered and sanitized (math as `.math` spans for KaTeX)."
    )
    served_from_cache = serializers.BooleanField()
    is_retrying = serializers.BooleanField(
        help_text="true while the question waits again after a provider error (status "
        "`queued`/`running`): show `status_message`, the question is saved and will be answered."
    )
    status_message = serializers.SerializerMethodField(
        help_text="What to show the student for the current status, in the request's language."
    )
    error = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()
    is_helpful = serializers.BooleanField(allow_null=True)
    feedback_comment = serializers.CharField()
    created_at = serializers.DateTimeField(source="queued_at")
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_content_html(self, explanation: Explanation) -> str:
        return markdown_html(explanation.content)

    def get_status_message(self, explanation: Explanation) -> str:
        return explanation_label(explanation)

    @extend_schema_field(ExplanationErrorSerializer(allow_null=True))
    def get_error(self, explanation: Explanation) -> dict[str, str] | None:
        if explanation.status not in (Explanation.Status.FAILED, Explanation.Status.BLOCKED):
            return None
        return {
            "code": explanation.error_code or explanation.status,
            "message": explanation.error_text,
        }

    @extend_schema_field(UsageTokensSerializer)
    def get_usage(self, explanation: Explanation) -> dict[str, int]:
        return {
            "prompt_tokens": explanation.prompt_tokens,
            "completion_tokens": explanation.completion_tokens,
            "total_tokens": explanation.prompt_tokens + explanation.completion_tokens,
        }


def explanation_accepted(request: Request, school_slug: str, explanation: Explanation) -> Response:
    """202 with the explanation and where to follow it."""
    location = request.build_absolute_uri(
        reverse(
            "api-explanation",
            kwargs={"school_slug": school_slug, "explanation_id": explanation.public_id},
        )
    )
    return Response(
        ExplanationSerializer(explanation).data, status=202, headers={"Location": location}
    )


# --- Conversation and people -----------------------------------------------------------------


class MessageSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    role = serializers.ChoiceField(choices=Message.Role.choices)
    content = serializers.CharField(help_text="As written: plain text (student) or Markdown.")
    content_html = serializers.SerializerMethodField(
        help_text="Sanitized HTML: the student's text escaped, the tutor's Markdown rendered."
    )
    explanation_id = serializers.SerializerMethodField()
    explanation_status = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_content_html(self, message: Message) -> str:
        if message.role == Message.Role.TUTOR:
            return markdown_html(message.content)
        return str(render_plain(message.content))

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_explanation_id(self, message: Message) -> str | None:
        return str(message.explanation.public_id) if message.explanation else None

    @extend_schema_field(
        serializers.ChoiceField(choices=Explanation.Status.choices, allow_null=True)
    )
    def get_explanation_status(self, message: Message) -> str | None:
        return message.explanation.status if message.explanation else None


class PersonSerializer(serializers.Serializer):
    email = serializers.EmailField()
    full_name = serializers.CharField()
