from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_chain_verify


class Command(BaseCommand):
    help = "Recompute the audit chain; fail if any event was edited, inserted or deleted."

    def handle(self, *args, **options):
        report = audit_chain_verify()
        if not report.intact:
            for problem in report.problems:
                self.stderr.write(problem)
            raise CommandError(
                f"Audit chain broken: {len(report.problems)} problem(s) in {report.checked} events."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain intact: {report.checked} events.")
            + f"\nHead hash: {report.head_hash} (keep it elsewhere to detect a cut-off tail)."
        )
