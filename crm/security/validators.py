"""A password "validator" whose only job is the hook after every password change.

Django calls ``password_changed`` of every configured validator after a user whose
password was set with ``set_password`` is saved: the admin's password form, the password
change and reset views, ``changepassword``, services. So every change is audited and
revokes the user's API tokens, whichever way it came.
"""

from crm.auditing import record as record_event
from crm.security import context, events


class PasswordChangeAudit:
    def validate(self, password, user=None):
        return None

    def get_help_text(self):
        return ""

    def password_changed(self, password, user=None):
        if user is None or user.pk is None:
            return
        from crm.security.tokens import tokens_revoke_for_user

        actor = context.current_actor()
        if context.in_request() is False and user.last_login is None:
            # Outside a request, for a user who never signed in: an account being created
            # (the demo seed, a test factory), not a change of a password in use.
            return
        record_event(
            action=events.PASSWORD_CHANGED,
            actor=actor or user,
            obj=user,
            data={"by_self": actor is None or actor.pk == user.pk},
        )
        tokens_revoke_for_user(user=user, actor=actor or user, why="password_changed")
