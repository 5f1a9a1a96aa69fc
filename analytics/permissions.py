"""Sales analytics: Permission names and access_<entity>() helpers.

Which *customers* a report covers is ``customers.selectors.customer_list`` (a rep his own,
a manager his team's, the general manager all), applied in SQL by ``analytics.reports``;
the permissions below say what kind of thing a role may do at all.
"""

from __future__ import annotations

from crm.exceptions import HiddenObject

VIEW_REPORTS = "analytics.view_salesline"  # sales reports over the customers one sees
ADD_LINES = "analytics.add_salesline"
ADD_STOCK = "analytics.add_stocksnapshot"
VIEW_PRODUCT = "analytics.view_product"
ADD_PRODUCT = "analytics.add_product"
CHANGE_PRODUCT = "analytics.change_product"
VIEW_ESTIMATE = "analytics.view_purchaseestimate"
ADD_ESTIMATE = "analytics.add_purchaseestimate"
CHANGE_ESTIMATE = "analytics.change_purchaseestimate"
VIEW_RUNS = "analytics.view_reportrun"
RUN_REPORTS = "analytics.run_reportrun"


def access_report_run(user, run_id):
    """A stored run the user may see (404 otherwise, audited like a hidden card)."""
    from analytics.models import ReportRun
    from crm.ids import is_object_id

    run = None
    if user.is_authenticated and user.has_perm(VIEW_RUNS) and is_object_id(run_id):
        run = ReportRun.objects.filter(pk=run_id).first()
    if run is None:
        from django.contrib.contenttypes.models import ContentType

        denied = HiddenObject(
            user=user,
            content_type=ContentType.objects.get_for_model(ReportRun),
            object_id=run_id,
            action="view",
        )
        denied.record()
        raise denied
    return run


def access_estimate(user, estimate_id):
    """An estimate of a customer the user may see (404 otherwise, audited)."""
    from analytics.models import PurchaseEstimate
    from analytics.selectors import purchase_estimate_list
    from crm.ids import is_object_id

    estimate = None
    if user.is_authenticated and is_object_id(estimate_id):
        estimate = purchase_estimate_list(user=user).filter(pk=estimate_id).first()
    if estimate is None:
        from django.contrib.contenttypes.models import ContentType

        denied = HiddenObject(
            user=user,
            content_type=ContentType.objects.get_for_model(PurchaseEstimate),
            object_id=estimate_id,
            action="view",
        )
        denied.record()
        raise denied
    return estimate
