"""Teacher endpoints of API v1 (under /teaching/): classes and enrolment, lessons with their
versions and publishing, exercises with their answer keys, transcripts, usage.

A teacher sees the classes they teach; a school admin sees every class of the school. The
selectors in tutoring/selectors.py draw that line; the services check it again.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Membership
from accounts.selectors import member_list
from base.api_input import InputSerializer, filter_object
from base.api_pagination import PAGE_PARAMETERS, paginate, paginated
from base.api_views import SchoolApiView
from base.idempotency import idempotent
from tutoring import selectors
from tutoring.api.student import (
    ClassroomRefSerializer,
    ExplanationErrorSerializer,
    LessonRefSerializer,
    MessageSerializer,
)
from tutoring.errors import InvalidInput, NotFound
from tutoring.models import Exercise, Explanation, Lesson
from tutoring.models.lessons import AnswerPolicy, ReadingLevel
from tutoring.rendering import render_markdown
from tutoring.services import lessons as lesson_services

TEACHER = "teacher"
TEACHER_ROLE = Membership.Role.TEACHER


def _absolute(request: Request, name: str, **kwargs: Any) -> str:
    return request.build_absolute_uri(reverse(name, kwargs=kwargs))


class PersonSerializer(serializers.Serializer):
    email = serializers.EmailField()
    full_name = serializers.CharField()


# --- Classes and enrolment -------------------------------------------------------------------


class TeachingClassroomSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()
    subject = serializers.CharField()
    student_count = serializers.IntegerField()
    last_activity_at = serializers.DateTimeField(
        allow_null=True, help_text="The latest student session in this class."
    )
    created_at = serializers.DateTimeField()


class ClassroomInputSerializer(InputSerializer):
    name = serializers.CharField(max_length=120)
    subject = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")


class TeachingClassListApi(SchoolApiView):
    required_role = TEACHER_ROLE

    @extend_schema(
        tags=[TEACHER],
        summary="Classes I teach",
        description="School admins see every class. Oldest first.",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(TeachingClassroomSerializer)},
    )
    def get(self, request: Request, school_slug: str) -> Response:
        classes = selectors.teacher_classroom_list(member=self.membership)
        return paginate(
            self, request, classes.order_by("created_at", "id"), TeachingClassroomSerializer
        )

    @extend_schema(
        tags=[TEACHER],
        summary="Create a class (I teach it)",
        request=ClassroomInputSerializer,
        responses={201: TeachingClassroomSerializer},
        examples=[
            OpenApiExample(
                "A class", value={"name": "Class 5B", "subject": "Maths"}, request_only=True
            )
        ],
    )
    @idempotent()
    def post(self, request: Request, school_slug: str) -> Response:
        body = ClassroomInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        created = lesson_services.classroom_create(actor=self.membership, **body.validated_data)
        classroom = selectors.teacher_classroom_get(
            member=self.membership, public_id=created.public_id
        )
        location = _absolute(
            request, "api-teaching-class", school_slug=school_slug, classroom_id=created.public_id
        )
        return Response(
            TeachingClassroomSerializer(classroom).data, status=201, headers={"Location": location}
        )


class TeachingClassDetailApi(SchoolApiView):
    required_role = TEACHER_ROLE

    @extend_schema(tags=[TEACHER], summary="A class", responses={200: TeachingClassroomSerializer})
    def get(self, request: Request, school_slug: str, classroom_id: str) -> Response:
        classroom = selectors.teacher_classroom_get(member=self.membership, public_id=classroom_id)
        return Response(TeachingClassroomSerializer(classroom).data)


class RosterEntrySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", help_text="This enrolment.")
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")
    joined_at = serializers.DateTimeField()
    last_session_at = serializers.DateTimeField(allow_null=True, default=None)


class EnrolInputSerializer(InputSerializer):
    member_id = serializers.UUIDField(
        required=False, help_text="The student's membership id (school admins' member list)."
    )
    email = serializers.EmailField(required=False, help_text="Or the student's e-mail address.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("member_id" in attrs) == ("email" in attrs):
            raise serializers.ValidationError("Give either member_id or email (one of them).")
        return attrs


class RosterApi(SchoolApiView):
    sends_location = False
    required_role = TEACHER_ROLE

    @extend_schema(
        tags=[TEACHER],
        summary="Students enrolled in a class",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(RosterEntrySerializer)},
    )
    def get(self, request: Request, school_slug: str, classroom_id: str) -> Response:
        classroom = selectors.teacher_classroom_get(member=self.membership, public_id=classroom_id)
        roster = selectors.classroom_roster(school=self.school, classroom=classroom)
        return paginate(self, request, roster.order_by("joined_at", "id"), RosterEntrySerializer)

    @extend_schema(
        tags=[TEACHER],
        summary="Enrol a member of the school in the class",
        description="Idempotent: enrolling someone already in the class changes nothing.",
        request=EnrolInputSerializer,
        responses={201: RosterEntrySerializer},
        examples=[
            OpenApiExample("By e-mail", value={"email": "alice@example.org"}, request_only=True)
        ],
    )
    @idempotent()
    def post(self, request: Request, school_slug: str, classroom_id: str) -> Response:
        body = EnrolInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        classroom = selectors.teacher_classroom_get(member=self.membership, public_id=classroom_id)
        members = member_list(school=self.school).filter(is_active=True)
        if member_id := body.validated_data.get("member_id"):
            target = members.filter(public_id=member_id).first()
        else:
            target = members.filter(user__email=body.validated_data["email"].lower()).first()
        if target is None:
            raise NotFound(_("That person is not a member of this school."))
        enrolment = lesson_services.classroom_enroll(
            actor=self.membership, classroom=classroom, user=target.user
        )
        return Response(RosterEntrySerializer(enrolment).data, status=201)


class RosterEntryApi(SchoolApiView):
    required_role = TEACHER_ROLE

    @extend_schema(tags=[TEACHER], summary="Remove a student from the class", responses={204: None})
    def delete(
        self, request: Request, school_slug: str, classroom_id: str, enrolment_id: str
    ) -> Response:
        classroom = selectors.teacher_classroom_get(member=self.membership, public_id=classroom_id)
        enrolment = selectors.classroom_student_get(
            school=self.school, classroom=classroom, public_id=enrolment_id
        )
        lesson_services.classroom_unenroll(
            actor=self.membership, classroom=classroom, user=enrolment.user
        )
        return Response(status=204)


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
        headers["Location"] = _absolute(
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


# --- Exercises -------------------------------------------------------------------------------


class TeachingExerciseSerializer(InputSerializer):
    """An exercise with its answer key (teachers only)."""

    id = serializers.UUIDField(source="public_id")
    position = serializers.IntegerField(min_value=0, max_value=10_000)
    prompt = serializers.CharField(max_length=5000, help_text="Markdown with TeX math.")
    answer_key = serializers.CharField(max_length=500)
    accepted_answers = serializers.ListField(
        child=serializers.CharField(max_length=500), max_length=50
    )
    misconception_tags = serializers.ListField(
        child=serializers.CharField(max_length=80), max_length=50
    )
    solution = serializers.CharField(allow_blank=True, max_length=20_000)


class ExerciseInputSerializer(TeachingExerciseSerializer):
    """Create: `prompt` and `answer_key` are required. Change: send only what changes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.pop("id")
        for name, field in self.fields.items():
            if name not in ("prompt", "answer_key") or self.partial:
                field.required = False


