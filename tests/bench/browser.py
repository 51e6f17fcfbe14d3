"""A person's browser for the benchmarks, over ``http.client``: one keep-alive connection,
cookies, CSRF tokens from the page, urlencoded and multipart forms. Loopback only."""

from __future__ import annotations

import http.client
import re
import uuid
from urllib.parse import urlencode, urlsplit

from django.urls import reverse

REQUEST_TIMEOUT = 60  # seconds per HTTP request


class HttpError(AssertionError):
    pass


class Browser:
    """One person's session over ``http.client``: cookies kept, redirects not followed."""

    CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        assert parts.hostname == "127.0.0.1", "the benchmark talks to loopback only"
        self.host, self.port, self.origin = parts.hostname, parts.port, base_url
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, *, body: bytes | None = None, content_type: str | None = None,
                headers: dict[str, str] | None = None):
        extra, headers = headers or {}, {"Accept-Language": "sv", "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            headers["Origin"] = self.origin  # as a browser sends it; Django checks it against the host
            headers["Content-Type"] = content_type or "application/x-www-form-urlencoded"
        headers.update(extra)
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
        except BaseException:
            self.close()
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            pair, _, attributes = header.partition(";")
            name, _, value = pair.strip().partition("=")
            if "max-age=0" in attributes.lower().replace(" ", "") or value in ("", '""'):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, response.getheader("Location", ""), content.decode("utf-8", "replace")

    def get(self, path: str, *, expect: int = 200) -> str:
        status, _location, text = self.request("GET", path)
        if status != expect:
            raise HttpError(f"GET {path}: {status}, expected {expect}: {excerpt(text)}")
        return text

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, str, str]:
        return self.request("POST", path, body=urlencode(fields).encode())

    def post_multipart(self, path: str, fields: dict[str, str], files: dict[str, tuple[str, str, bytes]]):
        boundary = f"----deadline{uuid.uuid4().hex}"
        parts = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        for name, (filename, content_type, data) in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n".encode()
                + data
                + b"\r\n"
            )
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request("POST", path, body=b"".join(parts), content_type=f"multipart/form-data; boundary={boundary}")

    def csrf_token(self, html: str) -> str:
        match = self.CSRF.search(html)
        if not match:
            raise HttpError(f"no CSRF token on the page: {excerpt(html)}")
        return match.group(1)

    def log_in(self, username: str, password: str) -> None:
        login = reverse("login")
        token = self.csrf_token(self.get(login))
        status, location, text = self.post_form(
            login, {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": ""}
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise HttpError(f"login of {username} failed: {status} {location} {excerpt(text)}")


def excerpt(html: str, limit: int = 400) -> str:
    """The page's error messages if any, else its start, for failure reports."""
    found = re.findall(r'class="[^"]*(?:error|message|notice)[^"]*"[^>]*>(.*?)</', html, flags=re.S)
    text = " | ".join(re.sub(r"\s+", " ", f).strip() for f in found if f.strip()) or re.sub(r"\s+", " ", html)
    return text[:limit]
