"""Retention, legal holds and the crypto-shredding purge (DESIGN §3, issue 12 item 3).

A purge of one customer goes through every app's privacy provider (``crm.privacy``) in two
steps, so that a crash at any point is safe to re-run:

1. in one transaction: lock the card, scrub every personal field of every row and history
   row (the providers), record ``PurgedSubject`` in state *scrubbed* and one audit event;
2. after that commit: destroy the data key (its search digests go with it) and mark the
   subject *destroyed*.

A crash inside step 1 rolls everything back; a crash between the steps leaves a
*scrubbed* subject that the next run (``purge_resume``) finishes first. Business facts
(sales lines, invoices) keep pointing at the card, which stays as the anonymous
placeholder. Each run writes a ``DestructionRecord`` (categories, counts, policy, job; never
a value) whose hash goes into the audit chain.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import events
from audit.models import DestructionRecord, LegalHold, PurgedSubject, RetentionPolicy
from audit.services import record_event
from crm import encryption, privacy

logger = logging.getLogger(__name__)

PURGE_PERMISSION = "audit.purge_customers"


def _require(actor, permission: str) -> None:
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied


# --- legal holds --------------------------------------------------------------------------


def legal_hold_place(*, actor, customer, reason: str) -> LegalHold:
    """Put a customer under legal hold: no purge while it is active."""
    _require(actor, "audit.add_legalhold")
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for the hold.")})
    if PurgedSubject.objects.filter(customer_id=customer.pk).exists():
        raise ValidationError(
            {"customer": _("This customer's personal data was purged: there is nothing to hold.")}
        )
    with transaction.atomic():
        hold = LegalHold(
            customer_id=customer.pk,
            customer_code=customer.code,
            subject_key_id=customer.data_key_id,
            placed_by=actor,
        )
        hold.reason = reason.strip()
        hold.full_clean(exclude=["reason", "lift_reason"])
        hold.save()
        record_event(
            action=events.LEGAL_HOLD_PLACED,
            actor=actor,
            obj=customer,
            reason=reason.strip(),
            data={"hold": hold.pk},
        )
    return hold


def legal_hold_lift(*, actor, hold_id: int, reason: str) -> LegalHold:
    _require(actor, "audit.change_legalhold")
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for lifting the hold.")})
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().get(pk=hold_id)
        if not hold.is_active:
            raise ValidationError({"hold": _("This hold was already lifted.")})
        hold.lifted_at = timezone.now()
        hold.lifted_by = actor
        hold.lift_reason = reason.strip()
        hold.save(update_fields=["lifted_at", "lifted_by", "lift_reason", "updated_at"])
        record_event(
            action=events.LEGAL_HOLD_LIFTED,
            actor=actor,
            content_type=_customer_content_type(),
            object_id=hold.customer_id,
            subject_key_id=hold.subject_key_id,
            reason=reason.strip(),
            data={"hold": hold.pk},
        )
    return hold


def active_hold_ids(customer_ids=None) -> set[int]:
    holds = LegalHold.objects.filter(lifted_at__isnull=True)
    if customer_ids is not None:
        holds = holds.filter(customer_id__in=list(customer_ids))
    return set(holds.values_list("customer_id", flat=True))


def _customer_content_type():
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(privacy.subject_model())


# --- what must not be deleted now -----------------------------------------------------------


def deletion_refusals(customer) -> list[str]:
    """Why ``customer`` cannot be purged now: every provider's open matters (the audit
    provider reports an active legal hold)."""
    return privacy.open_matters(customer)


# --- finding what has expired -------------------------------------------------------------


@dataclass
class Plan:
    """What a run would purge, and what it skips and why (codes and counts only)."""

    policies: dict[str, int] = field(default_factory=dict)
    customers: list = field(default_factory=list)  # (customer, policy category)
    skipped: dict[str, int] = field(default_factory=dict)
    expired_records: dict[str, int] = field(default_factory=dict)  # other categories

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


def _cutoff(years: int, now: datetime.datetime) -> datetime.datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def retention_plan(*, now: datetime.datetime | None = None) -> Plan:
    """The customers whose retention has expired, minus holds and open matters."""
    now = now or timezone.now()
    plan = Plan()
    policies = {p.category: p for p in RetentionPolicy.objects.filter(is_active=True)}
    plan.policies = {category: policy.years for category, policy in policies.items()}
    policy = policies.get(RetentionPolicy.Category.CUSTOMER)
    if policy is not None:
        cutoff = _cutoff(policy.years, now)
        purged = PurgedSubject.objects.values("customer_id")
        candidates = list(
            privacy.subject_model()
            .objects.filter(updated_at__lt=cutoff)
            .exclude(pk__in=purged)
            .order_by("pk")
        )
        held = active_hold_ids(c.pk for c in candidates)
        for customer in candidates:
            last = privacy.last_activity(customer)
            if last is not None and last >= cutoff:
                continue  # traded or changed since: not expired
            if customer.pk in held:
                plan.skip("legal_hold")
                continue
            if privacy.open_matters(customer):
                plan.skip("open_matter")
                continue
            plan.customers.append((customer, policy.category))
    for category, policy in policies.items():
        if category == RetentionPolicy.Category.CUSTOMER:
            continue
        for provider in privacy.providers():
            expire = provider.expire.get(category)
            if expire is not None:
                plan.expired_records[category] = plan.expired_records.get(category, 0) + expire(
                    cutoff=_cutoff(policy.years, now), held=active_hold_ids(), dry_run=True
                )
    return plan


# --- the purge ------------------------------------------------------------------------------


def _scrub_subject(
    *, customer_id: int, record: DestructionRecord, policy: str, actor
) -> PurgedSubject | None:
    """Step 1, in one transaction: scrub every provider's rows; ``None`` if refused now."""
    model = privacy.subject_model()
    with transaction.atomic():
        customer = model.objects.select_for_update().get(pk=customer_id)
        done = PurgedSubject.objects.filter(customer_id=customer.pk).first()
        if done is not None:
            return done  # already scrubbed by an earlier (interrupted) run
        if deletion_refusals(customer):
            return None  # a hold or an open matter appeared since the plan was made
        counts = privacy.scrub(customer)
        subject = PurgedSubject.objects.create(
            record=record,
            customer_id=customer.pk,
            customer_code=customer.code,
            data_key_id=customer.data_key_id,
            policy=policy,
            state=PurgedSubject.State.SCRUBBED,
            counts=counts,
        )
        record_event(
            action=events.CUSTOMER_PURGED,
            actor=actor,
            content_type=_customer_content_type(),
            object_id=customer.pk,
            data={"record": record.pk, "policy": policy, "counts": counts},
        )
    return subject


