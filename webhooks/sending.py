"""One HTTP POST of a delivery: to the address we checked, short timeouts, no redirects."""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass

from webhooks.addresses import Target

CONNECT_TIMEOUT = 5.0
# Each read from the socket; receivers should answer at once and do their work afterwards.
READ_TIMEOUT = 10.0
USER_AGENT = "Threadline-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status_code: int | None
    error: str


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked IP while the Host header keeps the URL's host name."""

    def __init__(self, target: Target) -> None:
        super().__init__(target.host, target.port, timeout=READ_TIMEOUT)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), CONNECT_TIMEOUT)
        self.sock.settimeout(READ_TIMEOUT)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: the certificate is checked against the host name, not the IP."""

    def __init__(self, target: Target) -> None:
        super().__init__(
            target.host, target.port, timeout=READ_TIMEOUT, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), CONNECT_TIMEOUT)
        raw.settimeout(READ_TIMEOUT)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def post(target: Target, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST once. 2xx is delivered; anything else (3xx included: redirects are not followed,
    they could lead anywhere) is a failure whose reason is kept for the delivery log."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target)
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **headers,
            },
        )
        response = connection.getresponse()
        snippet = response.read(300).decode("utf-8", "replace").strip()
    except TimeoutError:
        return Outcome(False, None, "timed out waiting for the receiver")
    except ssl.SSLError as error:
        return Outcome(False, None, f"TLS failed: {error.reason or error}")
    except ConnectionRefusedError:
        return Outcome(False, None, f"connection refused by {target.host}:{target.port}")
    except (OSError, http.client.HTTPException) as error:
        return Outcome(False, None, f"{type(error).__name__}: {error}")
    finally:
        connection.close()
    status = response.status
    if 200 <= status < 300:
        return Outcome(True, status, "")
    if 300 <= status < 400:
        location = response.getheader("Location", "")
        return Outcome(False, status, f"HTTP {status}: redirects are not followed ({location})")
    reason = f"HTTP {status} {response.reason}".strip()
    return Outcome(False, status, f"{reason}: {snippet}" if snippet else reason)
