# The files here are students' implementations to grade (tests/test_grade.py), not tests or doctests.
collect_ignore_glob = ["*.py"]
