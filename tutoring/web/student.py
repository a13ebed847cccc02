"""Student pages under /s/<school_slug>/: dashboard, lesson with exercises and the tutor
panel, the explanation card (htmx), poll and stream, history, profile.

Thin: parse, call a selector or a service, render. htmx requests get partials (the
explanation card, an exercise's result, the ask form's errors); the same URLs work without
JavaScript (a redirect back to the lesson, or the page again with the errors). Domain
errors become 404 (NotFound and friends), form errors with the error's HTTP status, or a
message.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from accounts.access import SchoolViewMixin
from accounts.models import Membership
from base.web_errors import error_message_for_page, form_error_add
from tutoring import selectors
from tutoring.errors import TutoringError
from tutoring.live.sse import explanation_label, explanation_state, explanation_stream
from tutoring.models import ExerciseAttempt, Explanation, Lesson
from tutoring.services import explanations as explanation_services
from tutoring.services import lessons as lesson_services
from tutoring.services import profiles as profile_services
from tutoring.web.forms import AnswerForm, AskForm, FeedbackForm, StudentProfileForm

HISTORY_PAGE_SIZE = 20
RECENT_SESSIONS = 5
DASHBOARD_EXPLANATIONS = 10
# "New" on the dashboard: answers that arrived within this window.
NEW_EXPLANATION_WINDOW = timedelta(hours=24)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def explanation_card_context(
    school_slug: str, explanation: Explanation, membership: Membership
) -> dict[str, Any]:
    """What `tutoring/partials/explanation_card.html` needs for one explanation."""
    args = [school_slug, explanation.public_id]
    return {
        "explanation": explanation,
        "label": explanation_label(explanation),
        "is_owner": explanation.student_id == membership.user_id,
        "card_url": reverse("student_explanation_card", args=args),
        "poll_url": reverse("student_explanation_poll", args=args),
        "stream_url": reverse("student_explanation_stream", args=args),
        "retry_url": reverse("student_explanation_retry", args=args),
        "feedback_url": reverse("student_explanation_feedback", args=args),
    }


class StudentViewMixin(SchoolViewMixin):
    """Student pages: any member may look (lists follow the selectors); writing to the
    tutor is for students, teachers try lessons through the teacher pages' preview."""

    @property
    def is_student(self) -> bool:
        return self.membership.role == Membership.Role.STUDENT

    def require_student(self) -> None:
        if not self.is_student:
            raise PermissionDenied(_("Only students can do this here."))

    def card(self, explanation: Explanation) -> dict[str, Any]:
        return explanation_card_context(self.school.slug, explanation, self.membership)

    def render_card(self, request: HttpRequest, explanation: Explanation) -> HttpResponse:
        context = {"card": self.card(explanation)}
        return render(request, "tutoring/partials/explanation_card.html", context)

    # The selectors' NotFound is the 404 page (accounts.access.SchoolViewMixin maps it).
    def lesson_or_404(self, lesson_id: Any) -> Lesson:
        return selectors.lesson_get(member=self.membership, public_id=str(lesson_id))

    def explanation_or_404(self, explanation_id: Any) -> Explanation:
        return selectors.explanation_get(member=self.membership, public_id=str(explanation_id))

    def lesson_url(self, lesson: Lesson, anchor: str = "") -> str:
        url = reverse("student_lesson", args=[self.school.slug, lesson.public_id])
        return f"{url}#{anchor}" if anchor else url


# --- Dashboard ----------------------------------------------------------------------------


class DashboardView(StudentViewMixin, View):
    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        member = self.membership
        lessons = list(selectors.lesson_list_for_member(member=member))
        by_class: dict[int, list[Lesson]] = {}
        for lesson in lessons:
            by_class.setdefault(lesson.classroom_id, []).append(lesson)
        classes = [
            (classroom, by_class.get(classroom.pk, []))
            for classroom in selectors.classroom_list_for_member(member=member)
        ]
        since = timezone.now() - NEW_EXPLANATION_WINDOW
        context = {
            "school": self.school,
            "membership": member,
            "classes": classes,
            "recent_sessions": list(
                selectors.session_list_for_student(member=member)[:RECENT_SESSIONS]
            ),
            "attention": [
                self.card(e)
                for e in selectors.explanation_list_needing_attention(
                    member=member, finished_since=since
                )[:DASHBOARD_EXPLANATIONS]
            ],
        }
        return render(request, "tutoring/student/dashboard.html", context)


