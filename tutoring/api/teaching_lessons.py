"""Teacher endpoints of API v1 (under /teaching/) for lesson authoring: lessons and their
contract, versions, publishing and unpublishing.

A teacher sees the lessons of the classes they teach; a school admin sees every lesson of
the school. The selectors draw that line; the services check it again.
"""

from __future__ import annotations

from typing import Any

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
from base.api_views import SchoolApiView
from base.idempotency import idempotent
from tutoring import selectors
from tutoring.api.representations import (
    TEACHER,
    TEACHER_ROLE,
    ClassroomRefSerializer,
    absolute_url,
)
from tutoring.models import Lesson
from tutoring.models.lessons import AnswerPolicy, ReadingLevel
from tutoring.rendering import render_markdown
from tutoring.services import lessons as lesson_services

# --- Lessons ---------------------------------------------------------------------------------


class _ContractFields(InputSerializer):
    """The lesson contract: what the tutor is told about the lesson."""

    title = serializers.CharField(max_length=200)
    subject = serializers.CharField(max_length=80, allow_blank=True)
    grade_band = serializers.CharField(max_length=40, allow_blank=True)
    objectives = serializers.CharField(allow_blank=True, max_length=20_000)
    key_concepts = serializers.CharField(allow_blank=True, max_length=20_000)
    material = serializers.CharField(
        allow_blank=True, max_length=100_000, help_text="Markdown with TeX math."
    )
    worked_examples = serializers.CharField(allow_blank=True, max_length=50_000)
    misconceptions = serializers.CharField(allow_blank=True, max_length=20_000)
    tone = serializers.CharField(max_length=120, allow_blank=True)
    reading_level = serializers.ChoiceField(choices=ReadingLevel.choices)
    language = serializers.CharField(max_length=10)
    answer_policy = serializers.ChoiceField(choices=AnswerPolicy.choices)
    full_solution_after_tries = serializers.IntegerField(min_value=0, max_value=100)
    solution_released = serializers.BooleanField()


class LessonInputSerializer(_ContractFields):
    """Create: `classroom_id` and `title` are required; every other field has a default."""

    classroom_id = serializers.UUIDField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name not in ("classroom_id", "title"):
                field.required = False


