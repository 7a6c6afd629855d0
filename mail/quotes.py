"""Split an email body into the new text, the quoted history and the signature.

So a thread reads as a conversation rather than a pile of quotes. Line-based: each line is
text, empty, quoted (">"), a quote header ("On ... wrote:", "-----Original Message-----", an
Outlook "From:/Sent:" block) or a signature start. Top-posted replies keep what comes before
the first quote; bottom-posted ones keep what comes after the quoted block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "On <date>, <person> wrote:" in the languages our fixtures and customers use; may wrap.
_VERBS = (
    r"(wrote|writes|schrieb|a [ée]crit|escribi[óo]|ha scritto|schreef|geschreven|escreveu|skrev"
    r"|pisze|napisa[łl]|написал|написала|написав|napsal|kirjoitti|yazdı)"
)
_WROTE = re.compile(
    r"^\s*>?\s*-*\s*("
    r"(on|am|le|el|il|op|em|den|w dniu)\b.{0,300}\b" + _VERBS + r"\b.{0,200}:"
    r"|on\b.{0,300}\bwrote\s*-+"
    r"|"
    r"on\b.{0,300}\b(wrote|writes)"
    r"|am\b.{0,300}\bschrieb"
    r"|le\b.{0,300}\ba [ée]crit"
    r"|el\b.{0,300}\bescribi[óo]"
    r"|il\b.{0,300}\bha scritto"
    r"|op\b.{0,300}\b(schreef|het volgende geschreven)"
    r"|em\b.{0,300}\bescreveu"
    r"|den\b.{0,300}\bskrev"
    r"|w dniu\b.{0,300}\bpisze"
    r"|.{0,300}\b(wrote|schrieb|a [ée]crit|escribi[óo]|ha scritto|schreef|geschreven|escreveu"
    r"|skrev|pisze|napisa[łl]\(a\)|napisał|написал|написала|написав|napsal|kirjoitti|yazdı)\s*:"
    r"|.{0,200}(写道|のメッセージ)"
    r")\s*:?\s*$",
    re.IGNORECASE,
)
# Every way _WROTE can match contains one of these, case-folded (no spaces in them, so a header
# wrapped over two lines still shows one): text without any, most of it, skips that costly
# pattern, and so does every line without one.
_WROTE_HINTS = ("wrote", "writes", "schrieb", "écrit", "ecrit", "escribi", "scritto",
                "schreef", "geschreven", "escreveu", "skrev", "pisze", "napisa", "написа",
                "napsal", "kirjoitti", "yazd", "写道", "のメッセージ")  # fmt: skip
_WROTE_START = re.compile(r"^\s*(on|am|le|el|op|il|em|den|w dniu)\b", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^\s*(-{2,}\s*(original message|urspr[üu]ngliche nachricht|message d'origine|"
    r"mensaje original|messaggio originale|oorspronkelijk bericht|forwarded message)\s*-{2,}"
    r"|_{20,}|-{20,}|begin forwarded message:?)\s*$",
    re.IGNORECASE,
)
_HEADER = re.compile(r"^\s*\*?(from|von|de|da|van|od|från|fra|от)\s*:\*?\s+\S", re.IGNORECASE)
_HEADER_FOLLOW = re.compile(
    r"^\s*\*?(sent|date|datum|envoy[ée]|enviado|inviato|verzonden|gesendet|to|an|à|para|a|aan|"
    r"subject|betreff|objet|asunto|oggetto|onderwerp|cc|skickat|till|ämne|sendt|til|emne|"
    r"wysłane|temat|do|отправлено|тема|кому|от)\s*:\*?", re.IGNORECASE
)  # fmt: skip
_HEADER_LIKE = re.compile(r"^\s*\*?[\w][\w -]{0,24}\*?\s*:\s*\S")
_SIGNATURE = re.compile(
    r"^\s*(--\s*$|__\s*$|sent (from|via|with) |get outlook for|envoy[ée] (de|depuis) mon|"
    r"von meinem .*gesendet|enviado (desde|do) (mi|meu)|inviato da|verzonden (met|vanaf)|"
    r"skickat från|sendt fra|wys[łl]ane z)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SplitBody:
    new_text: str
    quoted_text: str
    signature: str


def _may_say_wrote(text: str) -> bool:
    folded = text.casefold()
    return any(hint in folded for hint in _WROTE_HINTS)


def _kinds(lines: list[str], may_say_wrote: bool) -> list[str]:
    def _wrote(line: str) -> bool:
        return may_say_wrote and _may_say_wrote(line) and _WROTE.match(line) is not None

    kinds: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if not stripped:
            kinds.append("e")
        elif stripped.startswith(">") and not _wrote(stripped.lstrip("> ")):
            kinds.append("q")
        elif (
            _SEPARATOR.match(line)
            or _wrote(line)
            or _HEADER.match(line)
            and any(_HEADER_FOLLOW.match(following) for following in lines[index + 1 : index + 4])
        ):
            kinds.append("d")
        elif may_say_wrote and (wrapped := _wrote_wraps(lines, index)):
            kinds.extend("d" * (wrapped + 1))
            index += wrapped + 1
            continue
        elif kinds and kinds[-1] == "d" and _HEADER_LIKE.match(line):
            # The From:/Date:/Subject: block under a "Forwarded message" or Outlook header.
            kinds.append("d")
        elif kinds and kinds[-1] == "d" and index > 0 and _HEADER_LIKE.match(lines[index - 1]):
            kinds.append("d")  # a header value that wrapped onto the next line
        else:
            kinds.append("t")
        index += 1
    return kinds


def _wrote_wraps(lines: list[str], index: int) -> int:
    """How many more lines an "On ... wrote:" header wrapped over (0 if it is not one)."""
    if not _WROTE_START.match(lines[index]):
        return 0
    joined = lines[index]
    for extra, following in enumerate(lines[index + 1 : index + 3], start=1):
        joined += " " + following.strip()
        if _may_say_wrote(joined) and _WROTE.match(joined):
            return extra
    return 0


def split_reply(text: str) -> SplitBody:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    kinds = _kinds(lines, _may_say_wrote(text))
    first_quote = next((i for i, k in enumerate(kinds) if k in "dq"), None)
    if first_quote is None:
        new_lines, quoted_lines = lines, []
    elif any(k == "t" for k in kinds[:first_quote]):
        # Top-posted (or inline, which reads best from its first answer): new text comes first.
        new_lines, quoted_lines = lines[:first_quote], lines[first_quote:]
    else:
        # Bottom-posted: the quoted block first, the answer after it.
        end = first_quote
        while end < len(lines) and kinds[end] in "dqe":
            end += 1
        new_lines, quoted_lines = lines[end:], lines[:end]
        if not any(k == "t" for k in kinds[end:]):
            # Nothing but a quote: that is what the person sent.
            new_lines, quoted_lines = lines, []
    new_lines, signature_lines = _split_signature(new_lines)
    return SplitBody(
        new_text="\n".join(new_lines).strip("\n").rstrip(),
        quoted_text="\n".join(quoted_lines).strip("\n").rstrip(),
        signature="\n".join(signature_lines).strip("\n").rstrip(),
    )


def _split_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    for index, line in enumerate(lines):
        if index > 0 and _SIGNATURE.match(line):
            return lines[:index], lines[index:]
    return lines, []
