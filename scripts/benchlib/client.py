"""A tiny HTTP client over http.client: one cookie jar per session, timings per request.

No redirects are followed unless asked (a 302 is a result of its own), and the body is read in
full so the time to the first byte and the total time are both known.
"""
from __future__ import annotations

import http.client
import re
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urljoin, urlsplit

SERVER_TIMING = re.compile(r"app;dur=([0-9.]+)")


@dataclass
class Result:
    status: int
    headers: dict
    body: bytes
    ttfb_ms: float
    total_ms: float
    #: time.perf_counter() when the request was sent
    started: float = 0.0

    @property
    def server_ms(self) -> float | None:
        match = SERVER_TIMING.search(self.headers.get("server-timing", ""))
        return float(match.group(1)) if match else None

    @property
    def queries(self) -> int | None:
        value = self.headers.get("x-ieum-queries")
        return int(value) if value and value.isdigit() else None

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Session:
    """Cookies of one signed-in browser; ``copy()`` gives a simulated user its own jar."""
    host: str
    port: int
    cookies: dict = field(default_factory=dict)
    timeout: float = 300.0

    def copy(self) -> "Session":
        return Session(self.host, self.port, dict(self.cookies), self.timeout)

    def _headers(self) -> dict:
        headers = {"Host": f"{self.host}:{self.port}", "Accept-Language": "ko", "User-Agent": "ieum-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def _keep_cookies(self, response: http.client.HTTPResponse) -> None:
        for raw in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                expired = morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"])
                if expired or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None) -> Result:
        headers = self._headers()
        if content_type:
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            ttfb = time.perf_counter()
            data = response.read()
            total = time.perf_counter()
            self._keep_cookies(response)
            headers_in = {k.lower(): v for k, v in response.getheaders()}
            return Result(response.status, headers_in, data, (ttfb - started) * 1000, (total - started) * 1000, started)
        finally:
            conn.close()

    def get(self, path: str) -> Result:
        return self.request("GET", path)

    def post(self, path: str, fields: dict | list, files: dict | None = None) -> Result:
        if files:
            body, ctype = multipart(fields, files)
        else:
            body, ctype = urlencode(fields, doseq=True).encode(), "application/x-www-form-urlencoded"
        return self.request("POST", path, body, ctype)

    def follow(self, result: Result, limit: int = 5) -> Result:
        """Follow redirects from ``result`` with GETs (sign-in only)."""
        while result.status in (301, 302, 303, 307, 308) and limit:
            target = urlsplit(urljoin("http://x/", result.location))
            result = self.get(target.path + (f"?{target.query}" if target.query else ""))
            limit -= 1
        return result


def multipart(fields: dict | list, files: dict) -> tuple[bytes, str]:
    """multipart/form-data: ``files`` maps a field name to (filename, bytes, content type)."""
    boundary = uuid.uuid4().hex
    parts = []
    items = fields.items() if isinstance(fields, dict) else fields
    for name, value in items:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data, ctype) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
