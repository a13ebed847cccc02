"""Student endpoints of API v1 for explanations: reading one (poll until final), giving
feedback on it and asking for it again.
"""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from base.api_input import InputSerializer
from base.api_views import SchoolApiView
from base.idempotency import idempotent
from tutoring import selectors
from tutoring.api.representations import (
    ASKING,
    EXPLANATION_EXAMPLE,
    ExplanationSerializer,
    explanation_accepted,
)
from tutoring.services import explanations as explanation_services
from tutoring.services.explanations import MAX_COMMENT_CHARS

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
        return explanation_accepted(request, school_slug, explanation)
