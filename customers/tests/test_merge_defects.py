"""The merge's QA walkthrough: the reason is asked before "cannot be undone"; the history
keeps the user's own reason, never English internal text; the timeline tells a merge by
the card closed as merged; the preview's wording (masked values that read the same, the
rows that stay on the duplicate, the owner's team, the merged card named by its code).

The timeline tests (``test_timeline_*``) need the change to ``customers/selectors.py``
described in the report (``_merge_rows``): they fail until it is applied."""

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from crm.fields import change_reason_of
from crm.tests.factories import TeamFactory
from customers import services
from customers.models import Contact, Customer, VisitPlanEntry
from customers.selectors import customer_timeline
from customers.services.merge import customer_merge_preview
from customers.services.workspace import customer_status_change
from customers.tests.factories import make_customer, manager_of, rep

pytestmark = pytest.mark.django_db

REASON = "同一客户的两份档案"


@pytest.fixture
def people():
    north = TeamFactory(name="North")
    return {"owner": rep(team=north), "manager": manager_of(north)}


@pytest.fixture
def pair(people):
    owner = people["owner"]
    survivor = make_customer(owner, name="张明华", email="chen@example.cn")
    duplicate = make_customer(owner, name="张明华", email="cai@example.cn")
    services.contact_save(actor=owner, customer=duplicate, name="王芳", phone="13900000001")
    services.visit_plan_add(actor=owner, customer=survivor)
    services.visit_plan_add(actor=owner, customer=duplicate)
    return survivor, duplicate


def _merge(people, pair, reason=REASON, **kwargs):
    survivor, duplicate = pair
    return services.customer_merge(
        actor=people["manager"],
        survivor_id=survivor.pk,
        duplicate_id=duplicate.pk,
        reason=reason,
        **kwargs,
    )


def _preview_url(survivor, duplicate):
    return (
        reverse("customers:merge-preview") + f"?survivor={survivor.code}&duplicate={duplicate.code}"
    )


def _reasons(model, **filters) -> list[str]:
    return [change_reason_of(r) for r in model.history.filter(**filters).order_by("history_id")]


# --- 1. the reason before "cannot be undone" -------------------------------------------------


def test_the_preview_marks_the_reason_required_inside_the_confirmed_form(client, people, pair):
    client.force_login(people["manager"])
    html = client.get(_preview_url(*pair)).content.decode()
    assert (
        '<input type="text" name="reason" maxlength="300" class="form-control" required '
        'id="id_reason">' in html
    )
    start = html.index('data-testid="merge-confirm"')
    form = html[start : html.index("</form>", start)]
    assert 'name="reason"' in form and "data-confirm=" in html


