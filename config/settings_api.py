"""REST API settings (DRF, SimpleJWT, drf-spectacular, throttles): imported by config.settings."""

from __future__ import annotations

from datetime import timedelta

import environ

# The .env file, if any, was read into the environment by config.settings before this import.
env = environ.Env()

API_THROTTLE_ASK_USER: str = env.str("API_THROTTLE_ASK_USER", default="30/min")
API_THROTTLE_ASK_SCHOOL: str = env.str("API_THROTTLE_ASK_SCHOOL", default="600/min")
API_THROTTLE_AUTH: str = env.str("API_THROTTLE_AUTH", default="20/min")
# Refresh and sign-out calls per client address (every device behind a school's address).
API_THROTTLE_AUTH_SESSION: str = env.str("API_THROTTLE_AUTH_SESSION", default="120/min")
# Sign-in attempts per e-mail address, from addresses it has not signed in from before.
API_THROTTLE_AUTH_ACCOUNT: str = env.str("API_THROTTLE_AUTH_ACCOUNT", default="10/min")
# How long a retry waits for the first request with the same Idempotency-Key to finish
# before it is told 409 `idempotency_in_progress`.
API_IDEMPOTENCY_WAIT_SECONDS: float = env.float("API_IDEMPOTENCY_WAIT_SECONDS", default=2.0)

# What base's API views call for tenancy (base sits below the apps and names none of them):
# the school door (URL slug + user -> school and membership, or the same 404) and the
# database's user context (RLS: a user reads their own memberships).
API_SCHOOL_DOOR = "accounts.access.school_access"
API_DB_USER_SET = "accounts.tenancy.set_db_user"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "base.api_autoschema.LanternAutoSchema",
    # JWT first: its WWW-Authenticate header makes unauthenticated answers 401, not 403.
    # Sessions let a signed-in person try the API from the docs page.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's, plus the token-version check (accounts/tokens.py).
        "accounts.tokens.VersionedJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["base.parsers.CheckedJSONParser"],
    "EXCEPTION_HANDLER": "base.api_errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "ask_user": API_THROTTLE_ASK_USER,
        "ask_school": API_THROTTLE_ASK_SCHOOL,
        "auth": API_THROTTLE_AUTH,
        "auth_session": API_THROTTLE_AUTH_SESSION,
        "auth_account": API_THROTTLE_AUTH_ACCOUNT,
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=30)),
    # Each refresh returns a new refresh token and blacklists the old one, so a stolen
    # refresh token stops working as soon as either party uses it.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Tokens carry the user's token version (revoked by password changes, deactivation and
    # removal) and a refresh rotates exactly once under concurrency: accounts/tokens.py.
    "TOKEN_OBTAIN_SERIALIZER": "accounts.tokens.VersionedTokenObtainPairSerializer",
    "TOKEN_REFRESH_SERIALIZER": "accounts.tokens.RotatingTokenRefreshSerializer",
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lantern API",
    "DESCRIPTION": (
        "REST API v1 for Lantern's mobile apps. Sign in at `/api/v1/auth/token`, send "
        "`Authorization: Bearer <access>`; school resources live under "
        "`/api/v1/schools/{school_slug}/`. Errors share one envelope "
        '`{"error": {"code", "message", "fields"}}`. Guide: docs/api.md.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "TAGS": [
        {"name": "auth", "description": "Sign in, refresh, sign out; who am I."},
        {"name": "student", "description": "Classes, lessons, exercises, sessions, profile."},
        {"name": "asking the tutor", "description": "Ask, then poll or stream the answer."},
        {"name": "teacher", "description": "Classes, lessons, exercises, transcripts, usage."},
        {"name": "school admin", "description": "Members, invitations, budgets, keys."},
        {"name": "safety", "description": "Review queue, AI-use policy, audit, data rights."},
    ],
    # Swagger UI from the drf-spectacular-sidecar package: served by us, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ExplanationStatusEnum": "tutoring.models.Explanation.Status",
        "ExplanationKindEnum": "tutoring.models.Explanation.Kind",
        "LessonStatusEnum": "tutoring.models.Lesson.Status",
        "MessageRoleEnum": "tutoring.models.Message.Role",
        "MemberRoleEnum": "accounts.models.Membership.Role",
        "ReadingLevelEnum": "tutoring.models.lessons.ReadingLevel",
        "AnswerPolicyEnum": "tutoring.models.lessons.AnswerPolicy",
        "InvitationStatusEnum": "accounts.api.INVITATION_STATUSES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tutoring.live.api.add_stream_to_schema",
        "base.api_schema.add_error_code_enum",
    ],
}
