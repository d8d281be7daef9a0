"""Users and their roles: three groups, editor, reviewer and admin, created by migrations."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

EDITOR, REVIEWER, ADMIN = "editor", "reviewer", "admin"
ROLES = (EDITOR, REVIEWER, ADMIN)


@transaction.atomic
def set_user(username: str, role: str, password: str, *, validate: bool = True) -> tuple[User, bool]:
    """Creates or updates a user with exactly this role."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    if validate:
        validate_password(password, user)
    user.set_password(password)
    # Admins manage the site through Django's admin as well.
    user.is_staff = user.is_superuser = role == ADMIN
    user.is_active = True
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    return user, created
