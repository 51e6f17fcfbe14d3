"""The attachment step's upload script in Chromium: the file goes as the request body, a
progress bar shows how far it has come, and the page is accessible while it runs and
after (issue 6: "uploaded straight to S3 with a progress bar").

The upload is slowed down with Chromium's own network throttling (DevTools protocol), so
the bar is seen moving; the bytes still go through the live server to SeaweedFS.
"""

import hashlib

import pytest
from playwright.sync_api import expect

from arenden.models import Attachment

MiB = 1024 * 1024


@pytest.mark.parametrize("width", [1280, 320])
def test_an_upload_shows_its_progress_and_lands_on_the_step(width, open_page, assert_accessible, users, draft, tmp_path,
                                                             seaweedfs):
    page = open_page(user=users.applicant, viewport={"width": width, "height": 900})
    page.goto(f"/ansokningar/{draft.pk}/steg/bilagor/")
    content = b"%PDF-1.7\n" + bytes(range(256)) * (6 * MiB // 256)
    pdf = tmp_path / "Lägesbild 2027.pdf"
    pdf.write_bytes(content)
    page.locator("#id_kind").select_option("lagesbild")
    page.locator("#id_file").set_input_files(pdf)

    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 4 * MiB,
    })
    with page.expect_request(lambda r: r.method == "POST" and "/bilagor/" in r.url) as sent:
        page.get_by_role("button", name="Ladda upp").click()
        bar = page.get_by_role("progressbar", name="Uppladdning")
        expect(bar).to_be_visible()
        expect(page.locator("[data-upload-status]")).to_contain_text("Laddar upp ”Lägesbild 2027.pdf”")
        assert_accessible(page, f"attachments step while uploading at {width} px")
    request = sent.value
    assert request.headers["content-type"] == "application/octet-stream"
    assert request.headers["x-upload-kind"] == "lagesbild"
    assert request.headers["x-upload-name"] == "L%C3%A4gesbild%202027.pdf"
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1,
    })

    expect(page.get_by_role("status")).to_contain_text("Bilagan är uppladdad", timeout=30_000)
    expect(page.get_by_role("table", name="Bilagor")).to_contain_text("Lägesbild 2027.pdf")
    expect(page.get_by_role("progressbar")).to_have_count(0)  # hidden again on the new page
    assert_accessible(page, f"attachments step after an upload at {width} px")

    attachment = Attachment.objects.get(case=draft.case, original_name="Lägesbild 2027.pdf")
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    stored = seaweedfs.client().head_object(Bucket=seaweedfs.bucket, Key=attachment.file.name)
    assert "-" not in stored["ETag"], "the script's upload is one PUT, not the form's multipart upload"


def test_a_file_over_the_limit_is_refused_before_it_is_sent(open_page, users, draft, tmp_path, settings):
    page = open_page(user=users.applicant)
    page.goto(f"/ansokningar/{draft.pk}/steg/bilagor/")
    limit = int(page.locator("form[data-upload-script]").get_attribute("data-max-bytes"))
    big = tmp_path / "stor.pdf"
    with big.open("wb") as out:
        out.write(b"%PDF-1.7\n")
        out.truncate(limit + 1)
    page.locator("#id_file").set_input_files(big)
    requests = []
    page.on("request", lambda r: requests.append(r) if r.method == "POST" else None)
    page.get_by_role("button", name="Ladda upp").click()
    expect(page.get_by_role("alert")).to_contain_text("Filen är för stor. Största tillåtna storlek är 20,0\u00a0MB.")
    expect(page.locator("#id_file")).to_have_attribute("aria-invalid", "true")
    assert requests == []


def test_a_file_is_replaced_from_the_list(open_page, assert_accessible, users, draft, tmp_path, seaweedfs):
    old = Attachment.objects.filter(case=draft.case).order_by("uploaded_at").first()
    page = open_page(user=users.applicant)
    page.goto(f"/ansokningar/{draft.pk}/steg/bilagor/")
    page.get_by_role("link", name=f"Ersätt {old.original_name}").click()
    expect(page.get_by_role("heading", name=f"Ersätt ”{old.original_name}”")).to_be_visible()
    assert_accessible(page, "attachments step, replacing a file")
    new = tmp_path / "lagesbild-v2.pdf"
    new.write_bytes(b"%PDF-1.7\n% version 2\n")
    page.locator("#id_file").set_input_files(new)
    page.get_by_role("button", name="Ladda upp och ersätt").click()
    table = page.get_by_role("table", name="Bilagor")
    expect(table).to_contain_text("lagesbild-v2.pdf")
    expect(table).not_to_contain_text(old.original_name)
    expect(page.get_by_role("heading", name="Ladda upp en bilaga")).to_be_visible()
