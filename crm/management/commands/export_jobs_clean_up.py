from django.core.management.base import BaseCommand

from crm.exports.jobs import export_jobs_clean_up


class Command(BaseCommand):
    help = "Delete expired export files, close stalled export jobs, delete orphan files."

    def handle(self, *args, **options):
        result = export_jobs_clean_up()
        self.stdout.write(
            "{expired} exports expired, {jobs_closed} stalled jobs closed, "
            "{files_deleted} orphan files deleted.".format(**result)
        )