# --- Lesson page and the tutor panel ------------------------------------------------------


class LessonPageMixin(StudentViewMixin):
    def render_lesson(
        self, request: HttpRequest, lesson: Lesson, ask_form: AskForm, status: int = 200
    ) -> HttpResponse:
        session = None
        conversation: list[dict[str, Any]] = []
        if self.is_student:
            session = selectors.session_current_for_lesson(member=self.membership, lesson=lesson)
        if session is not None:
            conversation = [
                self.card(e)
                for e in selectors.explanation_list_for_session(school=self.school, session=session)
            ]
        context = {
            "school": self.school,
            "membership": self.membership,
            "lesson": lesson,
            # Students read what was published; a teacher looking at a draft sees the draft.
            "content": lesson.published_version or lesson,
            "exercises": list(selectors.exercise_list(school=self.school, lesson=lesson)),
            "is_student": self.is_student,
            "ask_form": ask_form,
            "ask_url": reverse("student_ask", args=[self.school.slug, lesson.public_id]),
            "conversation": conversation,
        }
        return render(request, "tutoring/student/lesson.html", context, status=status)


class LessonView(LessonPageMixin, View):
    def get(self, request: HttpRequest, lesson_id: Any, **kwargs: Any) -> HttpResponse:
        lesson = self.lesson_or_404(lesson_id)
        return self.render_lesson(request, lesson, AskForm())


class AskView(LessonPageMixin, View):
    """POST a question to the tutor; answers with the explanation card."""

    def post(self, request: HttpRequest, lesson_id: Any, **kwargs: Any) -> HttpResponse:
        lesson = self.lesson_or_404(lesson_id)
        self.require_student()
        form = AskForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                # One unit: a refused question leaves no empty session behind.
                with transaction.atomic():
                    session = explanation_services.session_get_or_start(
                        actor=self.membership, lesson=lesson
                    )
                    explanation = explanation_services.explanation_request(
                        actor=self.membership,
                        session=session,
                        question=form.cleaned_data["question"],
                    )
            except TutoringError as exc:
                form_error_add(form, exc)
                status = exc.status
            else:
                if _is_htmx(request):
                    context = {"card": self.card(explanation)}
                    return render(request, "tutoring/partials/ask_success.html", context)
                return redirect(self.lesson_url(lesson, f"explanation-{explanation.public_id}"))
        if _is_htmx(request):
            response = render(
                request, "tutoring/partials/ask_errors.html", {"form": form}, status=status
            )
            response["HX-Retarget"] = "#ask-errors"
            response["HX-Reswap"] = "innerHTML"
            return response
        return self.render_lesson(request, lesson, form, status=status)


class ExerciseAttemptView(StudentViewMixin, View):
    """POST an answer to an exercise; answers with the result (well done / explain)."""

    def post(self, request: HttpRequest, exercise_id: Any, **kwargs: Any) -> HttpResponse:
        exercise = selectors.exercise_get(member=self.membership, public_id=str(exercise_id))
        self.require_student()
        form = AnswerForm(request.POST)
        attempt: ExerciseAttempt | None = None
        status = 400
        if form.is_valid():
            try:
                attempt = lesson_services.exercise_attempt_submit(
                    actor=self.membership, exercise=exercise, answer=form.cleaned_data["answer"]
                )
                status = 200
            except TutoringError as exc:
                form_error_add(form, exc)
                status = exc.status
        if _is_htmx(request):
            context = {
                "school": self.school,
                "exercise": exercise,
                "attempt": attempt,
                "form": form,
            }
            return render(request, "tutoring/partials/exercise_result.html", context, status=status)
        if attempt is None:
            for error in form.errors.get("answer", []) + form.non_field_errors():
                messages.error(request, error)  # type: ignore[arg-type]  # ErrorList yields text
        elif attempt.is_correct:
            messages.success(request, _("Well done! That is correct."))
        else:
            messages.warning(
                request,
                _("Not quite: your answer “%(answer)s” is not right yet. Try again.")
                % {"answer": attempt.answer},
            )
        return redirect(self.lesson_url(exercise.lesson, f"exercise-{exercise.public_id}"))