def test_the_server_still_refuses_a_merge_without_a_reason(client, people, pair):
    survivor, duplicate = pair
    client.force_login(people["manager"])
    response = client.post(
        reverse("customers:merge"), {"survivor": survivor.code, "duplicate": duplicate.code}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-describedby="id_reason_error"' in html
    assert '<div class="invalid-feedback d-block" id="id_reason_error">' in html
    duplicate.refresh_from_db()
    assert duplicate.status != Customer.Status.MERGED


def test_the_confirmation_script_asks_only_a_valid_form():
    from django.contrib.staticfiles import finders

    script = Path(finders.find("js/workspace.js")).read_text(encoding="utf-8")
    handler = script[script.index('var question = form.getAttribute("data-confirm")') :]
    handler = handler[: handler.index("}, true);")]
    assert handler.index("form.checkValidity()") < handler.index("window.confirm(question)")
    assert "form.reportValidity();" in handler


# --- 2. the history keeps the user's reason ------------------------------------------------


def test_every_history_row_of_the_merge_carries_the_users_reason(people, pair):
    survivor, duplicate = pair
    _merge(people, pair)
    # Created, then closed as merged / the merge's own row: the user's words, nothing else.
    assert _reasons(Customer, id=duplicate.pk) == ["", REASON]
    assert _reasons(Customer, id=survivor.pk) == ["", REASON]
    assert _reasons(Contact, id=Contact.objects.get(customer=survivor).pk) == ["", REASON]
    cancelled = VisitPlanEntry.objects.get(customer=survivor, status="cancelled")
    assert cancelled.removed_reason == REASON


def test_a_merge_without_a_reason_writes_no_reason_at_all(people, pair):
    survivor, duplicate = pair
    _merge(people, pair, reason="  ")
    assert _reasons(Customer, id=duplicate.pk) == ["", ""]
    assert _reasons(Customer, id=survivor.pk) == ["", ""]
    assert _reasons(Contact, id=Contact.objects.get(customer=survivor).pk) == ["", ""]
    assert VisitPlanEntry.objects.get(customer=survivor, status="cancelled").removed_reason == ""


def test_timeline_names_the_merge_with_the_users_reason_in_chinese(people, pair):
    survivor, duplicate = pair
    _merge(people, pair)
    with translation.override("zh-hans"):
        timeline = customer_timeline(customer=survivor, user=people["manager"])
    merged = [e for e in timeline if e.title == "档案已合并"]
    # The duplicate closed as merged, and the survivor's own row of the merge.
    assert len(merged) == 2
    assert [e.detail for e in merged] == [REASON, REASON]
    assert not any("merged" in e.detail for e in timeline)
    assert [e.title for e in timeline].count("档案已修改") == 0


def test_timeline_names_a_merge_without_a_reason_once(people, pair):
    survivor, _duplicate = pair
    _merge(people, pair, reason="")
    timeline = customer_timeline(customer=survivor, user=people["manager"])
    merged = [e for e in timeline if e.title == "Card merged"]
    assert len(merged) == 1 and merged[0].detail == ""
    assert [e.title for e in timeline].count("Card changed") == 0


def test_timeline_keeps_the_values_taken_on_the_survivors_merge_row(people, pair):
    survivor, _duplicate = pair
    _merge(people, pair, take_from_duplicate=["email"])
    timeline = customer_timeline(customer=survivor, user=people["manager"])
    merged = [e for e in timeline if e.title == "Card merged"]
    assert len(merged) == 2
    assert [e.changes for e in merged if e.changes and e.changes[0][0] == "e-mail"] == [
        [("e-mail", "c***@example.cn")]
    ]


def test_timeline_does_not_read_a_reason_starting_with_merged_as_a_merge(people, pair):
    survivor, _duplicate = pair
    customer_status_change(
        actor=people["manager"],
        customer_id=survivor.pk,
        to_status=Customer.Status.ACTIVE,
        reason="merged stock, first order",
    )
    timeline = customer_timeline(customer=survivor, user=people["manager"])
    assert [e.title for e in timeline].count("Card merged") == 0
    changed = [e.detail for e in timeline if e.title == "Card changed"]
    assert changed == ["merged stock, first order"]


def test_timeline_names_an_earlier_merged_card_pointed_on_as_merged(people, pair):
    survivor, duplicate = pair
    earlier = make_customer(people["owner"], name="张明华")
    services.customer_merge(
        actor=people["manager"], survivor_id=duplicate.pk, duplicate_id=earlier.pk, reason="一"
    )
    _merge(people, pair, reason="二")
    timeline = customer_timeline(customer=survivor, user=people["manager"])
    merged = sorted(e.detail for e in timeline if e.title == "Card merged")
    # The first merge: earlier closed, the duplicate's own row; the second: earlier
    # pointed on to the survivor, the duplicate closed, the survivor's own row.
    assert merged == ["一", "一", "二", "二", "二"]


# --- 3. the preview's wording ---------------------------------------------------------------


def test_masked_values_that_read_the_same_get_a_note(client, people, pair):
    client.force_login(people["manager"])
    html = client.get(_preview_url(*pair)).content.decode()
    assert html.count('data-testid="merge-alike"') == 1
    row = html[html.index('data-field="email"') :]
    row = row[: row.index('role="row"')]
    assert "The values differ beyond what is shown." in row
    assert row.count("c***@example.cn") == 2


def test_masked_values_that_read_differently_get_no_note(client, people):
    owner = people["owner"]
    survivor = make_customer(owner, name="张明华", email="chen@example.cn")
    duplicate = make_customer(owner, name="张明华", email="wang@example.cn")
    client.force_login(people["manager"])
    html = client.get(_preview_url(survivor, duplicate)).content.decode()
    assert 'data-field="email"' in html
    assert 'data-testid="merge-alike"' not in html


def test_the_records_column_names_the_duplicate(client, people, pair):
    client.force_login(people["manager"])
    html = client.get(_preview_url(*pair)).content.decode()
    assert "Stay on the duplicate (closed as merged)" in html
    assert "Stay on the merged card" not in html


def test_the_owner_hint_says_the_owners_team_comes_too(people):
    owner = people["owner"]
    other = rep(team=owner.team)
    survivor = make_customer(owner, name="张明华")
    duplicate = make_customer(other, name="张明华")
    preview = customer_merge_preview(
        actor=people["manager"], survivor_id=survivor.pk, duplicate_id=duplicate.pk
    )
    hints = {f.name: f.hint for f in preview.fields}
    assert hints["owner"] == "Taken as an owner change: the owner's team comes too."


@pytest.mark.parametrize("merged_side", ["survivor", "duplicate"])
def test_a_merged_card_is_refused_by_its_code(people, merged_side):
    owner = people["owner"]
    cards = {"survivor": make_customer(owner), "duplicate": make_customer(owner)}
    target = make_customer(owner)
    services.customer_merge(
        actor=people["manager"],
        survivor_id=target.pk,
        duplicate_id=cards[merged_side].pk,
        reason="重复",
    )
    for call in (services.customer_merge, customer_merge_preview):
        with pytest.raises(ValidationError) as refused:
            call(
                actor=people["manager"],
                survivor_id=cards["survivor"].pk,
                duplicate_id=cards["duplicate"].pk,
            )
        assert refused.value.message_dict == {
            merged_side: [
                f"Card {cards[merged_side].code} was merged already: a merged card cannot "
                "take part in a merge."
            ]
        }


def test_the_preview_page_names_the_merged_card(client, people):
    owner = people["owner"]
    survivor, duplicate, target = make_customer(owner), make_customer(owner), make_customer(owner)
    services.customer_merge(
        actor=people["manager"], survivor_id=target.pk, duplicate_id=duplicate.pk, reason="重复"
    )
    client.force_login(people["manager"])
    response = client.get(_preview_url(survivor, duplicate))
    assert response.status_code == 400
    assert (
        f"Card {duplicate.code} was merged already: a merged card cannot take part in a merge."
        in response.content.decode()
    )
