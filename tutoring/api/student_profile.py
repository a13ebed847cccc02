"""Student endpoint of API v1 for the learning profile that personalizes explanations."""

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
from tutoring.api.representations import (
    STUDENT,
)
from tutoring.models.lessons import ReadingLevel
from tutoring.services import profiles as profile_services

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
