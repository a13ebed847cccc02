"""Teacher pages under /s/<school_slug>/teach/: classes, lessons, previews, transcripts, usage.

School admins may use every page (they manage every class). Views parse, call one service
or selector, and render; objects are always found through tutoring.selectors, which only
returns what the member may manage, so another class's or school's ids give 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views import View

from accounts.access import SchoolViewMixin
from accounts.models import Membership
from base.web_errors import form_error_add
from tutoring import selectors
from tutoring.charts import Bar, bar_chart
from tutoring.errors import TutoringError
from tutoring.models import Classroom, Lesson
from tutoring.models.lessons import LessonContract
from tutoring.rendering import render_markdown
from tutoring.services import explanations as explanation_services
from tutoring.services import lessons as lesson_services
from tutoring.web.forms_teacher import (
    LANGUAGE_SUGGESTIONS,
    ClassroomForm,
    EnrollForm,
    ExerciseForm,
    LessonCreateForm,
    LessonForm,
    MarkdownPreviewForm,
    PreviewProfileForm,
    PreviewQuestionForm,
    TranscriptFilterForm,
)
from tutoring.web.student import explanation_card_context

TRANSCRIPTS_PER_PAGE = 25
USAGE_DAYS = 30


class TeacherView(SchoolViewMixin, View):
    required_role = Membership.Role.TEACHER

    def page(
        self, template: str, context: dict[str, Any] | None = None, status: int = 200
    ) -> HttpResponse:
        full = {"school": self.school, "membership": self.membership, **(context or {})}
        return render(self.request, f"tutoring/teacher/{template}", full, status=status)

    def url(self, name: str, *args: object) -> str:
        return reverse(name, args=[self.school.slug, *args])


# --- Dashboard ----------------------------------------------------------------------------


class DashboardView(TeacherView):
    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self.page(
            "dashboard.html",
            {
                "classes": list(selectors.teacher_classroom_list(member=self.membership)),
                "recent": selectors.recent_explanations(member=self.membership),
            },
        )


# --- Classes ------------------------------------------------------------------------------


class ClassListView(TeacherView):
    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self._render(ClassroomForm())

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = ClassroomForm(request.POST)
        if form.is_valid():
            try:
                classroom = lesson_services.classroom_create(
                    actor=self.membership, **form.cleaned_data
                )
            except TutoringError as exc:
                form_error_add(form, exc)
            else:
                messages.success(request, _("Class created. Now enroll your students."))
                return redirect(self.url("teacher_class", classroom.public_id))
        return self._render(form, status=400)

    def _render(self, form: ClassroomForm, status: int = 200) -> HttpResponse:
        classes = list(selectors.teacher_classroom_list(member=self.membership))
        return self.page("classes.html", {"classes": classes, "form": form}, status=status)


class ClassDetailView(TeacherView):
    """The class page: roster with last activity, enrolling students, the class's lessons."""

    def get(self, request: HttpRequest, classroom_id: str, **kwargs: Any) -> HttpResponse:
        classroom = self._classroom(classroom_id)
        return self._render(classroom, self._enroll_form(classroom))

    def post(self, request: HttpRequest, classroom_id: str, **kwargs: Any) -> HttpResponse:
        classroom = self._classroom(classroom_id)
        form = self._enroll_form(classroom, request.POST)
        if form.is_valid():
            student = form.cleaned_data["student"].user
            try:
                lesson_services.classroom_enroll(
                    actor=self.membership, classroom=classroom, user=student
                )
            except TutoringError as exc:
                form_error_add(form, exc)
            else:
                messages.success(
                    request, _("%(name)s is now in this class.") % {"name": student.display_name}
                )
                return redirect(self.url("teacher_class", classroom.public_id))
        return self._render(classroom, form, status=400)

    def _classroom(self, classroom_id: str) -> Classroom:
        return selectors.teacher_classroom_get(member=self.membership, public_id=classroom_id)

    def _enroll_form(self, classroom: Classroom, data: Any = None) -> EnrollForm:
        students = selectors.enrollable_students(school=self.school, classroom=classroom)
        return EnrollForm(data, students=list(students))

    def _render(self, classroom: Classroom, form: EnrollForm, status: int = 200) -> HttpResponse:
        school = self.school
        lessons = selectors.lesson_list_for_member(member=self.membership, managing=True).filter(
            classroom=classroom
        )
        return self.page(
            "class_detail.html",
            {
                "classroom": classroom,
                "roster": list(selectors.classroom_roster(school=school, classroom=classroom)),
                "teachers": list(selectors.classroom_teachers(school=school, classroom=classroom)),
                "lessons": list(lessons),
                "form": form,
            },
            status=status,
        )


