"""Safety and privacy endpoints of API v1 (under /api/v1/schools/<school_slug>/).

Teachers: the review queue (`safety/review-items`) and decisions. Students: the AI-use
policy and its acceptance. School admins: the audit trail, a student's data export and
deletion. Thin: parse, call one selector or service (tutoring/safety), serialize; errors
are the services' domain errors, mapped to the envelope by base.api_errors.
"""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.audit import AuditEvent, audit_event_list
from accounts.models import Membership
from base.api_input import InputSerializer
from base.api_pagination import PAGE_PARAMETERS, paginate, paginated
from base.api_views import SchoolApiView
from base.idempotency import idempotent
from tutoring.api.exports import StudentExportSerializer
from tutoring.errors import InvalidInput
from tutoring.models import ModerationAction, ModerationCategory, ReviewItem
from tutoring.safety import data_rights, policy, review, selectors
from tutoring.safety.review import DECISIONS

SAFETY = "safety"
TEACHER_ROLE = Membership.Role.TEACHER
ADMIN_ROLE = Membership.Role.SCHOOL_ADMIN


# --- Review queue ----------------------------------------------------------------------------


class ReviewItemSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    created_at = serializers.DateTimeField()
    student = serializers.CharField(source="student.display_name")
    classroom = serializers.CharField(source="classroom.name", allow_null=True, default=None)
    session_id = serializers.UUIDField(source="explanation.session.public_id")
    # Named like Field.source, which the stubs see; DRF's metaclass takes it off the class.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=ReviewItem.Source.choices,
        help_text="`input`: the student's message; `output`: the tutor's reply.",
    )
    action = serializers.ChoiceField(
        choices=ModerationAction.choices,
        help_text="`flag`: answered and queued; `support`/`block`: not answered, a kind "
        "reply was shown instead.",
    )
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=ModerationCategory.choices)
    )
    severity = serializers.CharField()
    detector = serializers.CharField(help_text="`local` rules, `openai` moderation, or both.")
    text = serializers.CharField(source="flagged_text", help_text="What was checked.")
    status = serializers.ChoiceField(choices=ReviewItem.Status.choices)
    decided_by = serializers.CharField(
        source="decided_by.display_name", allow_null=True, default=None
    )
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    notified_at = serializers.DateTimeField(
        allow_null=True, help_text="When the school's safety contacts were e-mailed."
    )


class ReviewDecisionSerializer(InputSerializer):
    status = serializers.ChoiceField(choices=[str(d) for d in DECISIONS])
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Required for `false_positive`.",
    )


class ReviewItemListApi(SchoolApiView):
    required_role = TEACHER_ROLE

    @extend_schema(
        tags=[SAFETY],
        summary="The review queue",
        description="Flagged and blocked messages of the classes the caller teaches (school "
        "admins: every class), newest first.",
        parameters=[
            OpenApiParameter(
                "status", str, enum=list(selectors.REVIEW_FILTERS), description="Default `open`."
            ),
            *PAGE_PARAMETERS,
        ],
        responses={200: paginated(ReviewItemSerializer)},
    )
    def get(self, request: Request, school_slug: str) -> Response:
        show = request.query_params.get("status", "open")
        if show not in selectors.REVIEW_FILTERS:
            raise InvalidInput(fields={"status": [_("Use open, decided or all.")]})
        items = selectors.review_item_list(school=self.school, member=self.membership, show=show)
        return paginate(self, request, items, ReviewItemSerializer)


class ReviewItemDetailApi(SchoolApiView):
    required_role = TEACHER_ROLE

    @extend_schema(tags=[SAFETY], summary="One review item", responses={200: ReviewItemSerializer})
    def get(self, request: Request, school_slug: str, item_id: str) -> Response:
        item = selectors.review_item_get(
            school=self.school, member=self.membership, public_id=item_id
        )
        return Response(ReviewItemSerializer(item).data)


class ReviewDecisionApi(SchoolApiView):
    required_role = TEACHER_ROLE

    @extend_schema(
        tags=[SAFETY],
        summary="Decide on a review item",
        description="`reviewed`, `false_positive` (with a note) or `escalated` (e-mails the "
        "school's safety contacts). Can be changed later; every decision is audited.",
        request=ReviewDecisionSerializer,
        responses={200: ReviewItemSerializer},
        examples=[
            OpenApiExample(
                "False positive",
                value={"status": "false_positive", "note": "A quote from the novel."},
                request_only=True,
            )
        ],
    )
    @idempotent()
    def post(self, request: Request, school_slug: str, item_id: str) -> Response:
        body = ReviewDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = selectors.review_item_get(
            school=self.school, member=self.membership, public_id=item_id
        )
        item = review.review_item_decide(actor=self.membership, item=item, **body.validated_data)
        return Response(ReviewItemSerializer(item).data)


# --- AI-use policy ---------------------------------------------------------------------------


class PolicySerializer(serializers.Serializer):
    version = serializers.IntegerField(allow_null=True, help_text="Null: nothing published.")
    text = serializers.CharField(allow_blank=True)
    published_at = serializers.DateTimeField(allow_null=True)
    is_required = serializers.BooleanField(
        help_text="Whether the tutor answers only students who accepted."
    )
    accepted_at = serializers.DateTimeField(
        allow_null=True, help_text="When the caller accepted this version (students)."
    )
    needs_guardian = serializers.BooleanField(
        help_text="A guardian's confirmation, recorded by the school, is also needed."
    )
    guardian_confirmed_at = serializers.DateTimeField(allow_null=True)
    may_use_tutor = serializers.BooleanField()


class PolicyAcceptSerializer(InputSerializer):
    version = serializers.IntegerField(help_text="The version number the student read.")


