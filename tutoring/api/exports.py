"""The shape of a student's data export (tutoring.safety.data_rights.student_data_export),
for the API's schema and its answer: a generated client gets typed objects, not a bag."""

from __future__ import annotations

from rest_framework import serializers

from tutoring.models import Explanation, Message


class _ExportSerializer(serializers.Serializer):
    """Export fields are ISO 8601 strings already (the archive is also written to files)."""


def _when() -> serializers.CharField:
    return serializers.CharField(allow_null=True, help_text="ISO 8601, or null.")


class ExportSchoolSerializer(_ExportSerializer):
    name = serializers.CharField()
    slug = serializers.CharField()


class ExportStudentSerializer(_ExportSerializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    role = serializers.CharField()
    member_since = _when()
    is_active = serializers.BooleanField()


class ExportProfileSerializer(_ExportSerializer):
    grade = serializers.CharField()
    preferred_language = serializers.CharField()
    reading_level = serializers.CharField()
    interests = serializers.CharField()
    accommodations = serializers.CharField()
    pseudonym_sent_to_provider = serializers.CharField()


class ExportMessageSerializer(_ExportSerializer):
    role = serializers.ChoiceField(choices=Message.Role.choices)
    content = serializers.CharField()
    at = _when()


class ExportTokensSerializer(_ExportSerializer):
    prompt = serializers.IntegerField()
    completion = serializers.IntegerField()


class ExportFeedbackSerializer(_ExportSerializer):
    is_helpful = serializers.BooleanField(allow_null=True)
    comment = serializers.CharField()
    at = _when()


class ExportSentMessageSerializer(_ExportSerializer):
    role = serializers.CharField()
    content = serializers.CharField()


class ExportExplanationSerializer(_ExportSerializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Explanation.Kind.choices)
    question = serializers.CharField()
    status = serializers.ChoiceField(choices=Explanation.Status.choices)
    answer = serializers.CharField()
    asked_at = _when()
    finished_at = _when()
    provider = serializers.CharField()
    model = serializers.CharField()
    messages_sent_to_provider = ExportSentMessageSerializer(many=True)
    tokens = ExportTokensSerializer()
    feedback = ExportFeedbackSerializer()


class ExportSessionSerializer(_ExportSerializer):
    id = serializers.UUIDField()
    lesson = serializers.CharField(help_text="The lesson's title.")
    lesson_version = serializers.IntegerField()
    is_preview = serializers.BooleanField()
    started_at = _when()
    ended_at = _when()
    messages = ExportMessageSerializer(many=True)
    explanations = ExportExplanationSerializer(many=True)


class ExportAnswerSerializer(_ExportSerializer):
    exercise = serializers.CharField(help_text="The exercise's question.")
    answer = serializers.CharField()
    is_correct = serializers.BooleanField()
    at = _when()


class ExportPolicyAcceptanceSerializer(_ExportSerializer):
    version = serializers.IntegerField()
    accepted_at = _when()
    guardian_confirmed_at = _when()
    guardian_name = serializers.CharField()


class ExportFlaggedMessageSerializer(_ExportSerializer):
    source = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.source
    categories = serializers.ListField(child=serializers.CharField())
    action = serializers.CharField()
    status = serializers.CharField()
    flagged_at = _when()
    decided_at = _when()


class StudentExportSerializer(_ExportSerializer):
    """Everything the school holds about one student (format `lantern-student-export`)."""

    format = serializers.CharField()  # type: ignore[assignment]  # the archive's own key
    version = serializers.IntegerField()
    exported_at = _when()
    school = ExportSchoolSerializer()
    student = ExportStudentSerializer()
    profile = ExportProfileSerializer(allow_null=True)
    birth_date = serializers.CharField(allow_null=True, help_text="YYYY-MM-DD, or null.")
    classes = serializers.ListField(child=serializers.CharField())
    sessions = ExportSessionSerializer(many=True)
    exercise_answers = ExportAnswerSerializer(many=True)
    policy_acceptances = ExportPolicyAcceptanceSerializer(many=True)
    flagged_messages = ExportFlaggedMessageSerializer(many=True)
    usage_tokens = ExportTokensSerializer()
