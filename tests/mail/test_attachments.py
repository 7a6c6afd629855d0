"""Attachments and inline images: kept with the email, served only as downloads, and the email
shown as its sender formatted it without anything from it reaching the page or the network."""

from __future__ import annotations

import html
import struct
import zlib
from email.message import EmailMessage

from conversations.models import Message
from mail.models import Attachment, Mailbox
from mail.parsing import safe_filename
from mail.secrets import encrypt_secret
from mail.services import email_ingest, emails_ingest
from mail.sync import mailbox_sync
from tests import factories
from tests.conftest import CLIENT_QUERIES
from tests.mail.conftest import PASSWORD

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TRACKER = "https://tracker.example/open.gif?u=42"


def png(width: int = 2, height: int = 1) -> bytes:
    """A real PNG (the browser test checks that it is decoded)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )  # fmt: skip


LOGO = png(24, 12)


def mail_with_attachments(
    *, sender: str, to: str, message_id: str = "<att-1@alpha-customer.example>"
) -> bytes:
    """What a mail client sends: text and HTML alternatives, the HTML with an inline logo and
    a tracking pixel, and a PDF attached."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = f"Ann <{sender}>", to, "Signed quote"
    mail["Message-ID"], mail["Date"] = message_id, "Tue, 03 Nov 2026 09:15:00 +0000"
    mail.set_content("The signed quote is attached.\n")
    mail.add_alternative(
        '<p>The <b>signed</b> quote is attached.</p><p><img src="cid:logo@ann" alt="Acme"></p>'
        f'<img src="{TRACKER}" width="1" height="1">'
        "<style>body{display:none}</style><script>alert(1)</script>",
        subtype="html",
    )
    html_part = mail.get_body(("html",))
    assert html_part is not None
    html_part.add_related(
        LOGO, "image", "png", cid="<logo@ann>", filename="logo.png", disposition="inline"
    )
    mail.add_attachment(PDF, "application", "pdf", filename="Quote Q-1042 (signed).pdf")
    return bytes(mail)


def mail_with(*parts: tuple[bytes, str, str], sender: str, to: str, message_id: str) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, "Files"
    mail["Message-ID"], mail["Date"] = message_id, "Tue, 03 Nov 2026 10:00:00 +0000"
    mail.set_content("Files for you.\n")
    for content, content_type, filename in parts:
        maintype, subtype = content_type.split("/")
        mail.add_attachment(content, maintype, subtype, filename=filename)
    return bytes(mail)


def customer(cast) -> str:
    return cast.contact.addresses.get().value


def ingest(cast, raw):
    result = email_ingest(org=cast.org, raw=raw)
    assert result.outcome == "created", result
    return result.message


def attachments_of(message):
    return list(
        Attachment.objects.for_org(message.organisation_id)
        .filter(message=message)
        .order_by("position")
    )


def page_of(cast, message):
    url = f"/o/{cast.org.slug}/conversations/{message.conversation_id}/"
    return cast.client().get(url).content.decode()


def srcdoc_of(page: str) -> str:
    start = page.index('srcdoc="') + len('srcdoc="')
    return html.unescape(page[start : page.index('"', start)])


def test_an_emails_pdf_and_inline_image_are_kept_with_name_size_and_type(a):
    message = ingest(a, mail_with_attachments(sender=customer(a), to=a.sales.email))
    logo, pdf = attachments_of(message)
    assert (pdf.filename, pdf.content_type, pdf.size, pdf.is_inline) == (
        "Quote Q-1042 (signed).pdf", "application/pdf", len(PDF), False,
    )  # fmt: skip
    assert bytes(pdf.content) == PDF and not pdf.too_large
    assert (logo.filename, logo.content_type, logo.content_id, logo.is_inline) == (
        "logo.png", "image/png", "logo@ann", True,
    )  # fmt: skip
    assert bytes(logo.content) == LOGO and logo.size == len(LOGO)
    assert len(logo.sha256) == 64 and logo.sha256 != pdf.sha256


def test_an_attachment_over_the_limit_is_listed_with_its_size_but_not_kept(a, settings):
    settings.MAIL_ATTACHMENT_MAX_BYTES = 1000
    big = b"%PDF-1.4\n" + b"x" * 3_000_000
    message = ingest(
        a,
        mail_with((big, "application/pdf", "scan.pdf"), (PDF, "application/pdf", "small.pdf"),
                  sender=customer(a), to=a.sales.email, message_id="<big@alpha>"),
    )  # fmt: skip
    scan, small = attachments_of(message)
    assert (scan.filename, scan.size, scan.too_large, scan.content) == (
        "scan.pdf", len(big), True, None,
    )  # fmt: skip
    assert not small.too_large and bytes(small.content) == PDF
    page = page_of(a, message)
    assert (
        'scan.pdf</span> <span class="muted">too large to keep (2.9\xa0MB); in the original email'
        in page
    )
    assert f"/mail/attachments/{scan.pk}/" not in page, "no link to what was not kept"
    assert f"/mail/attachments/{small.pk}/" in page
    response = a.client().get(f"/o/{a.org.slug}/mail/attachments/{scan.pk}/")
    assert response.status_code == 404


