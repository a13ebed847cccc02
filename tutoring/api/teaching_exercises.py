"""Teacher endpoints of API v1 (under /teaching/) for exercise authoring: a lesson's
exercises with their answer keys.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

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
from tutoring.models import Exercise
from tutoring.services import lessons as lesson_services

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
        location = absolute_url(
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