class ClassUnenrollView(TeacherView):
    def post(
        self, request: HttpRequest, classroom_id: str, member_id: str, **kwargs: Any
    ) -> HttpResponse:
        classroom = selectors.teacher_classroom_get(member=self.membership, public_id=classroom_id)
        enrolled = selectors.classroom_student_get(
            school=self.school, classroom=classroom, public_id=member_id
        )
        lesson_services.classroom_unenroll(
            actor=self.membership, classroom=classroom, user=enrolled.user
        )
        messages.success(
            request,
            _("%(name)s was removed from this class.") % {"name": enrolled.user.display_name},
        )
        return redirect(self.url("teacher_class", classroom.public_id))


# --- Lessons ------------------------------------------------------------------------------


def _contract_initial(lesson: LessonContract) -> dict[str, Any]:
    return lesson.contract()


class LessonListView(TeacherView):
    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        lessons = list(selectors.lesson_list_for_member(member=self.membership, managing=True))
        return self.page("lessons.html", {"lessons": lessons})


class LessonEditorMixin(TeacherView):
    def editor_context(self, form: LessonForm) -> dict[str, Any]:
        form.fields["material"].widget.attrs.update(
            {
                "hx-post": self.url("teacher_markdown_preview"),
                "hx-trigger": "keyup changed delay:500ms",
                "hx-target": "#material-preview",
                "hx-swap": "innerHTML",
                "aria-describedby": "material-preview-heading",
            }
        )
        material = form["material"].value() or ""
        return {
            "form": form,
            "material_preview": render_markdown(str(material)),
            "language_suggestions": LANGUAGE_SUGGESTIONS,
        }


class LessonCreateView(LessonEditorMixin):
    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        classes = list(selectors.taught_classrooms(member=self.membership).order_by("name"))
        initial = {"classroom": request.GET.get("classroom", ""), "language": "en"}
        return self._render(LessonCreateForm(initial=initial, classrooms=classes), classes)

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        classes = list(selectors.taught_classrooms(member=self.membership).order_by("name"))
        form = LessonCreateForm(request.POST, classrooms=classes)
        if form.is_valid():
            data = dict(form.cleaned_data)
            classroom = next(c for c in classes if str(c.public_id) == data.pop("classroom"))
            try:
                lesson = lesson_services.lesson_create(
                    actor=self.membership, classroom=classroom, **data
                )
            except TutoringError as exc:
                form_error_add(form, exc)
            else:
                messages.success(
                    request, _("Lesson saved as a draft. Add exercises, then publish it.")
                )
                return redirect(self.url("teacher_lesson", lesson.public_id))
        return self._render(form, classes, status=400)

    def _render(
        self, form: LessonCreateForm, classes: list[Classroom], status: int = 200
    ) -> HttpResponse:
        context = self.editor_context(form)
        context["classes"] = classes
        return self.page("lesson_create.html", context, status=status)