class LessonPatchSerializer(_ContractFields):
    """Change: send only the fields to change. Editing a published lesson publishes a new
    version at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class TeachingLessonSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    title = serializers.CharField()
    classroom = ClassroomRefSerializer()
    status = serializers.ChoiceField(choices=Lesson.Status.choices)
    published_version = serializers.IntegerField(
        source="published_version.number", allow_null=True, default=None
    )
    exercise_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class TeachingLessonSerializer(_ContractFields):
    """The editable lesson (draft fields), its status and the published version number."""

    id = serializers.UUIDField(source="public_id")
    classroom = ClassroomRefSerializer()
    status = serializers.ChoiceField(choices=Lesson.Status.choices)
    published_version = serializers.IntegerField(
        source="published_version.number", allow_null=True, default=None
    )
    material_html = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_material_html(self, lesson: Lesson) -> str:
        return str(render_markdown(lesson.material)) if lesson.material else ""


class LessonListFilterSerializer(InputSerializer):
    classroom = serializers.UUIDField(required=False)


def _lesson_response(request: Request, school_slug: str, lesson: Lesson, status: int) -> Response:
    headers = {}
    if status == 201:
        headers["Location"] = absolute_url(
            request, "api-teaching-lesson", school_slug=school_slug, lesson_id=lesson.public_id
        )
    return Response(TeachingLessonSerializer(lesson).data, status=status, headers=headers)


class TeachingLessonListApi(SchoolApiView):
    required_role = TEACHER_ROLE

    @extend_schema(
        tags=[TEACHER],
        summary="Lessons of my classes (drafts too)",
        parameters=[
            OpenApiParameter("classroom", OpenApiTypes.UUID, description="Only this class."),
            *PAGE_PARAMETERS,
        ],
        responses={200: paginated(TeachingLessonSummarySerializer)},
    )
    def get(self, request: Request, school_slug: str) -> Response:
        query = LessonListFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        lessons = selectors.lesson_list_for_member(member=self.membership, managing=True)
        if classroom_id := query.validated_data.get("classroom"):
            classes = selectors.teacher_classroom_list(member=self.membership)
            lessons = lessons.filter(classroom=filter_object(classes, classroom_id, "classroom"))
        return paginate(
            self, request, lessons.order_by("created_at", "id"), TeachingLessonSummarySerializer
        )

    @extend_schema(
        tags=[TEACHER],
        summary="Create a draft lesson",
        request=LessonInputSerializer,
        responses={201: TeachingLessonSerializer},
        examples=[
            OpenApiExample(
                "A lesson",
                value={
                    "classroom_id": "4a0c2f8e-2b7d-4d61-9a37-0c1f6f0b7a11",
                    "title": "Adding fractions",
                    "objectives": "Add fractions with the same denominator",
                    "material": "Add the numerators, keep the denominator: "
                    "$\\frac{1}{5} + \\frac{2}{5} = \\frac{3}{5}$.",
                    "reading_level": "elementary",
                    "answer_policy": "hints_first",
                },
                request_only=True,
            )
        ],
    )
    @idempotent()
    def post(self, request: Request, school_slug: str) -> Response:
        body = LessonInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        classroom = selectors.teacher_classroom_get(
            member=self.membership, public_id=fields.pop("classroom_id")
        )
        lesson = lesson_services.lesson_create(actor=self.membership, classroom=classroom, **fields)
        return _lesson_response(request, school_slug, lesson, 201)


class TeachingLessonDetailApi(SchoolApiView):
    required_role = TEACHER_ROLE

    @extend_schema(
        tags=[TEACHER],
        summary="A lesson (editable fields)",
        responses={200: TeachingLessonSerializer},
    )
    def get(self, request: Request, school_slug: str, lesson_id: str) -> Response:
        lesson = selectors.lesson_get(member=self.membership, public_id=lesson_id, managing=True)
        return _lesson_response(request, school_slug, lesson, 200)

    @extend_schema(
        tags=[TEACHER],
        summary="Change a lesson",
        description="Only the fields sent change. A published lesson gets a new version at "
        "once; explanations keep the version they were written for.",
        request=LessonPatchSerializer,
        responses={200: TeachingLessonSerializer},
    )
    def patch(self, request: Request, school_slug: str, lesson_id: str) -> Response:
        body = LessonPatchSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        lesson = selectors.lesson_get(member=self.membership, public_id=lesson_id, managing=True)
        lesson_services.lesson_update(actor=self.membership, lesson=lesson, **body.validated_data)
        lesson = selectors.lesson_get(member=self.membership, public_id=lesson_id, managing=True)
        return _lesson_response(request, school_slug, lesson, 200)


def _set_published(
    view: SchoolApiView, request: Request, school_slug: str, lesson_id: str, *, publish: bool
) -> Response:
    lesson = selectors.lesson_get(member=view.membership, public_id=lesson_id, managing=True)
    if publish:
        lesson_services.lesson_publish(actor=view.membership, lesson=lesson)
    else:
        lesson_services.lesson_unpublish(actor=view.membership, lesson=lesson)
    lesson = selectors.lesson_get(member=view.membership, public_id=lesson_id, managing=True)
    return _lesson_response(request, school_slug, lesson, 200)


class LessonPublishApi(SchoolApiView):
    required_role = TEACHER_ROLE

    @extend_schema(
        tags=[TEACHER],
        summary="Publish a lesson",
        description="Students of the class can study it; a new version is made when the "
        "contract changed since the last one.",
        request=None,
        responses={200: TeachingLessonSerializer},
    )
    @idempotent()
    def post(self, request: Request, school_slug: str, lesson_id: str) -> Response:
        return _set_published(self, request, school_slug, lesson_id, publish=True)


class LessonUnpublishApi(SchoolApiView):
    required_role = TEACHER_ROLE

    @extend_schema(
        tags=[TEACHER],
        summary="Unpublish a lesson",
        description="Students no longer see it; its versions and transcripts stay.",
        request=None,
        responses={200: TeachingLessonSerializer},
    )
    @idempotent()
    def post(self, request: Request, school_slug: str, lesson_id: str) -> Response:
        return _set_published(self, request, school_slug, lesson_id, publish=False)


class LessonVersionSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    number = serializers.IntegerField()
    title = serializers.CharField()
    created_at = serializers.DateTimeField()
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)


class LessonVersionListApi(SchoolApiView):
    required_role = TEACHER_ROLE

    @extend_schema(
        tags=[TEACHER],
        summary="A lesson's published versions",
        description="Newest first.",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(LessonVersionSerializer)},
    )
    def get(self, request: Request, school_slug: str, lesson_id: str) -> Response:
        lesson = selectors.lesson_get(member=self.membership, public_id=lesson_id, managing=True)
        versions = selectors.lesson_version_list(school=self.school, lesson=lesson)
        return paginate(self, request, versions, LessonVersionSerializer)
