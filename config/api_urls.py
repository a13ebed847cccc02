"""REST API v1 (mounted at /api/v1/). Guide: docs/api.md; schema: openapi/schema.yaml."""

from django.urls import include, path, re_path
from django.views.decorators.cache import never_cache
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import api as accounts_api
from base.api_errors import api_not_found
from tutoring.api import (
    school_admin,
    student_explanations,
    student_lessons,
    student_profile,
    student_sessions,
    teaching_classes,
    teaching_exercises,
    teaching_lessons,
    teaching_transcripts,
)
from tutoring.live.api import explanation_stream_api

school_patterns = [
    # Student
    path("classes", student_lessons.ClassListApi.as_view(), name="api-classes"),
    path("lessons", student_lessons.LessonListApi.as_view(), name="api-lessons"),
    path("lessons/<uuid:lesson_id>", student_lessons.LessonDetailApi.as_view(), name="api-lesson"),
    path(
        "exercises/<uuid:exercise_id>/attempts",
        student_lessons.ExerciseAttemptApi.as_view(),
        name="api-exercise-attempts",
    ),
    path(
        "attempts/<uuid:attempt_id>/explain",
        student_lessons.ExplainMyAnswerApi.as_view(),
        name="api-attempt-explain",
    ),
    path("sessions", student_sessions.SessionListApi.as_view(), name="api-sessions"),
    path(
        "sessions/<uuid:session_id>",
        student_sessions.SessionDetailApi.as_view(),
        name="api-session",
    ),
    path(
        "sessions/<uuid:session_id>/questions",
        student_sessions.ExplanationRequestApi.as_view(),
        name="api-session-questions",
    ),
    path(
        "explanations/<uuid:explanation_id>",
        student_explanations.ExplanationDetailApi.as_view(),
        name="api-explanation",
    ),
    path(
        "explanations/<uuid:explanation_id>/stream",
        explanation_stream_api,
        name="api-explanation-stream",
    ),
    path(
        "explanations/<uuid:explanation_id>/feedback",
        student_explanations.ExplanationFeedbackApi.as_view(),
        name="api-explanation-feedback",
    ),
    path(
        "explanations/<uuid:explanation_id>/retry",
        student_explanations.ExplanationRetryApi.as_view(),
        name="api-explanation-retry",
    ),
    path("profile", student_profile.ProfileApi.as_view(), name="api-profile"),
    # Teacher
    path(
        "teaching/classes",
        teaching_classes.TeachingClassListApi.as_view(),
        name="api-teaching-classes",
    ),
    path(
        "teaching/classes/<uuid:classroom_id>",
        teaching_classes.TeachingClassDetailApi.as_view(),
        name="api-teaching-class",
    ),
    path(
        "teaching/classes/<uuid:classroom_id>/students",
        teaching_classes.RosterApi.as_view(),
        name="api-teaching-roster",
    ),
    path(
        "teaching/classes/<uuid:classroom_id>/students/<uuid:enrolment_id>",
        teaching_classes.RosterEntryApi.as_view(),
        name="api-teaching-roster-entry",
    ),
    path(
        "teaching/lessons",
        teaching_lessons.TeachingLessonListApi.as_view(),
        name="api-teaching-lessons",
    ),
    path(
        "teaching/lessons/<uuid:lesson_id>",
        teaching_lessons.TeachingLessonDetailApi.as_view(),
        name="api-teaching-lesson",
    ),
    path(
        "teaching/lessons/<uuid:lesson_id>/versions",
        teaching_lessons.LessonVersionListApi.as_view(),
        name="api-teaching-lesson-versions",
    ),
    path(
        "teaching/lessons/<uuid:lesson_id>/publish",
        teaching_lessons.LessonPublishApi.as_view(),
        name="api-teaching-lesson-publish",
    ),
    path(
        "teaching/lessons/<uuid:lesson_id>/unpublish",
        teaching_lessons.LessonUnpublishApi.as_view(),
        name="api-teaching-lesson-unpublish",
    ),
    path(
        "teaching/lessons/<uuid:lesson_id>/exercises",
        teaching_exercises.ExerciseListApi.as_view(),
        name="api-teaching-exercises",
    ),
    path(
        "teaching/exercises/<uuid:exercise_id>",
        teaching_exercises.ExerciseDetailApi.as_view(),
        name="api-teaching-exercise",
    ),
    path(
        "teaching/transcripts",
        teaching_transcripts.TranscriptListApi.as_view(),
        name="api-teaching-transcripts",
    ),
    path(
        "teaching/transcripts/<uuid:session_id>",
        teaching_transcripts.TranscriptDetailApi.as_view(),
        name="api-teaching-transcript",
    ),
    path("teaching/usage", teaching_transcripts.UsageApi.as_view(), name="api-teaching-usage"),
    # School admin
    path("admin/members", accounts_api.MemberListApi.as_view(), name="api-admin-members"),
    path(
        "admin/members/<uuid:member_id>",
        accounts_api.MemberDetailApi.as_view(),
        name="api-admin-member",
    ),
    path(
        "admin/invitations", accounts_api.InvitationListApi.as_view(), name="api-admin-invitations"
    ),
    path(
        "admin/invitations/<uuid:invitation_id>/revoke",
        accounts_api.InvitationRevokeApi.as_view(),
        name="api-admin-invitation-revoke",
    ),
    path(
        "admin/invitations/<uuid:invitation_id>/resend",
        accounts_api.InvitationResendApi.as_view(),
        name="api-admin-invitation-resend",
    ),
    path("admin/budget", school_admin.BudgetApi.as_view(), name="api-admin-budget"),
    path("admin/provider", school_admin.ProviderSettingsApi.as_view(), name="api-admin-provider"),
    path(
        "admin/provider-keys",
        school_admin.ProviderKeyListApi.as_view(),
        name="api-admin-provider-keys",
    ),
    path(
        "admin/provider-keys/<uuid:key_id>/activate",
        school_admin.ProviderKeyActivateApi.as_view(),
        name="api-admin-provider-key-activate",
    ),
    path(
        "admin/provider-keys/<uuid:key_id>/revoke",
        school_admin.ProviderKeyRevokeApi.as_view(),
        name="api-admin-provider-key-revoke",
    ),
]

urlpatterns = [
    # Token pairs are secrets: never_cache makes their answers `Cache-Control: no-store`.
    path("auth/token", never_cache(accounts_api.TokenObtainApi.as_view()), name="api-token"),
    path(
        "auth/token/refresh",
        never_cache(accounts_api.TokenRefreshApi.as_view()),
        name="api-token-refresh",
    ),
    path("auth/logout", accounts_api.LogoutApi.as_view(), name="api-logout"),
    path("me", accounts_api.MeApi.as_view(), name="api-me"),
    path("schools/<slug:school_slug>/", include(school_patterns)),
    path("schools/<slug:school_slug>/", include("tutoring.api.safety")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/",
        # The split view loads its start-up script from a URL (no inline script), and our
        # template drops drf-spectacular's inline <style>: the page works under the site's
        # CSP (`script-src 'self'; style-src 'self'`) with assets from drf-spectacular-sidecar.
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    # Anything else under /api/v1/: the error envelope, not the site's HTML 404 page.
    re_path(r"^.*$", api_not_found),
]
