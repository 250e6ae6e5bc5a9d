"""What the client is told before it sends anything: the URL, the key, the retry bounds."""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from urllib.parse import urlsplit

from kayse_pipeline.errors import ConfigError

DEFAULT_API_URL = "https://public-api.kayse.ai/v1"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in attempts and in total time."""

    attempts: int = 5
    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    max_elapsed_seconds: float = 180.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2**attempt))


def check_api_url(url: str) -> str:
    """Refuse URLs that are not http(s), and plain http to anything but this machine."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--api-url must be an http(s) URL, got {url!r}")
    if parts.username or parts.password:
        # Not echoed: the URL would be printed and saved in the state, and it holds a secret.
        raise ConfigError(
            "--api-url must not hold a user name or password; the key goes in KAYSE_API_KEY"
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"refusing to send the API key over plain http to {parts.hostname}; use https"
        )
    return url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_api_key(key: str) -> str:
    """The key as sent: surrounding whitespace dropped; anything a header cannot carry refused.

    httpx and h11 quote an illegal header value in their exceptions, so a bad key must
    never reach them.
    """
    key = key.strip()
    if not key or any(not 0x21 <= ord(char) <= 0x7E for char in key):
        raise ConfigError(
            "KAYSE_API_KEY holds characters that an HTTP header cannot carry (spaces, line "
            "breaks or non-ASCII letters); copy the key from Kayse again"
        )
    return key
