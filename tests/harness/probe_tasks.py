"""A task for tests of the harness: proves a worker process sees the test's database,
S3 and SMTP server. Module-level so that the worker can import it by name."""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.tasks import task


@task
def probe(recipient: str, object_name: str, content: str) -> str:
    send_mail("Harness probe", f"Sent by the task worker: {content}", None, [recipient])
    return default_storage.save(object_name, ContentFile(content.encode()))