class ExplainAnswerView(StudentViewMixin, View):
    """POST "Explain my answer" on a wrong attempt; answers with the explanation card."""

    def post(self, request: HttpRequest, attempt_id: Any, **kwargs: Any) -> HttpResponse:
        attempt = selectors.exercise_attempt_get(member=self.membership, public_id=str(attempt_id))
        self.require_student()
        lesson = attempt.exercise.lesson
        try:
            with transaction.atomic():
                explanation = explanation_services.explain_my_answer(
                    actor=self.membership,
                    attempt=attempt,
                    session=explanation_services.session_get_or_start(
                        actor=self.membership, lesson=lesson
                    ),
                )
        except TutoringError as exc:
            message = error_message_for_page(exc)
            if _is_htmx(request):
                context = {"message": message, "is_error": True}
                return render(request, "tutoring/partials/notice.html", context, status=exc.status)
            messages.error(request, message)
            return redirect(self.lesson_url(lesson))
        if _is_htmx(request):
            return self.render_card(request, explanation)
        return redirect(self.lesson_url(lesson, f"explanation-{explanation.public_id}"))


# --- One explanation: card, poll, retry, feedback -----------------------------------------


class ExplanationCardView(StudentViewMixin, View):
    """The card as an htmx partial; without htmx, a small page around it."""

    def get(self, request: HttpRequest, explanation_id: Any, **kwargs: Any) -> HttpResponse:
        explanation = self.explanation_or_404(explanation_id)
        if _is_htmx(request):
            return self.render_card(request, explanation)
        context = {
            "school": self.school,
            "membership": self.membership,
            "lesson": explanation.session.lesson,
            "card": self.card(explanation),
        }
        return render(request, "tutoring/student/explanation.html", context)


class ExplanationPollView(StudentViewMixin, View):
    """JSON for the polling fallback: {status, label, html, text, error_message,
    served_from_cache}; html is sanitized and '' until the answer succeeded."""

    def get(self, request: HttpRequest, explanation_id: Any, **kwargs: Any) -> HttpResponse:
        explanation = self.explanation_or_404(explanation_id)
        response = JsonResponse(explanation_state(explanation))
        response["Cache-Control"] = "no-store"
        return response


class ExplanationActionMixin(StudentViewMixin):
    def answer(self, request: HttpRequest, explanation: Explanation) -> HttpResponse:
        """The refreshed card for htmx; otherwise back to the explanation in its lesson."""
        if _is_htmx(request):
            return self.render_card(request, explanation)
        return redirect(
            self.lesson_url(explanation.session.lesson, f"explanation-{explanation.public_id}")
        )


class ExplanationRetryView(ExplanationActionMixin, View):
    def post(self, request: HttpRequest, explanation_id: Any, **kwargs: Any) -> HttpResponse:
        explanation = self.explanation_or_404(explanation_id)
        try:
            explanation = explanation_services.explanation_retry(
                actor=self.membership, explanation=explanation
            )
        except TutoringError as exc:
            messages.error(request, error_message_for_page(exc))
        return self.answer(request, explanation)


