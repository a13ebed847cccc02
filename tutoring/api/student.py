"""Student endpoints of API v1: classes, lessons, exercises, sessions, asking the tutor,
explanations, feedback and the student's profile.

Answer keys, accepted answers, worked solutions and the teacher's notes for the tutor are
never part of a student representation: the serializers here simply have no such fields.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.urls import reverse
from django.utils.http import http_date, parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from base.api_input import InputSerializer, filter_object
from base.api_pagination import PAGE_PARAMETERS, paginate, paginated
from base.api_throttles import AskSchoolThrottle, AskUserThrottle
from base.api_views import SchoolApiView
from base.idempotency import idempotent
from tutoring import selectors
from tutoring.errors import NotFound
from tutoring.live.sse import explanation_label
from tutoring.models import Explanation, Lesson, Message
from tutoring.models.lessons import ReadingLevel
from tutoring.rendering import render_markdown, render_plain
from tutoring.services import explanations as explanation_services
from tutoring.services import lessons as lesson_services
from tutoring.services import profiles as profile_services
from tutoring.services.explanations import MAX_COMMENT_CHARS, MAX_QUESTION_CHARS

STUDENT = "student"
ASKING = "asking the tutor"


def _markdown(text: str) -> str:
    return str(render_markdown(text)) if text else ""


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
        return _markdown(explanation.content)

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


def _accepted(request: Request, school_slug: str, explanation: Explanation) -> Response:
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


# --- Classes and lessons ---------------------------------------------------------------------


class ClassroomSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()
    subject = serializers.CharField()
    created_at = serializers.DateTimeField()


class ClassListApi(SchoolApiView):
    @extend_schema(
        tags=[STUDENT],
        summary="My classes",
        description="Classes I am enrolled in or teach (school admins: every class).",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(ClassroomSerializer)},
    )
    def get(self, request: Request, school_slug: str) -> Response:
        classes = selectors.classroom_list_for_member(member=self.membership)
        return paginate(self, request, classes.order_by("created_at", "id"), ClassroomSerializer)


class LessonSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    title = serializers.CharField(source="published_version.title")
    subject = serializers.CharField(source="published_version.subject")
    grade_band = serializers.CharField(source="published_version.grade_band")
    language = serializers.CharField(source="published_version.language")
    classroom = ClassroomRefSerializer()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class LessonFilterSerializer(InputSerializer):
    classroom = serializers.UUIDField(required=False)


class LessonListApi(SchoolApiView):
    @extend_schema(
        tags=[STUDENT],
        summary="Lessons I can study",
        description="Published lessons of my classes, oldest first.",
        parameters=[
            OpenApiParameter("classroom", OpenApiTypes.UUID, description="Only this class."),
            *PAGE_PARAMETERS,
        ],
        responses={200: paginated(LessonSummarySerializer)},
    )
    def get(self, request: Request, school_slug: str) -> Response:
        query = LessonFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        lessons = (
            selectors.lesson_list_for_member(member=self.membership)
            .filter(status=Lesson.Status.PUBLISHED, published_version__isnull=False)
            .select_related("published_version")
        )
        if classroom_id := query.validated_data.get("classroom"):
            classes = selectors.classroom_list_for_member(member=self.membership)
            lessons = lessons.filter(classroom=filter_object(classes, classroom_id, "classroom"))
        return paginate(
            self, request, lessons.order_by("created_at", "id"), LessonSummarySerializer
        )


class StudentExerciseSerializer(serializers.Serializer):
    """An exercise as a student sees it: the question only, never the answer."""

    id = serializers.UUIDField(source="public_id")
    position = serializers.IntegerField()
    prompt = serializers.CharField(help_text="Markdown with TeX math.")
    prompt_html = serializers.SerializerMethodField()

    def get_prompt_html(self, exercise: Any) -> str:
        return _markdown(exercise.prompt)


class LessonDetailSerializer(serializers.Serializer):
    """The published version of a lesson, with its exercises (questions only)."""

    id = serializers.UUIDField(source="public_id")
    version = serializers.IntegerField(source="published_version.number")
    title = serializers.CharField(source="published_version.title")
    subject = serializers.CharField(source="published_version.subject")
    grade_band = serializers.CharField(source="published_version.grade_band")
    language = serializers.CharField(source="published_version.language")
    reading_level = serializers.ChoiceField(
        source="published_version.reading_level", choices=ReadingLevel.choices
    )
    objectives = serializers.CharField(source="published_version.objectives")
    key_concepts = serializers.CharField(source="published_version.key_concepts")
    material = serializers.CharField(
        source="published_version.material", help_text="Markdown with TeX math."
    )
    material_html = serializers.SerializerMethodField(help_text="`material`, sanitized HTML.")
    worked_examples = serializers.CharField(source="published_version.worked_examples")
    worked_examples_html = serializers.SerializerMethodField()
    classroom = ClassroomRefSerializer()
    updated_at = serializers.DateTimeField()
    exercises = StudentExerciseSerializer(many=True, source="exercises_for_student")

    def get_material_html(self, lesson: Lesson) -> str:
        return _markdown(lesson.published_version.material)  # type: ignore[union-attr]  # published only

    def get_worked_examples_html(self, lesson: Lesson) -> str:
        return _markdown(lesson.published_version.worked_examples)  # type: ignore[union-attr]  # as above


def _etag(data: Any) -> str:
    body = json.dumps(data, sort_keys=True, cls=JSONEncoder).encode()
    return f'"{hashlib.sha256(body).hexdigest()[:40]}"'


LESSON_CACHE_HEADERS = [
    OpenApiParameter(
        name,
        str,
        OpenApiParameter.HEADER,
        required=True,
        description=description,
        response=[200, 304],
    )
    for name, description in (
        ("ETag", "Send back as `If-None-Match` to revalidate."),
        ("Last-Modified", "When the lesson last changed (HTTP date)."),
        ("Cache-Control", "`private, no-cache`: keep it, but revalidate before use."),
    )
]


class LessonDetailApi(SchoolApiView):
    @extend_schema(
        tags=[STUDENT],
        summary="A lesson with its material and exercises",
        description=(
            "The published version. Send the `ETag` you got as `If-None-Match` to get 304 "
            "with no body when nothing changed. Answer keys are never included."
        ),
        parameters=[
            OpenApiParameter(
                "If-None-Match",
                str,
                OpenApiParameter.HEADER,
                description="An ETag from an earlier answer.",
            ),
            *LESSON_CACHE_HEADERS,
        ],
        responses={
            200: LessonDetailSerializer,
            304: OpenApiResponse(description="Not modified: use your copy."),
        },
    )
    def get(self, request: Request, school_slug: str, lesson_id: str) -> Response:
        lesson = selectors.lesson_get(member=self.membership, public_id=lesson_id)
        if not lesson.is_published or lesson.published_version is None:
            raise NotFound()
        lesson.exercises_for_student = list(  # type: ignore[attr-defined]
            selectors.exercise_list(school=self.school, lesson=lesson)
        )
        data = LessonDetailSerializer(lesson).data
        etag = _etag(data)
        headers = {
            "ETag": etag,
            "Last-Modified": http_date(lesson.updated_at.timestamp()),
            # Per user (it is behind authentication), and always revalidated.
            "Cache-Control": "private, no-cache",
        }
        candidates = parse_etags(request.headers.get("If-None-Match", ""))
        if etag in candidates or "*" in candidates:
            return Response(status=304, headers=headers)
        return Response(data, headers=headers)


# --- Exercises -------------------------------------------------------------------------------


class AttemptInputSerializer(InputSerializer):
    answer = serializers.CharField(max_length=500, trim_whitespace=True)


class AttemptSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    exercise_id = serializers.UUIDField(source="exercise.public_id")
    answer = serializers.CharField()
    is_correct = serializers.BooleanField(help_text="Checked on the server against the key.")
    created_at = serializers.DateTimeField()


class ExerciseAttemptApi(SchoolApiView):
    sends_location = False  # an attempt has no URL of its own

    @extend_schema(
        tags=[STUDENT],
        summary="Answer an exercise",
        description="The answer is checked on the server; only `is_correct` comes back.",
        request=AttemptInputSerializer,
        responses={201: AttemptSerializer},
        examples=[OpenApiExample("An answer", value={"answer": "3/5"}, request_only=True)],
    )
    @idempotent()
    def post(self, request: Request, school_slug: str, exercise_id: str) -> Response:
        body = AttemptInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        exercise = selectors.exercise_get(member=self.membership, public_id=exercise_id)
        attempt = lesson_services.exercise_attempt_submit(
            actor=self.membership, exercise=exercise, answer=body.validated_data["answer"]
        )
        return Response(AttemptSerializer(attempt).data, status=201)


class ExplainInputSerializer(InputSerializer):
    session_id = serializers.UUIDField(
        required=False, help_text="Continue this session (default: a new one)."
    )


class ExplainMyAnswerApi(SchoolApiView):
    throttle_classes = [AskUserThrottle, AskSchoolThrottle]

    @extend_schema(
        tags=[ASKING],
        summary="Explain my (wrong) answer",
        description="Queues an explanation of why the attempt's answer is wrong. 202: poll "
        "the `Location` or stream it.",
        request=ExplainInputSerializer,
        responses={202: ExplanationSerializer},
    )
    @idempotent()
    def post(self, request: Request, school_slug: str, attempt_id: str) -> Response:
        body = ExplainInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        attempt = selectors.exercise_attempt_get(member=self.membership, public_id=attempt_id)
        session = None
        if session_id := body.validated_data.get("session_id"):
            session = selectors.session_get(member=self.membership, public_id=session_id)
        explanation = explanation_services.explain_my_answer(
            actor=self.membership, attempt=attempt, session=session
        )
        return _accepted(request, school_slug, explanation)


# --- Sessions and questions ------------------------------------------------------------------


class SessionSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    lesson = LessonRefSerializer()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)


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
            return _markdown(message.content)
        return str(render_plain(message.content))

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_explanation_id(self, message: Message) -> str | None:
        return str(message.explanation.public_id) if message.explanation else None

    @extend_schema_field(
        serializers.ChoiceField(choices=Explanation.Status.choices, allow_null=True)
    )
    def get_explanation_status(self, message: Message) -> str | None:
        return message.explanation.status if message.explanation else None


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
        return _accepted(request, school_slug, explanation)


# --- Explanations ----------------------------------------------------------------------------


class ExplanationDetailApi(SchoolApiView):
    @extend_schema(
        tags=[ASKING],
        summary="An explanation (poll until its status is final)",
        description="Poll every 2 s or so until `status` is succeeded, failed or blocked.",
        responses={200: ExplanationSerializer},
        examples=[
            OpenApiExample(
                "Answered", value=EXPLANATION_EXAMPLE, response_only=True, status_codes=["200"]
            ),
            OpenApiExample(
                "Failed",
                value={
                    **EXPLANATION_EXAMPLE,
                    "status": "failed",
                    "content": "",
                    "content_html": "",
                    "error": {
                        "code": "provider_unavailable",
                        "message": "The tutor is busy. Try again in a minute.",
                    },
                },
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def get(self, request: Request, school_slug: str, explanation_id: str) -> Response:
        explanation = selectors.explanation_get(member=self.membership, public_id=explanation_id)
        return Response(ExplanationSerializer(explanation).data)


class FeedbackInputSerializer(InputSerializer):
    is_helpful = serializers.BooleanField()
    comment = serializers.CharField(
        max_length=MAX_COMMENT_CHARS, required=False, allow_blank=True, default=""
    )


class ExplanationFeedbackApi(SchoolApiView):
    @extend_schema(
        tags=[ASKING],
        summary="Was it helpful?",
        description="Rate a succeeded explanation (can be changed later).",
        request=FeedbackInputSerializer,
        responses={200: ExplanationSerializer},
        examples=[
            OpenApiExample("Helpful", value={"is_helpful": True, "comment": ""}, request_only=True)
        ],
    )
    @idempotent()
    def post(self, request: Request, school_slug: str, explanation_id: str) -> Response:
        body = FeedbackInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        explanation = selectors.explanation_get(member=self.membership, public_id=explanation_id)
        explanation = explanation_services.explanation_feedback(
            actor=self.membership,
            explanation=explanation,
            is_helpful=body.validated_data["is_helpful"],
            comment=body.validated_data["comment"],
        )
        return Response(ExplanationSerializer(explanation).data)


class ExplanationRetryApi(SchoolApiView):
    @extend_schema(
        tags=[ASKING],
        summary="Retry a failed explanation",
        description="Queues a failed explanation again (202). Anything else is returned as "
        "it is: retrying is idempotent.",
        request=None,
        responses={202: ExplanationSerializer},
    )
    @idempotent()
    def post(self, request: Request, school_slug: str, explanation_id: str) -> Response:
        explanation = selectors.explanation_get(member=self.membership, public_id=explanation_id)
        explanation = explanation_services.explanation_retry(
            actor=self.membership, explanation=explanation
        )
        return _accepted(request, school_slug, explanation)


# --- Profile ---------------------------------------------------------------------------------


class ProfileSerializer(InputSerializer):
    """What personalizes explanations. Never a name or e-mail address."""

    grade = serializers.CharField(max_length=20, allow_blank=True, required=False)
    preferred_language = serializers.CharField(max_length=10, allow_blank=True, required=False)
    reading_level = serializers.ChoiceField(
        choices=[("", "Lesson's level"), *ReadingLevel.choices], allow_blank=True, required=False
    )
    interests = serializers.CharField(max_length=300, allow_blank=True, required=False)
    accommodations = serializers.CharField(max_length=300, allow_blank=True, required=False)


class ProfileApi(SchoolApiView):
    @extend_schema(
        tags=[STUDENT], summary="My learning profile", responses={200: ProfileSerializer}
    )
    def get(self, request: Request, school_slug: str) -> Response:
        profile = profile_services.profile_get_or_create(school_member=self.membership)
        return Response(ProfileSerializer(profile).data)

    @extend_schema(
        tags=[STUDENT],
        summary="Change my learning profile",
        description="Send only the fields to change.",
        request=ProfileSerializer,
        responses={200: ProfileSerializer},
        examples=[
            OpenApiExample(
                "Interests",
                value={"interests": "football, baking", "reading_level": "elementary"},
                request_only=True,
            )
        ],
    )
    def patch(self, request: Request, school_slug: str) -> Response:
        body = ProfileSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        profile = profile_services.profile_get_or_create(school_member=self.membership)
        profile = profile_services.profile_update(
            actor=self.membership, profile=profile, **body.validated_data
        )
        return Response(ProfileSerializer(profile).data)
