import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crm.tasks import health_ping


class Command(BaseCommand):
    help = "Send a task through the broker and wait for a worker to answer it."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=10.0)

    def handle(self, *args, timeout, **options):
        if settings.CELERY_TASK_ALWAYS_EAGER:
            self.stdout.write("No broker configured: tasks run in-process.")
            return
        token = uuid.uuid4().hex
        try:
            answer = health_ping.delay(token).get(timeout=timeout)
        except Exception as exc:
            raise CommandError(f"No worker answered within {timeout:g} s: {exc}") from exc
        if answer.get("token") != token:
            raise CommandError("A worker answered with the wrong token.")
        self.stdout.write(self.style.SUCCESS(f"Worker {answer['worker']} answered."))