def _destroy_subject_key(subject: PurgedSubject) -> None:
    """Step 2, after step 1 committed: the data key and its search digests are deleted."""
    encryption.data_keys_delete_now([subject.data_key_id])
    from crm import search_index

    search_index.digests_delete_for_key(subject.data_key_id)
    subject.state = PurgedSubject.State.DESTROYED
    subject.save(update_fields=["state", "updated_at"])
    record_event(
        action=events.DATA_KEY_DESTROYED,
        content_type=_customer_content_type(),
        object_id=subject.customer_id,
        data={"record": subject.record_id},
    )


def _record_finish(record: DestructionRecord) -> DestructionRecord:
    """Total the record from its subjects, hash it and put the hash in the audit chain."""
    counts: dict[str, int] = {}
    subjects = list(record.purged.all())
    for subject in subjects:
        for label, count in subject.counts.items():
            counts[label] = counts.get(label, 0) + count
    with transaction.atomic():
        record = DestructionRecord.objects.select_for_update().get(pk=record.pk)
        for category, count in record.skipped.get("records", {}).items():
            counts[f"records.{category}"] = count
        record.counts = counts
        record.subjects = len(subjects)
        record.status = DestructionRecord.Status.DONE
        record.finished_at = timezone.now()
        record.record_hash = record.compute_hash()
        record.save()
        record_event(
            action=events.DESTRUCTION_RECORDED,
            actor=record.actor,
            obj=record,
            data={
                "record": record.pk,
                "hash": record.record_hash,
                "subjects": record.subjects,
                "counts": counts,
            },
        )
    logger.info("purge record=%s subjects=%s", record.pk, record.subjects)
    return record


def purge_resume() -> int:
    """Finish what a crashed run left: keys of scrubbed subjects, unfinished records."""
    finished = 0
    for subject in PurgedSubject.objects.filter(state=PurgedSubject.State.SCRUBBED).order_by("id"):
        _destroy_subject_key(subject)
        finished += 1
    for record in DestructionRecord.objects.filter(status=DestructionRecord.Status.RUNNING):
        _record_finish(record)
    return finished