def _policy(view: SchoolApiView) -> dict[str, object]:
    standing = policy.policy_status(school=view.school, student_id=view.membership.user_id)
    version = standing.version
    return PolicySerializer(
        {
            "version": version.number if version else None,
            "text": version.text if version else "",
            "published_at": version.published_at if version else None,
            "is_required": standing.is_required,
            "accepted_at": standing.accepted_at,
            "needs_guardian": standing.is_required and standing.needs_guardian,
            "guardian_confirmed_at": standing.guardian_confirmed_at,
            "may_use_tutor": standing.is_satisfied,
        }
    ).data


class PolicyApi(SchoolApiView):
    @extend_schema(
        tags=[SAFETY],
        summary="The school's AI-use policy and where the caller stands",
        responses={200: PolicySerializer},
    )
    def get(self, request: Request, school_slug: str) -> Response:
        return Response(_policy(self))


class PolicyAcceptApi(SchoolApiView):
    extra_error_statuses = {"POST": (403,)}

    @extend_schema(
        tags=[SAFETY],
        summary="Accept the current policy version (students)",
        description="Send the version number that was read: a newer version published in "
        "between is refused (400) so nobody accepts text they did not see. Idempotent.",
        request=PolicyAcceptSerializer,
        responses={200: PolicySerializer},
    )
    @idempotent()
    def post(self, request: Request, school_slug: str) -> Response:
        body = PolicyAcceptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if self.membership.role != Membership.Role.STUDENT:
            raise InvalidInput(_("Only students accept the policy."))
        version = policy.policy_current(self.school)
        if version is None or version.number != body.validated_data["version"]:
            raise InvalidInput(
                _("That is not the current version: read the current one and accept it."),
                fields={"version": [_("Not the current version.")]},
            )
        policy.policy_accept(actor=self.membership, version=version)
        return Response(_policy(self))


# --- Audit trail, data rights (school admins) ------------------------------------------------


class AuditEventSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(
        source="actor_label", help_text="The actor's e-mail; empty for automatic work."
    )
    action = serializers.ChoiceField(choices=AuditEvent.Action.choices)
    target = serializers.CharField()
    details = serializers.DictField()
    ip_address = serializers.IPAddressField(allow_null=True)


class AuditEventListApi(SchoolApiView):
    required_role = ADMIN_ROLE

    @extend_schema(
        tags=[SAFETY],
        summary="The school's audit trail",
        description="Append-only; newest first.",
        parameters=[
            OpenApiParameter("action", str, enum=AuditEvent.Action.values),
            *PAGE_PARAMETERS,
        ],
        responses={200: paginated(AuditEventSerializer)},
    )
    def get(self, request: Request, school_slug: str) -> Response:
        action = request.query_params.get("action", "")
        if action and action not in AuditEvent.Action.values:
            raise InvalidInput(fields={"action": [_("Unknown action.")]})
        events = audit_event_list(school=self.school, action=action)
        return paginate(self, request, events, AuditEventSerializer)


class StudentExportApi(SchoolApiView):
    required_role = ADMIN_ROLE

    @extend_schema(
        tags=[SAFETY],
        summary="Export one student's data (JSON archive)",
        description="Profile, sessions, messages, explanations (with what was sent to the AI "
        "service), feedback, exercise answers, policy records. Audited.",
        request=None,
        responses={200: StudentExportSerializer},
    )
    def post(self, request: Request, school_slug: str, member_id: str) -> Response:
        student = data_rights.student_membership_get(school=self.school, member_id=member_id)
        data = data_rights.student_data_export(
            school=self.school, student=student, actor=self.membership, via="api"
        )
        return Response(StudentExportSerializer(data).data)


class StudentDeletionSerializer(serializers.Serializer):
    sessions = serializers.IntegerField()
    messages = serializers.IntegerField()
    explanations = serializers.IntegerField()
    exercise_answers = serializers.IntegerField()
    usage_rows_anonymised = serializers.IntegerField()


class StudentDataApi(SchoolApiView):
    required_role = ADMIN_ROLE

    @extend_schema(
        tags=[SAFETY],
        summary="Delete one student's data",
        description="Sessions, messages, explanations, answers, profile, policy records, "
        "enrolments and the membership. Usage totals stay, anonymous. Audited.",
        responses={200: StudentDeletionSerializer},
    )
    def delete(self, request: Request, school_slug: str, member_id: str) -> Response:
        student = data_rights.student_membership_get(school=self.school, member_id=member_id)
        counts = data_rights.student_data_delete(
            school=self.school, student=student, actor=self.membership, via="api"
        )
        return Response(StudentDeletionSerializer(counts).data)


urlpatterns = [
    path("safety/review-items", ReviewItemListApi.as_view(), name="api-safety-review-items"),
    path(
        "safety/review-items/<uuid:item_id>",
        ReviewItemDetailApi.as_view(),
        name="api-safety-review-item",
    ),
    path(
        "safety/review-items/<uuid:item_id>/decision",
        ReviewDecisionApi.as_view(),
        name="api-safety-review-decision",
    ),
    path("policy", PolicyApi.as_view(), name="api-policy"),
    path("policy/acceptance", PolicyAcceptApi.as_view(), name="api-policy-acceptance"),
    path("admin/audit-events", AuditEventListApi.as_view(), name="api-admin-audit-events"),
    path(
        "admin/students/<uuid:member_id>/export",
        StudentExportApi.as_view(),
        name="api-admin-student-export",
    ),
    path(
        "admin/students/<uuid:member_id>/data",
        StudentDataApi.as_view(),
        name="api-admin-student-data",
    ),
]
