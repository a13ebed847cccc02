"""Student endpoints of API v1 for tutoring sessions: the session list and start, one
session with its messages, and asking the tutor a question in a session.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from base.api_input import InputSerializer, filter_object
from base.api_pagination import PAGE_PARAMETERS, paginate, paginated
from base.api_throttles import AskSchoolThrottle, AskUserThrottle
from base.api_views import SchoolApiView
from base.idempotency import idempotent
from tutoring import selectors
from tutoring.api.representations import (
    ASKING,
    EXPLANATION_EXAMPLE,
    STUDENT,
    ExplanationSerializer,
    LessonRefSerializer,
    MessageSerializer,
    explanation_accepted,
)
from tutoring.services import explanations as explanation_services
from tutoring.services.explanations import MAX_QUESTION_CHARS


class SessionSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    lesson = LessonRefSerializer()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)


class SessionDetailSerializer(SessionSerializer):
    messages = MessageSerializer(many=True, source="message_rows")


class SessionFilterSerializer(InputSerializer):
    lesson = serializers.UUIDField(required=False)


class SessionStartSerializer(InputSerializer):
    lesson_id = serializers.UUIDField()


def _session_location(request: Request, school_slug: str, session_id: Any) -> str:
    return request.build_absolute_uri(
        reverse("api-session", kwargs={"school_slug": school_slug, "session_id": session_id})
    )


class SessionListApi(SchoolApiView):
    @extend_schema(
        tags=[STUDENT],
        summary="My tutoring sessions",
        description="Newest first.",
        parameters=[
            OpenApiParameter("lesson", OpenApiTypes.UUID, description="Only this lesson."),
            *PAGE_PARAMETERS,
        ],
        responses={200: paginated(SessionSerializer)},
    )
    def get(self, request: Request, school_slug: str) -> Response:
        query = SessionFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        sessions = selectors.session_list_for_student(member=self.membership)
        if lesson_id := query.validated_data.get("lesson"):
            visible = selectors.lesson_list_for_member(member=self.membership)
            sessions = sessions.filter(lesson=filter_object(visible, lesson_id, "lesson"))
        return paginate(self, request, sessions.order_by("-started_at", "-id"), SessionSerializer)

    @extend_schema(
        tags=[STUDENT],
        summary="Start a session on a lesson",
        description="Questions are asked in a session; the tutor remembers its earlier "
        "questions. The new session's URL is in `Location`.",
        request=SessionStartSerializer,
        responses={201: SessionSerializer},
    )
    @idempotent()
    def post(self, request: Request, school_slug: str) -> Response:
        body = SessionStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lesson = selectors.lesson_get(
            member=self.membership, public_id=body.validated_data["lesson_id"]
        )
        session = explanation_services.session_start(actor=self.membership, lesson=lesson)
        return Response(
            SessionSerializer(session).data,
            status=201,
            headers={"Location": _session_location(request, school_slug, session.public_id)},
        )


class SessionDetailApi(SchoolApiView):
    @extend_schema(
        tags=[STUDENT],
        summary="A session with its messages",
        responses={200: SessionDetailSerializer},
    )
    def get(self, request: Request, school_slug: str, session_id: str) -> Response:
        session = selectors.session_get(member=self.membership, public_id=session_id)
        session.message_rows = list(  # type: ignore[attr-defined]
            selectors.message_list(school=self.school, session=session)
        )
        return Response(SessionDetailSerializer(session).data)


class QuestionInputSerializer(InputSerializer):
    question = serializers.CharField(max_length=MAX_QUESTION_CHARS)


class ExplanationRequestApi(SchoolApiView):
    throttle_classes = [AskUserThrottle, AskSchoolThrottle]

    @extend_schema(
        tags=[ASKING],
        summary="Ask the tutor",
        description=(
            "Queues an explanation and answers 202 at once with the explanation resource and "
            "its URL in `Location`. Follow it with `GET …/explanations/{id}` (poll) or "
            "`GET …/explanations/{id}/stream` (Server-Sent Events). Throttled per user and "
            "per school (429 with `Retry-After`)."
        ),
        request=QuestionInputSerializer,
        responses={202: ExplanationSerializer},
        examples=[
            OpenApiExample(
                "A question",
                value={"question": "Why do we keep the denominator?"},
                request_only=True,
            ),
            OpenApiExample(
                "Queued",
                value={
                    **EXPLANATION_EXAMPLE,
                    "status": "queued",
                    "content": "",
                    "content_html": "",
                    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                    "started_at": None,
                    "finished_at": None,
                },
                response_only=True,
                status_codes=["202"],
            ),
        ],
    )
    @idempotent()
    def post(self, request: Request, school_slug: str, session_id: str) -> Response:
        body = QuestionInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        session = selectors.session_get(member=self.membership, public_id=session_id)
        explanation = explanation_services.explanation_request(
            actor=self.membership, session=session, question=body.validated_data["question"]
        )
        return explanation_accepted(request, school_slug, explanation)