def purge_expired(
    *,
    dry_run: bool = False,
    trigger: str = DestructionRecord.Trigger.SCHEDULE,
    actor=None,
    job: str = "",
) -> tuple[Plan, DestructionRecord | None]:
    """The retention run (daily task and ``manage.py purge_expired``)."""
    _require(actor, PURGE_PERMISSION)
    if not dry_run:
        purge_resume()
    plan = retention_plan()
    if dry_run:
        return plan, None
    record = DestructionRecord.objects.create(
        trigger=trigger, job=job, actor=actor, policies=plan.policies, skipped=dict(plan.skipped)
    )
    for customer, policy in plan.customers:
        subject = _scrub_subject(customer_id=customer.pk, record=record, policy=policy, actor=actor)
        if subject is not None and subject.state == PurgedSubject.State.SCRUBBED:
            _destroy_subject_key(subject)
    records = _expire_records(plan)
    if records:
        record.skipped = {**record.skipped, "records": records}
        record.save(update_fields=["skipped", "updated_at"])
    return plan, _record_finish(record)


def _expire_records(plan: Plan) -> dict[str, int]:
    now = timezone.now()
    done = {}
    held = active_hold_ids()
    for category, years in plan.policies.items():
        if category == RetentionPolicy.Category.CUSTOMER:
            continue
        for provider in privacy.providers():
            expire = provider.expire.get(category)
            if expire is not None:
                with transaction.atomic():
                    count = expire(cutoff=_cutoff(years, now), held=held, dry_run=False)
                done[category] = done.get(category, 0) + count
    return done


def customer_purge(
    *, actor, customer, trigger: str = DestructionRecord.Trigger.REQUEST, job: str = ""
) -> DestructionRecord:
    """Purge one customer now (a deletion request): refused while holds or matters are open."""
    _require(actor, PURGE_PERMISSION)
    purge_resume()
    if PurgedSubject.objects.filter(customer_id=customer.pk).exists():
        raise ValidationError({"customer": _("This customer was already purged.")})
    reasons = deletion_refusals(customer)
    if reasons:
        raise ValidationError({"customer": reasons})
    record = DestructionRecord.objects.create(
        trigger=trigger, job=job, actor=actor, policies={"request": 0}
    )
    subject = _scrub_subject(customer_id=customer.pk, record=record, policy="request", actor=actor)
    if subject is None:
        _record_finish(record)
        raise ValidationError({"customer": deletion_refusals(customer) or [_("Refused.")]})
    if subject.state == PurgedSubject.State.SCRUBBED:
        _destroy_subject_key(subject)
    return _record_finish(record)


def is_purged(customer_id: int) -> bool:
    return PurgedSubject.objects.filter(customer_id=customer_id).exists()


def retention_policy_update(
    *, actor, policy_id: int, years: int, is_active: bool
) -> RetentionPolicy:
    """Change how long a category is kept (the DPO)."""
    _require(actor, "audit.change_retentionpolicy")
    if years is None or years < 1 or years > 100:
        raise ValidationError({"years": _("Keep data between 1 and 100 years.")})
    with transaction.atomic():
        policy = RetentionPolicy.objects.select_for_update().get(pk=policy_id)
        if policy.years == years and policy.is_active == is_active:
            return policy
        before = {"years": policy.years, "is_active": policy.is_active}
        policy.years, policy.is_active = years, is_active
        policy.save(update_fields=["years", "is_active", "updated_at"])
        record_event(
            action=events.RETENTION_POLICY_CHANGED,
            actor=actor,
            obj=policy,
            data={
                "category": policy.category,
                "before": before,
                "after": {"years": years, "is_active": is_active},
            },
        )
    return policy


def destruction_record_evidence(*, actor, record: DestructionRecord) -> dict:
    """The record as the DPO downloads it (audited): categories, counts, policy, hash."""
    _require(actor, "audit.view_destructionrecord")
    record_event(
        action=events.DESTRUCTION_RECORD_DOWNLOADED,
        actor=actor,
        obj=record,
        data={"record": record.pk},
    )
    return {
        **record.evidence(),
        "record_hash": record.record_hash,
        "hash_matches": record.compute_hash() == record.record_hash,
    }
