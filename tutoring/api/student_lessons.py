"""Student endpoints of API v1 for classes, lessons and exercises: the class and lesson
lists, a lesson with its exercises (with ETag caching), answer attempts and "explain my
answer".

Answer keys, accepted answers, worked solutions and the teacher's notes for the tutor are
never part of a student representation: the serializers here simply have no such fields.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.utils.http import http_date, parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
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
from tutoring.api.representations import (
    ASKING,
    STUDENT,
    ClassroomRefSerializer,
    ExplanationSerializer,
    explanation_accepted,
    markdown_html,
)
from tutoring.errors import NotFound
from tutoring.models import Lesson
from tutoring.models.lessons import ReadingLevel
from tutoring.services import explanations as explanation_services
from tutoring.services import lessons as lesson_services

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
        return markdown_html(exercise.prompt)


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
        return markdown_html(lesson.published_version.material)  # type: ignore[union-attr]  # published only

    def get_worked_examples_html(self, lesson: Lesson) -> str:
        return markdown_html(lesson.published_version.worked_examples)  # type: ignore[union-attr]  # as above


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
        return explanation_accepted(request, school_slug, explanation)