class ExerciseListApi(SchoolApiView):
    required_role = TEACHER_ROLE

    @extend_schema(
        tags=[TEACHER],
        summary="A lesson's exercises (with answer keys)",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(TeachingExerciseSerializer)},
    )
    def get(self, request: Request, school_slug: str, lesson_id: str) -> Response:
        lesson = selectors.lesson_get(member=self.membership, public_id=lesson_id, managing=True)
        exercises = selectors.exercise_list(school=self.school, lesson=lesson)
        return paginate(self, request, exercises, TeachingExerciseSerializer)

    @extend_schema(
        tags=[TEACHER],
        summary="Add an exercise",
        request=ExerciseInputSerializer,
        responses={201: TeachingExerciseSerializer},
        examples=[
            OpenApiExample(
                "An exercise",
                value={
                    "prompt": "What is 1/5 + 2/5?",
                    "answer_key": "3/5",
                    "accepted_answers": ["three fifths"],
                },
                request_only=True,
            )
        ],
    )
    @idempotent()
    def post(self, request: Request, school_slug: str, lesson_id: str) -> Response:
        body = ExerciseInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lesson = selectors.lesson_get(member=self.membership, public_id=lesson_id, managing=True)
        exercise = lesson_services.exercise_save(
            actor=self.membership, lesson=lesson, **body.validated_data
        )
        location = _absolute(
            request,
            "api-teaching-exercise",
            school_slug=school_slug,
            exercise_id=exercise.public_id,
        )
        return Response(
            TeachingExerciseSerializer(exercise).data, status=201, headers={"Location": location}
        )


