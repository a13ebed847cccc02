"""Web URLs under /s/<school_slug>/, one module per audience."""

from tutoring.web import safety, school_admin, student, teacher

urlpatterns = [
    *student.urlpatterns,
    *teacher.urlpatterns,
    *school_admin.urlpatterns,
    *safety.urlpatterns,
]