class ExplanationFeedbackView(ExplanationActionMixin, View):
    def post(self, request: HttpRequest, explanation_id: Any, **kwargs: Any) -> HttpResponse:
        explanation = self.explanation_or_404(explanation_id)
        form = FeedbackForm(request.POST)
        if not form.is_valid():
            message = " ".join(str(e) for errors in form.errors.values() for e in errors)
            return self._refused(request, explanation, message, 400)
        try:
            explanation = explanation_services.explanation_feedback(
                actor=self.membership,
                explanation=explanation,
                is_helpful=form.is_helpful,
                comment=form.cleaned_data["comment"],
            )
        except TutoringError as exc:
            return self._refused(request, explanation, error_message_for_page(exc), exc.status)
        return self.answer(request, explanation)

    def _refused(
        self, request: HttpRequest, explanation: Explanation, message: str, status: int
    ) -> HttpResponse:
        if _is_htmx(request):
            context = {"card": self.card(explanation), "feedback_error": message}
            return render(
                request, "tutoring/partials/explanation_card.html", context, status=status
            )
        messages.error(request, message)
        return self.answer(request, explanation)


# --- History and profile ------------------------------------------------------------------


class HistoryView(StudentViewMixin, View):
    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        query = request.GET.get("q", "").strip()[:200]
        explanations = selectors.explanation_list_for_student(member=self.membership, search=query)
        page = Paginator(explanations, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            "school": self.school,
            "membership": self.membership,
            "query": query,
            "page": page,
            "sessions": list(
                selectors.session_list_for_student(member=self.membership)[:RECENT_SESSIONS]
            )
            if not query
            else [],
        }
        return render(request, "tutoring/student/history.html", context)


class ProfileView(StudentViewMixin, View):
    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        profile = selectors.student_profile_get(school=self.school, user=request.user)  # type: ignore[arg-type]
        initial = (
            {name: getattr(profile, name) for name in profile_services.EDITABLE} if profile else {}
        )
        return self._render(request, StudentProfileForm(initial=initial))

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = StudentProfileForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    profile = profile_services.profile_get_or_create(school_member=self.membership)
                    profile_services.profile_update(
                        actor=self.membership, profile=profile, **form.cleaned_data
                    )
            except TutoringError as exc:
                form_error_add(form, exc)
                return self._render(request, form, status=exc.status)
            messages.success(request, _("Your profile is saved."))
            return redirect("student_profile", school_slug=self.school.slug)
        return self._render(request, form, status=400)

    def _render(
        self, request: HttpRequest, form: StudentProfileForm, status: int = 200
    ) -> HttpResponse:
        context = {"school": self.school, "membership": self.membership, "form": form}
        return render(request, "tutoring/student/profile.html", context, status=status)


_P = "s/<slug:school_slug>/"

urlpatterns: list[URLPattern] = [
    path(f"{_P}lessons/", DashboardView.as_view(), name="student_dashboard"),
    path(f"{_P}lessons/<uuid:lesson_id>/", LessonView.as_view(), name="student_lesson"),
    path(f"{_P}lessons/<uuid:lesson_id>/ask", AskView.as_view(), name="student_ask"),
    path(
        f"{_P}exercises/<uuid:exercise_id>/attempt",
        ExerciseAttemptView.as_view(),
        name="student_exercise_attempt",
    ),
    path(
        f"{_P}attempts/<uuid:attempt_id>/explain",
        ExplainAnswerView.as_view(),
        name="student_explain_answer",
    ),
    path(
        f"{_P}explanations/<uuid:explanation_id>/",
        ExplanationCardView.as_view(),
        name="student_explanation_card",
    ),
    path(
        f"{_P}explanations/<uuid:explanation_id>/poll",
        ExplanationPollView.as_view(),
        name="student_explanation_poll",
    ),
    path(
        f"{_P}explanations/<uuid:explanation_id>/stream",
        explanation_stream,
        name="student_explanation_stream",
    ),
    path(
        f"{_P}explanations/<uuid:explanation_id>/retry",
        ExplanationRetryView.as_view(),
        name="student_explanation_retry",
    ),
    path(
        f"{_P}explanations/<uuid:explanation_id>/feedback",
        ExplanationFeedbackView.as_view(),
        name="student_explanation_feedback",
    ),
    path(f"{_P}history/", HistoryView.as_view(), name="student_history"),
    path(f"{_P}profile/", ProfileView.as_view(), name="student_profile"),
]