class LessonEditView(LessonEditorMixin):
    def get(self, request: HttpRequest, lesson_id: str, **kwargs: Any) -> HttpResponse:
        lesson = self._lesson(lesson_id)
        return self._render(lesson, LessonForm(initial=_contract_initial(lesson)))

    def post(self, request: HttpRequest, lesson_id: str, **kwargs: Any) -> HttpResponse:
        lesson = self._lesson(lesson_id)
        form = LessonForm(request.POST)
        if form.is_valid():
            try:
                lesson_services.lesson_update(
                    actor=self.membership, lesson=lesson, **form.cleaned_data
                )
            except TutoringError as exc:
                form_error_add(form, exc)
            else:
                if lesson.is_published:
                    messages.success(request, _("Saved and published as a new version."))
                else:
                    messages.success(request, _("Saved."))
                return redirect(self.url("teacher_lesson", lesson.public_id))
        return self._render(lesson, form, status=400)

    def _lesson(self, lesson_id: str) -> Lesson:
        return selectors.lesson_get(member=self.membership, public_id=lesson_id, managing=True)

    def _render(self, lesson: Lesson, form: LessonForm, status: int = 200) -> HttpResponse:
        context = self.editor_context(form)
        context["lesson"] = lesson
        context["exercises"] = list(selectors.exercise_list(school=self.school, lesson=lesson))
        return self.page("lesson_edit.html", context, status=status)


class LessonPublishView(TeacherView):
    def post(
        self, request: HttpRequest, lesson_id: str, action: str, **kwargs: Any
    ) -> HttpResponse:
        lesson = selectors.lesson_get(member=self.membership, public_id=lesson_id, managing=True)
        if action == "publish":
            lesson = lesson_services.lesson_publish(actor=self.membership, lesson=lesson)
            messages.success(
                request,
                _("Published: students now see version %(n)s.")
                % {"n": lesson.published_version.number},  # type: ignore[union-attr]
            )
        elif action == "unpublish":
            lesson_services.lesson_unpublish(actor=self.membership, lesson=lesson)
            messages.success(request, _("Unpublished: students no longer see this lesson."))
        else:
            raise Http404
        return redirect(self.url("teacher_lesson", lesson.public_id))


class MarkdownPreviewView(TeacherView):
    """htmx: the lesson material rendered exactly as students will see it."""

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = MarkdownPreviewForm(request.POST)
        if not form.is_valid():
            return HttpResponse(
                format_html('<p class="field-error">{}</p>', _("The material is too long.")),
                status=400,
            )
        material = form.cleaned_data["material"]
        if not material.strip():
            return HttpResponse(
                format_html(
                    '<p class="muted">{}</p>', _("Type some material to see how students see it.")
                )
            )
        return HttpResponse(render_markdown(material))


class LessonVersionListView(TeacherView):
    def get(self, request: HttpRequest, lesson_id: str, **kwargs: Any) -> HttpResponse:
        lesson = selectors.lesson_get(member=self.membership, public_id=lesson_id, managing=True)
        versions = list(selectors.lesson_version_list(school=self.school, lesson=lesson))
        return self.page("lesson_versions.html", {"lesson": lesson, "versions": versions})


class LessonVersionView(TeacherView):
    def get(self, request: HttpRequest, lesson_id: str, number: int, **kwargs: Any) -> HttpResponse:
        lesson = selectors.lesson_get(member=self.membership, public_id=lesson_id, managing=True)
        version = selectors.lesson_version_get(school=self.school, lesson=lesson, number=number)
        return self.page("lesson_version.html", {"lesson": lesson, "version": version})


# --- Exercises ----------------------------------------------------------------------------


class ExerciseFormView(TeacherView):
    """Add (no exercise_id) or edit an exercise of a lesson."""

    def get(
        self, request: HttpRequest, lesson_id: str, exercise_id: str | None = None, **kwargs: Any
    ) -> HttpResponse:
        lesson, exercise = self._objects(lesson_id, exercise_id)
        initial = ExerciseForm.initial_for(exercise) if exercise else None
        return self._render(lesson, exercise, ExerciseForm(initial=initial))

    def post(
        self, request: HttpRequest, lesson_id: str, exercise_id: str | None = None, **kwargs: Any
    ) -> HttpResponse:
        lesson, exercise = self._objects(lesson_id, exercise_id)
        form = ExerciseForm(request.POST)
        if form.is_valid():
            try:
                lesson_services.exercise_save(
                    actor=self.membership, lesson=lesson, exercise=exercise, **form.cleaned_data
                )
            except TutoringError as exc:
                form_error_add(form, exc)
            else:
                messages.success(request, _("Exercise saved."))
                return redirect(self.url("teacher_lesson", lesson.public_id) + "#exercises")
        return self._render(lesson, exercise, form, status=400)

    def _objects(self, lesson_id: str, exercise_id: str | None) -> tuple[Lesson, Any]:
        lesson = selectors.lesson_get(member=self.membership, public_id=lesson_id, managing=True)
        if exercise_id is None:
            return lesson, None
        exercise = (
            selectors.exercise_list(school=self.school, lesson=lesson)
            .filter(public_id=exercise_id)
            .first()
        )
        if exercise is None:
            raise Http404
        return lesson, exercise

    def _render(
        self, lesson: Lesson, exercise: Any, form: ExerciseForm, status: int = 200
    ) -> HttpResponse:
        return self.page(
            "exercise_form.html",
            {"lesson": lesson, "exercise": exercise, "form": form},
            status=status,
        )


