"""Showing an email as its sender formatted it, without letting it touch the page around it."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.urls import reverse

from conversations.models import Message
from mail.parsing import html_for_display
from organisations.models import Organisation

register = template.Library()

# The document inside the sandboxed iframe. Its own CSP is a last line behind the sanitiser:
# images only from us (the email's inline ones), no other loads, no forms. Links open in a
# new tab, outside the sandbox.
_HEAD = (
    '<!doctype html><html><head><meta charset="utf-8">'
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "img-src 'self'; style-src 'unsafe-inline'; form-action 'none'\">"
    '<base target="_blank"><style>'
    "body{margin:.6rem;font:15px/1.5 system-ui,sans-serif;color:#1d2330;overflow-wrap:anywhere}"
    "img{max-width:100%;height:auto}table{border-collapse:collapse;max-width:100%}"
    "blockquote{margin:0 0 0 .4rem;padding-left:.7rem;border-left:3px solid #e4e7ec;color:#667085}"
    "</style></head><body>"
)
_TAIL = "</body></html>"


@dataclass(frozen=True)
class EmailDisplay:
    document: str  # a whole HTML document for <iframe srcdoc>; escape it into the attribute
    hidden_images: int


@register.simple_tag
def email_display(message: Message, org: Organisation) -> EmailDisplay:
    """The message's sanitised HTML with its inline (cid:) images pointed at their attachments
    (from the prefetched `attachment_list`) and every remote image left out."""
    inline = {
        attachment.content_id: reverse("attachment_download", args=[org.slug, attachment.pk])
        + "?inline=1"
        for attachment in getattr(message, "attachment_list", [])
        if attachment.content_id and attachment.can_show_inline
    }
    shown = html_for_display(message.body_html, inline)
    return EmailDisplay(document=_HEAD + shown.html + _TAIL, hidden_images=shown.hidden_images)
