"""Web pages: student (student.py), teacher (teacher.py), school admin (school_admin.py)."""