def test_an_emails_attachments_together_are_kept_only_up_to_the_per_message_limit(a, settings):
    settings.MAIL_ATTACHMENTS_PER_MESSAGE_MAX_BYTES = 2500
    parts = [(b"%PDF" + bytes([n]) * 996, "application/pdf", f"part{n}.pdf") for n in range(4)]
    message = ingest(
        a, mail_with(*parts, sender=customer(a), to=a.sales.email, message_id="<many@alpha>")
    )
    assert [x.too_large for x in attachments_of(message)] == [False, False, True, True]


def test_the_same_email_seen_again_adds_no_attachments(a):
    raw = mail_with_attachments(sender=customer(a), to=a.sales.email)
    first = ingest(a, raw)
    again = email_ingest(org=a.org, raw=raw)
    # A colleague's copy: other bytes, same message.
    colleagues = email_ingest(org=a.org, raw=b"Received: from mx2\r\n" + raw)
    in_one_batch = emails_ingest(org=a.org, items=[(raw, "x"), (raw, "y")])
    assert {again.outcome, colleagues.outcome} | {r.outcome for r in in_one_batch} == {"duplicate"}
    assert Attachment.objects.for_org(a.org).filter(message=first).count() == 2
    fresh = emails_ingest(
        org=a.org,
        items=[(mail_with_attachments(sender=customer(a), to=a.sales.email,
                                      message_id="<att-2@alpha-customer.example>"), "x")] * 2,
    )  # fmt: skip
    assert [r.outcome for r in fresh] == ["created", "duplicate"]
    assert Attachment.objects.for_org(a.org).filter(message=fresh[0].message).count() == 2


def test_a_download_is_always_an_attachment_that_cannot_render(a):
    message = ingest(
        a,
        mail_with(
            (PDF, "application/pdf", "quote.pdf"),
            (b"<script>alert(document.cookie)</script>", "text/html", "invoice.html"),
            (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml",
             "chart.svg"),
            sender=customer(a), to=a.sales.email, message_id="<files@alpha>",
        ),
    )  # fmt: skip
    client = a.client()
    for attachment in attachments_of(message):
        for query in ("", "?inline=1"):
            url = f"/o/{a.org.slug}/mail/attachments/{attachment.pk}/{query}"
            response = client.get(url)
            assert response.status_code == 200
            assert response["Content-Type"] == "application/octet-stream", url
            assert response["Content-Disposition"].startswith("attachment; "), url
            assert f"filename*=UTF-8''{attachment.filename}" in response["Content-Disposition"]
            assert response["X-Content-Type-Options"] == "nosniff"
            assert "sandbox" in response["Content-Security-Policy"]
            assert response.content == bytes(attachment.content)


def test_only_real_png_jpeg_gif_or_webp_images_are_served_inline(a):
    message = ingest(
        a,
        mail_with(
            (LOGO, "image/png", "logo.png"),
            (b"<html><script>alert(1)</script>", "image/png", "fake.png"),
            sender=customer(a), to=a.sales.email, message_id="<images@alpha>",
        ),
    )  # fmt: skip
    logo, fake = attachments_of(message)
    client = a.client()
    shown = client.get(f"/o/{a.org.slug}/mail/attachments/{logo.pk}/?inline=1")
    assert (shown["Content-Type"], shown["Content-Disposition"]) == (
        "image/png", "inline; filename=\"logo.png\"; filename*=UTF-8''logo.png",
    )  # fmt: skip
    assert shown["X-Content-Type-Options"] == "nosniff"
    downloaded = client.get(f"/o/{a.org.slug}/mail/attachments/{logo.pk}/")
    assert downloaded["Content-Disposition"].startswith("attachment; ")
    # HTML that calls itself a PNG is not an image: a download like any other file.
    faked = client.get(f"/o/{a.org.slug}/mail/attachments/{fake.pk}/?inline=1")
    assert faked["Content-Type"] == "application/octet-stream"
    assert faked["Content-Disposition"].startswith("attachment; ")


def test_a_non_ascii_file_name_is_offered_as_utf8_with_an_ascii_fallback(a):
    factories.AttachmentFactory(organisation=a.org, message=a.message, filename="Angebot für Ü.pdf")
    attachment = Attachment.objects.for_org(a.org).get(filename="Angebot für Ü.pdf")
    response = a.client().get(f"/o/{a.org.slug}/mail/attachments/{attachment.pk}/")
    assert response["Content-Disposition"] == (
        "attachment; filename=\"Angebot f_r _.pdf\"; filename*=UTF-8''Angebot%20f%C3%BCr%20%C3%9C.pdf"
    )


