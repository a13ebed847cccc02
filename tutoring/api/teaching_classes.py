"""Teacher endpoints of API v1 (under /teaching/) for classes and enrolment: the classes
a teacher teaches, one class, and its roster.

A teacher sees the classes they teach; a school admin sees every class of the school. The
selectors in tutoring/selectors.py draw that line; the services check it again.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import member_list
from base.api_input import InputSerializer
from base.api_pagination import PAGE_PARAMETERS, paginate, paginated
from base.api_views import SchoolApiView
from base.idempotency import idempotent
from tutoring import selectors
from tutoring.api.representations import (
    TEACHER,
    TEACHER_ROLE,
    absolute_url,
)
from tutoring.errors import NotFound
from tutoring.services import lessons as lesson_services

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
        location = absolute_url(
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