class ExerciseDetailApi(SchoolApiView):
    required_role = TEACHER_ROLE

    def _exercise(self, exercise_id: str) -> Exercise:
        exercise = selectors.exercise_get(member=self.membership, public_id=exercise_id)
        if not selectors.teaches(self.membership, exercise.lesson.classroom):
            raise NotFound()
        return exercise

    @extend_schema(
        tags=[TEACHER],
        summary="An exercise (with its key)",
        responses={200: TeachingExerciseSerializer},
    )
    def get(self, request: Request, school_slug: str, exercise_id: str) -> Response:
        return Response(TeachingExerciseSerializer(self._exercise(exercise_id)).data)

    @extend_schema(
        tags=[TEACHER],
        summary="Change an exercise",
        request=ExerciseInputSerializer,
        responses={200: TeachingExerciseSerializer},
    )
    def patch(self, request: Request, school_slug: str, exercise_id: str) -> Response:
        body = ExerciseInputSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        exercise = self._exercise(exercise_id)
        current = {
            "prompt": exercise.prompt,
            "answer_key": exercise.answer_key,
            "accepted_answers": exercise.accepted_answers,
            "misconception_tags": exercise.misconception_tags,
            "solution": exercise.solution,
            "position": exercise.position,
        }
        exercise = lesson_services.exercise_save(
            actor=self.membership,
            lesson=exercise.lesson,
            exercise=exercise,
            **{**current, **body.validated_data},
        )
        return Response(TeachingExerciseSerializer(exercise).data)

    @extend_schema(tags=[TEACHER], summary="Delete an exercise", responses={204: None})
    def delete(self, request: Request, school_slug: str, exercise_id: str) -> Response:
        lesson_services.exercise_delete(actor=self.membership, exercise=self._exercise(exercise_id))
        return Response(status=204)


# --- Transcripts -----------------------------------------------------------------------------


class TranscriptSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    student = PersonSerializer()
    lesson = LessonRefSerializer()
    classroom = ClassroomRefSerializer(source="lesson.classroom")
    started_at = serializers.DateTimeField()
    explanation_count = serializers.IntegerField()
    last_activity_at = serializers.DateTimeField(allow_null=True)
    helpful_count = serializers.IntegerField()
    not_helpful_count = serializers.IntegerField()


class TranscriptExplanationSerializer(serializers.Serializer):
    """What the tutor was told and what it answered, with its cost."""

    id = serializers.UUIDField(source="public_id")
    kind = serializers.ChoiceField(choices=Explanation.Kind.choices)
    question = serializers.CharField()
    status = serializers.ChoiceField(choices=Explanation.Status.choices)
    content = serializers.CharField()
    provider = serializers.CharField()
    model = serializers.CharField()
    prompt_version = serializers.CharField()
    messages_sent = serializers.ListField(
        child=serializers.DictField(),
        help_text="The exact messages sent to the provider ({role, content}).",
    )
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    cost_microdollars = serializers.IntegerField()
    latency_ms = serializers.IntegerField(allow_null=True)
    served_from_cache = serializers.BooleanField()
    is_helpful = serializers.BooleanField(allow_null=True)
    feedback_comment = serializers.CharField()
    error = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="queued_at")
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(ExplanationErrorSerializer(allow_null=True))
    def get_error(self, explanation: Explanation) -> dict[str, str] | None:
        if not explanation.error_code and not explanation.error_message:
            return None
        return {"code": explanation.error_code, "message": explanation.error_text}


class TranscriptSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    student = PersonSerializer()
    lesson = LessonRefSerializer()
    classroom = ClassroomRefSerializer(source="lesson.classroom")
    lesson_version = serializers.IntegerField(source="lesson_version.number")
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    messages = MessageSerializer(many=True, source="message_rows")
    explanations = TranscriptExplanationSerializer(many=True, source="explanation_rows")


class TranscriptFilterSerializer(InputSerializer):
    student = serializers.UUIDField(required=False)
    lesson = serializers.UUIDField(required=False)
    feedback = serializers.ChoiceField(
        choices=[
            selectors.FeedbackFilter.HELPFUL,
            selectors.FeedbackFilter.NOT_HELPFUL,
            selectors.FeedbackFilter.NONE,
        ],
        required=False,
    )


class TranscriptListApi(SchoolApiView):
    required_role = TEACHER_ROLE

    @extend_schema(
        tags=[TEACHER],
        summary="Student sessions in my classes",
        description="Newest first. Previews are never listed.",
        parameters=[
            OpenApiParameter(
                "student", OpenApiTypes.UUID, description="Only this student (membership id)."
            ),
            OpenApiParameter("lesson", OpenApiTypes.UUID, description="Only this lesson."),
            OpenApiParameter(
                "feedback",
                str,
                enum=["helpful", "not_helpful", "none"],
                description="Sessions with an explanation rated helpful / not helpful, or "
                "with none rated.",
            ),
            *PAGE_PARAMETERS,
        ],
        responses={200: paginated(TranscriptSummarySerializer)},
    )
    def get(self, request: Request, school_slug: str) -> Response:
        query = TranscriptFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        student_id = lesson_id = None
        if "student" in filters:
            student = (
                selectors.transcript_filter_students(member=self.membership)
                .filter(public_id=filters["student"])
                .first()
            )
            if student is None:
                raise InvalidInput(
                    _("No such student in your classes."),
                    fields={"student": [_("No such student in your classes.")]},
                )
            student_id = student.user_id
        if "lesson" in filters:
            lessons = selectors.lesson_list_for_member(member=self.membership, managing=True)
            lesson_id = filter_object(lessons, filters["lesson"], "lesson").pk
        sessions = selectors.transcript_list(
            member=self.membership,
            student_id=student_id,
            lesson_id=lesson_id,
            feedback=filters.get("feedback", ""),
        )
        return paginate(
            self, request, sessions.order_by("-started_at", "-id"), TranscriptSummarySerializer
        )


class TranscriptDetailApi(SchoolApiView):
    required_role = TEACHER_ROLE

    @extend_schema(
        tags=[TEACHER],
        summary="A student session: messages and what the tutor was told",
        responses={200: TranscriptSerializer},
    )
    def get(self, request: Request, school_slug: str, session_id: str) -> Response:
        session = selectors.transcript_get(member=self.membership, public_id=session_id)
        session.message_rows = list(  # type: ignore[attr-defined]
            selectors.message_list(school=self.school, session=session)
        )
        session.explanation_rows = list(  # type: ignore[attr-defined]
            selectors.session_explanations(school=self.school, session=session)
        )
        return Response(TranscriptSerializer(session).data)


# --- Usage -----------------------------------------------------------------------------------


class DayUsageSerializer(serializers.Serializer):
    day = serializers.DateField(help_text="A day of the school's time zone.")
    tokens = serializers.IntegerField()
    cost_microdollars = serializers.IntegerField(help_text="Millionths of a dollar.")
    explanations = serializers.IntegerField(help_text="Questions asked that day.")


class UsageSerializer(serializers.Serializer):
    days = DayUsageSerializer(many=True)
    total_tokens = serializers.IntegerField()
    total_cost_microdollars = serializers.IntegerField()
    total_explanations = serializers.IntegerField()
    preview_tokens = serializers.IntegerField(help_text="Tokens of teachers' previews.")


class UsageApi(SchoolApiView):
    required_role = TEACHER_ROLE

    @extend_schema(
        tags=[TEACHER],
        summary="Usage of my classes, per day, last 30 days",
        description="Tokens, cost and questions asked per day (today included); school "
        "admins see the whole school.",
        responses={200: UsageSerializer},
    )
    def get(self, request: Request, school_slug: str) -> Response:
        summary = selectors.usage_by_day(member=self.membership, days=30)
        return Response(UsageSerializer(summary).data)