def test_another_organisations_attachment_is_not_found(a, b):
    client = a.client()
    assert client.get(f"/o/{a.org.slug}/mail/attachments/{b.attachment.pk}/").status_code == 404
    own = client.get(f"/o/{a.org.slug}/mail/attachments/{a.attachment.pk}/")
    assert own.status_code == 200 and own.content == bytes(a.attachment.content)


def test_file_names_from_the_sender_are_bare_names_without_tricks():
    assert safe_filename("..\\..\\windows\\system32\\evil.dll", "application/x-msdownload") == (
        "evil.dll"
    )
    assert safe_filename("/etc/passwd", "text/plain") == "passwd"
    assert safe_filename("invoice\u202efdp.exe", "application/pdf") == "invoicefdp.exe"
    assert safe_filename('a<b>:"c"|?.txt', "text/plain") == "a_b___c___.txt"
    assert safe_filename("..", "image/png") == "attachment.png"
    long = safe_filename("x" * 300 + ".docx", "application/octet-stream")
    assert len(long) == 200 and long.endswith(".docx")


def test_the_formatted_email_shows_inline_images_from_here_and_no_remote_ones(a):
    message = ingest(a, mail_with_attachments(sender=customer(a), to=a.sales.email))
    logo, pdf = attachments_of(message)
    page = page_of(a, message)
    assert "The signed quote is attached." in page, "the text is shown by default"
    assert "<summary>Show formatted</summary>" in page
    assert '<iframe sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"' in page
    assert "allow-scripts" not in page
    document = srcdoc_of(page)
    assert "<b>signed</b>" in document
    assert (
        f'<img src="/o/{a.org.slug}/mail/attachments/{logo.pk}/?inline=1" alt="Acme">' in document
    )
    assert "tracker.example" not in page, "the tracking pixel is gone, not just hidden"
    assert "1 image not shown: remote images are never loaded" in page
    assert "<script>" not in document and "display:none" not in document
    # Attachments are listed with name, size and a download link.
    assert (
        f'<a href="/o/{a.org.slug}/mail/attachments/{pdf.pk}/" download>Quote Q-1042 (signed).pdf</a>'
        in page
    )
    assert 'logo.png</a> <span class="muted">' in page


def test_html_stored_before_remote_images_were_dropped_is_cleaned_on_display(a):
    message = factories.MessageFactory(
        organisation=a.org, conversation=a.conversation, kind="email", direction="inbound",
        body_html=f'<p>Old mail</p><img src="{TRACKER}"><img src="cid:missing@x">',
    )  # fmt: skip
    page = page_of(a, message)
    assert "Old mail" in srcdoc_of(page) and "tracker.example" not in page
    assert "2 images not shown" in page


def test_the_conversation_page_lists_attachments_without_a_query_per_message(
    a, django_assert_max_num_queries
):
    for n in range(6):
        ingest(
            a,
            mail_with_attachments(
                sender=customer(a), to=a.sales.email, message_id=f"<att-{n}@alpha-customer.example>"
            ),
        )
    conversation = Message.objects.for_org(a.org).get(message_id="<att-0@alpha-customer.example>")
    client = a.client()
    url = f"/o/{a.org.slug}/conversations/{conversation.conversation_id}/"
    client.get(url)
    # 16, plus attachments, open follow-ups, the owner form and the nav count.
    with django_assert_max_num_queries(20 + CLIENT_QUERIES):
        page = client.get(url).content.decode()
    assert page.count("Quote Q-1042 (signed).pdf</a>") == 6


def test_attachments_come_in_through_a_real_imap_sync_once(dovecot, a):
    def mailbox_of(owner):
        username = dovecot.new_user()
        return Mailbox.all_orgs.create(
            organisation=a.org, owner=owner, email_address=f"{username}@imap.test",
            username=username, secret=encrypt_secret(PASSWORD), host=dovecot.host,
            port=dovecot.port, security="none",
        )  # fmt: skip

    mailbox = mailbox_of(a.sales)
    raw = mail_with_attachments(sender=customer(a), to=a.sales.email)
    dovecot.append(mailbox.username, "INBOX", raw)
    report = mailbox_sync(org=a.org, mailbox_id=mailbox.pk)
    assert report.created == 1
    message = Message.objects.for_org(a.org).get(message_id="<att-1@alpha-customer.example>")
    assert [(x.filename, x.size) for x in attachments_of(message)] == [
        ("logo.png", len(LOGO)), ("Quote Q-1042 (signed).pdf", len(PDF)),
    ]  # fmt: skip
    # The same mail in a colleague's mailbox (and our Sent folder) is still one set of files.
    colleague = mailbox_of(owner=a.admin)
    dovecot.append(colleague.username, "INBOX", raw)
    dovecot.append(mailbox.username, "Sent", raw)
    mailbox_sync(org=a.org, mailbox_id=colleague.pk)
    mailbox_sync(org=a.org, mailbox_id=mailbox.pk)
    assert Attachment.objects.for_org(a.org).filter(message=message).count() == 2
    download = a.client().get(f"/o/{a.org.slug}/mail/attachments/{attachments_of(message)[1].pk}/")
    assert download.content == PDF
