"""Fixtures shared by the students tests: a school and a signed-in member of its support team."""
import pytest


@pytest.fixture
def school(build):
    return build.school()


@pytest.fixture
def teacher(build, school, login):
    user = build.user("school_staff", organisation=school)
    login(user)
    return user
