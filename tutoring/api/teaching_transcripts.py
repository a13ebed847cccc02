"""Teacher endpoints of API v1 (under /teaching/) for what the tutor said and what it cost:
transcripts of sessions and the school's usage.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from base.api_input import InputSerializer, filter_object
from base.api_pagination import PAGE_PARAMETERS, paginate, paginated
from base.api_views import SchoolApiView
from tutoring import selectors
from tutoring.api.representations import (
    TEACHER,
    TEACHER_ROLE,
    ClassroomRefSerializer,
    ExplanationErrorSerializer,
    LessonRefSerializer,
    MessageSerializer,
    PersonSerializer,
)
from tutoring.errors import InvalidInput
from tutoring.models import Explanation


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
