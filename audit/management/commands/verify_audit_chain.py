from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit import events
from audit.services import audit_chain_checkpoint, audit_chain_verify, record_event


class Command(BaseCommand):
    help = (
        "Recompute the audit chain and check it against the checkpoints in the keys "
        "database; fail if any event was edited, reordered, inserted or removed. An intact "
        "head is checkpointed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint-only",
            action="store_true",
            help="Only chain leftover events and checkpoint the head (what the hourly task "
            "does), without verifying the whole chain.",
        )

    def handle(self, *args, checkpoint_only=False, **options):
        if checkpoint_only:
            checkpoint = audit_chain_checkpoint()
            if checkpoint is None:
                raise CommandError(
                    _("The head of the audit chain does not verify; no checkpoint taken.")
                )
            self.stdout.write(
                self.style.SUCCESS(
                    _("Checkpoint %(id)s taken at sequence %(sequence)s.")
                    % {"id": checkpoint.pk, "sequence": checkpoint.sequence}
                )
            )
            return
        report = audit_chain_verify()
        # The result is itself an event: the console shows the last verification.
        record_event(
            action=events.AUDIT_CHAIN_VERIFIED,
            data={
                "intact": report.intact,
                "checked": report.checked,
                "problems": len(report.problems),
                "head_sequence": report.head_sequence,
            },
        )
        if not report.intact:
            for problem in report.problems:
                self.stderr.write(problem)
            raise CommandError(
                _("Audit chain broken: %(problems)s problem(s) in %(checked)s events.")
                % {"problems": len(report.problems), "checked": report.checked}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("Audit chain intact: %(checked)s events.") % {"checked": report.checked}
            )
            + "\n"
            + _("Head: sequence %(sequence)s, hash %(hash)s; checkpoint %(id)s taken.")
            % {
                "sequence": report.head_sequence,
                "hash": report.head_hash,
                "id": report.checkpoint.pk,
            }
        )
