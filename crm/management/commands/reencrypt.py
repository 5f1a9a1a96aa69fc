from django.core.management.base import BaseCommand

from crm.key_rotation import legacy_values_remaining, values_reencrypt


class Command(BaseCommand):
    help = (
        "Rewrite every encrypted value still in the first format (enc1) in the current one, "
        "bound to its model, field and row; history tables included. Runs in batches and "
        "can be stopped and run again: it continues where it stopped. Afterwards set "
        "FIELD_ENCRYPTION_LEGACY_READS=false."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size, **options):
        report = values_reencrypt(
            progress=lambda message: self.stdout.write(message), batch_size=batch_size
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Rewrote {report.values} values; {report.erased} belong to destroyed keys, "
                f"{report.unreadable} could not be read; "
                f"{legacy_values_remaining()} remain in the first format."
            )
        )