class ExerciseDeleteView(ExerciseFormView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.http_method_not_allowed(request, *args, **kwargs)

    def post(
        self, request: HttpRequest, lesson_id: str, exercise_id: str | None = None, **kwargs: Any
    ) -> HttpResponse:
        lesson, exercise = self._objects(lesson_id, exercise_id)
        lesson_services.exercise_delete(actor=self.membership, exercise=exercise)
        messages.success(request, _("Exercise deleted."))
        return redirect(self.url("teacher_lesson", lesson.public_id) + "#exercises")


# --- Try as a student ---------------------------------------------------------------------


class LessonPreviewStartView(TeacherView):
    """Choose a pretend student's profile and start a preview session."""

    def get(self, request: HttpRequest, lesson_id: str, **kwargs: Any) -> HttpResponse:
        lesson = self._lesson(lesson_id)
        return self._render(lesson, PreviewProfileForm())

    def post(self, request: HttpRequest, lesson_id: str, **kwargs: Any) -> HttpResponse:
        lesson = self._lesson(lesson_id)
        form = PreviewProfileForm(request.POST)
        if form.is_valid():
            try:
                session = explanation_services.session_start(
                    actor=self.membership, lesson=lesson, preview_profile=form.profile()
                )
            except TutoringError as exc:
                form_error_add(form, exc)
            else:
                return redirect(self.url("teacher_preview_session", session.public_id))
        return self._render(lesson, form, status=400)

    def _lesson(self, lesson_id: str) -> Lesson:
        return selectors.lesson_get(member=self.membership, public_id=lesson_id, managing=True)

    def _render(self, lesson: Lesson, form: PreviewProfileForm, status: int = 200) -> HttpResponse:
        return self.page(
            "preview_start.html",
            {"lesson": lesson, "form": form, "language_suggestions": LANGUAGE_SUGGESTIONS},
            status=status,
        )


class PreviewSessionView(TeacherView):
    """A preview conversation: ask as the pretend student, watch the tutor answer live."""

    def get(self, request: HttpRequest, session_id: str, **kwargs: Any) -> HttpResponse:
        session = selectors.preview_session_get(member=self.membership, public_id=session_id)
        return self._render(session, PreviewQuestionForm())

    def post(self, request: HttpRequest, session_id: str, **kwargs: Any) -> HttpResponse:
        session = selectors.preview_session_get(member=self.membership, public_id=session_id)
        form = PreviewQuestionForm(request.POST)
        if form.is_valid():
            try:
                explanation = explanation_services.explanation_request(
                    actor=self.membership, session=session, question=form.cleaned_data["question"]
                )
            except TutoringError as exc:
                form_error_add(form, exc)
            else:
                url = self.url("teacher_preview_session", session.public_id)
                return redirect(f"{url}#explanation-{explanation.public_id}")
        return self._render(session, form, status=400)

    def _render(self, session: Any, form: PreviewQuestionForm, status: int = 200) -> HttpResponse:
        cards = []
        for explanation in selectors.session_explanations(school=self.school, session=session):
            card = explanation_card_context(self.school.slug, explanation, self.membership)
            # No feedback or retry buttons: those are the student's (and would send the
            # teacher to the student pages); a teacher just asks again.
            card["is_owner"] = False
            cards.append(card)
        return self.page(
            "preview_session.html",
            {
                "session": session,
                "lesson": session.lesson,
                "profile": session.preview_profile,
                "cards": cards,
                "form": form,
            },
            status=status,
        )


# --- Transcripts --------------------------------------------------------------------------


class TranscriptListView(TeacherView):
    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        member = self.membership
        students = list(selectors.transcript_filter_students(member=member))
        lessons = list(selectors.lesson_list_for_member(member=member, managing=True))
        form = TranscriptFilterForm(request.GET or None, students=students, lessons=lessons)
        filters: dict[str, Any] = {}
        if form.is_valid():
            data = form.cleaned_data
            if data["student"]:
                filters["student_id"] = next(
                    m.user_id for m in students if str(m.public_id) == data["student"]
                )
            if data["lesson"]:
                filters["lesson_id"] = next(
                    lesson.pk for lesson in lessons if str(lesson.public_id) == data["lesson"]
                )
            filters["feedback"] = data["feedback"]
            filters["flagged_only"] = data["flagged"] == "only"
        elif form.is_bound:
            # An unknown student or lesson id in the URL: show nothing rather than everything.
            return self.page(
                "transcripts.html",
                {"form": form, "page_obj": None, "sessions": [], "filtered": True},
                status=400,
            )
        sessions = selectors.transcript_list(member=member, **filters)
        page_obj = Paginator(sessions, TRANSCRIPTS_PER_PAGE).get_page(request.GET.get("page"))
        return self.page(
            "transcripts.html",
            {
                "form": form,
                "page_obj": page_obj,
                "sessions": list(page_obj.object_list),
                "filtered": bool(filters) and any(filters.values()),
            },
        )


class TranscriptView(TeacherView):
    def get(self, request: HttpRequest, session_id: str, **kwargs: Any) -> HttpResponse:
        session = selectors.transcript_get(member=self.membership, public_id=session_id)
        explanations = list(selectors.session_explanations(school=self.school, session=session))
        return self.page("transcript.html", {"session": session, "explanations": explanations})


# --- Usage --------------------------------------------------------------------------------


def _dollars(microdollars: int) -> str:
    # Under a cent (a few explanations on a cheap model), cents would all read $0.00.
    places = 4 if 0 < microdollars < 10_000 else 2
    return "$" + formats.number_format(
        microdollars / 1_000_000, decimal_pos=places, use_l10n=True, force_grouping=True
    )


def _usage_charts(summary: selectors.UsageSummary) -> list[dict[str, Any]]:
    def day_label(day: Any) -> str:
        return formats.date_format(day, "M j")

    def count(n: int) -> str:
        return formats.number_format(n, force_grouping=True)

    specs = [
        (
            "usage-tokens",
            _("Tokens per day"),
            lambda d: d.tokens,
            lambda d: _("%(day)s: %(n)s tokens") % {"day": day_label(d.day), "n": count(d.tokens)},
            count,
        ),
        (
            "usage-cost",
            _("Cost per day"),
            lambda d: d.cost_microdollars,
            lambda d: (
                _("%(day)s: %(cost)s")
                % {"day": day_label(d.day), "cost": _dollars(d.cost_microdollars)}
            ),
            _dollars,
        ),
        (
            "usage-explanations",
            _("Explanations per day"),
            lambda d: d.explanations,
            lambda d: (
                _("%(day)s: %(n)s explanations")
                % {"day": day_label(d.day), "n": count(d.explanations)}
            ),
            count,
        ),
    ]
    charts = []
    for chart_id, title, value, describe, fmt in specs:
        values = [value(d) for d in summary.days]
        peak = max(values, default=0)
        first, last = summary.days[0].day, summary.days[-1].day
        charts.append(
            {
                "id": chart_id,
                "title": title,
                "svg": bar_chart(
                    [
                        Bar(label=day_label(d.day), value=value(d), title=describe(d))
                        for d in summary.days
                    ],
                    chart_id=chart_id,
                    title=title,
                    description=_("From %(first)s to %(last)s; highest day: %(peak)s.")
                    % {"first": day_label(first), "last": day_label(last), "peak": fmt(peak)},
                    max_label=fmt(peak) if peak else "",
                    label_every=7,
                ),
            }
        )
    return charts


class UsageView(TeacherView):
    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        summary = selectors.usage_by_day(member=self.membership, days=USAGE_DAYS)
        return self.page(
            "usage.html",
            {
                "summary": summary,
                "charts": _usage_charts(summary),
                "total_cost": _dollars(summary.total_cost_microdollars),
                "days": [
                    {
                        "day": d.day,
                        "tokens": d.tokens,
                        "cost": _dollars(d.cost_microdollars),
                        "explanations": d.explanations,
                    }
                    for d in reversed(summary.days)
                ],
                "questions": selectors.most_asked_questions(
                    member=self.membership, days=USAGE_DAYS
                ),
                "usage_days": USAGE_DAYS,
            },
        )


_P = "s/<slug:school_slug>/teach/"

urlpatterns = [
    path(_P, DashboardView.as_view(), name="teacher_dashboard"),
    path(f"{_P}classes/", ClassListView.as_view(), name="teacher_classes"),
    path(f"{_P}classes/<uuid:classroom_id>/", ClassDetailView.as_view(), name="teacher_class"),
    path(
        f"{_P}classes/<uuid:classroom_id>/students/<uuid:member_id>/remove/",
        ClassUnenrollView.as_view(),
        name="teacher_class_unenroll",
    ),
    path(f"{_P}lessons/", LessonListView.as_view(), name="teacher_lessons"),
    path(f"{_P}lessons/new/", LessonCreateView.as_view(), name="teacher_lesson_create"),
    path(
        f"{_P}lessons/markdown-preview/",
        MarkdownPreviewView.as_view(),
        name="teacher_markdown_preview",
    ),
    path(f"{_P}lessons/<uuid:lesson_id>/", LessonEditView.as_view(), name="teacher_lesson"),
    path(
        f"{_P}lessons/<uuid:lesson_id>/publish/",
        LessonPublishView.as_view(),
        {"action": "publish"},
        name="teacher_lesson_publish",
    ),
    path(
        f"{_P}lessons/<uuid:lesson_id>/unpublish/",
        LessonPublishView.as_view(),
        {"action": "unpublish"},
        name="teacher_lesson_unpublish",
    ),
    path(
        f"{_P}lessons/<uuid:lesson_id>/versions/",
        LessonVersionListView.as_view(),
        name="teacher_lesson_versions",
    ),
    path(
        f"{_P}lessons/<uuid:lesson_id>/versions/<int:number>/",
        LessonVersionView.as_view(),
        name="teacher_lesson_version",
    ),
    path(
        f"{_P}lessons/<uuid:lesson_id>/exercises/new/",
        ExerciseFormView.as_view(),
        name="teacher_exercise_create",
    ),
    path(
        f"{_P}lessons/<uuid:lesson_id>/exercises/<uuid:exercise_id>/",
        ExerciseFormView.as_view(),
        name="teacher_exercise_edit",
    ),
    path(
        f"{_P}lessons/<uuid:lesson_id>/exercises/<uuid:exercise_id>/delete/",
        ExerciseDeleteView.as_view(),
        name="teacher_exercise_delete",
    ),
    path(
        f"{_P}lessons/<uuid:lesson_id>/try/",
        LessonPreviewStartView.as_view(),
        name="teacher_lesson_preview",
    ),
    path(
        f"{_P}previews/<uuid:session_id>/",
        PreviewSessionView.as_view(),
        name="teacher_preview_session",
    ),
    path(f"{_P}transcripts/", TranscriptListView.as_view(), name="teacher_transcripts"),
    path(
        f"{_P}transcripts/<uuid:session_id>/", TranscriptView.as_view(), name="teacher_transcript"
    ),
    path(f"{_P}usage/", UsageView.as_view(), name="teacher_usage"),
]
