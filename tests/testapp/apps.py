from django.apps import AppConfig


class TestAppConfig(AppConfig):
    name = "tests.testapp"
    label = "testapp"

    def ready(self):
        from crm import roles

        # No role holds the permissions of these test-only models (crm.roles completeness).
        roles.declare_unused(["testapp.*"], reason="models of the building blocks' tests only")

        # Another app's merge policy, declared without editing customers/.
        from customers import merge_policies
        from tests.testapp.models import LoyaltyCard

        merge_policies.register(LoyaltyCard, merge_policies.COMBINE, combine=_combine_loyalty)


def _combine_loyalty(*, survivor_row, duplicate_row, actor, reason) -> bool:
    """The survivor's card collects the duplicate's points; the duplicate's card stays on
    the merged card (its number may still be printed on a plastic card somewhere)."""
    survivor_row.points += duplicate_row.points
    survivor_row._history_user = actor
    survivor_row.save(update_fields=["points", "updated_at"])
    return False
