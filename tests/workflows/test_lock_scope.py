"""Lock scope and threaded servers on the real PostgreSQL.

One application's lock must not lock its neighbours (the Call, the Organisation, another
application of the same call): PostgreSQL's FOR UPDATE locks every table in the FROM clause
unless `of=("self",)` says otherwise. And a threaded server (runserver, gunicorn gthread)
must answer concurrent page loads and submissions without a 500: django-fsm's
refresh_from_db() on a protected field flips a flag shared by all threads.
"""

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from bidrag.locks import lock_application
from bidrag.models import Application, Call, Organisation
from bidrag.models.application import Status

pytestmark = pytest.mark.django_db(transaction=True)


def test_locking_an_application_leaves_its_call_organisation_and_neighbours_free(make_application, malmo):
    first = make_application(to=Status.IN_REVIEW)
    second = make_application(to=Status.IN_REVIEW, organisation=malmo, title="Granne")
    held, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                lock_application(first.pk)
                held.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert held.wait(10)
    try:
        with transaction.atomic():  # NOWAIT: an error at once if the holder had these rows locked
            Call.objects.select_for_update(nowait=True).get(pk=first.call_id)
            Organisation.objects.select_for_update(nowait=True).get(pk=first.organisation_id)
            Application.objects.select_for_update(nowait=True).get(pk=second.pk)
    finally:
        release.set()
        holder.join(10)


def _session(user) -> dict:
    client = Client()
    client.force_login(user)
    return {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}


def _get(url, headers):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return response.status, response.read().decode(), response.headers.get_all("Set-Cookie") or []
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), []


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _post(url, headers, data):
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode(), headers=headers, method="POST")
    try:
        with opener.open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_eight_threads_loading_the_submit_and_case_pages_get_no_500(live_server, draft, make_application, cast, malmo):
    case = make_application(to=Status.IN_ASSESSMENT, organisation=malmo, title="Under bedömning")
    signatory, officer = _session(cast.signatory), _session(cast.officer)
    pages = [
        (f"{live_server.url}{reverse('workflows:submit', args=[draft.pk])}", signatory),
        (f"{live_server.url}{reverse('workflows:case_detail', args=[case.pk])}", officer),
    ]
    jobs = [pages[i % 2] for i in range(8 * 20)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda job: _get(*job)[0], jobs))
    assert statuses.count(200) == len(jobs), {s: statuses.count(s) for s in set(statuses)}


def test_ten_tabs_submitting_at_once_submit_once_and_get_no_500(live_server, draft, cast):
    url = f"{live_server.url}{reverse('workflows:submit', args=[draft.pk])}"
    session = _session(cast.signatory)

    def tab(_):
        status, page, cookies = _get(url, session)
        assert status == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
        csrf = next(c.split(";")[0] for c in cookies if c.startswith("csrftoken="))
        headers = {"Cookie": f"{session['Cookie']}; {csrf}", "Referer": url}
        return _post(url, headers, {"csrfmiddlewaretoken": token, "idempotency_key": key})

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(tab, range(10)))
    assert 500 not in statuses, statuses
    assert statuses.count(302) == 1 and statuses.count(409) == 9, statuses
    submitted = Application.objects.get(pk=draft.pk)
    assert submitted.status == Status.SUBMITTED and submitted.case.diarienummer
