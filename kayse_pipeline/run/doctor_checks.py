"""Doctor's verdicts on what a server answered: is it Kayse, is the key good, the rate limit.

Pure functions of recorded answers; no request is sent here. Everything a server says is
untrusted: it reaches these functions already made safe and bounded (``safe_line``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from kayse_pipeline.advice import CREATE_KEY, NO_KEY
from kayse_pipeline.api.pacing import RESET_EPOCH_FROM, header_number
from kayse_pipeline.safe_text import safe_line

Verdict = Literal["ok", "warning", "failed"]
VERDICTS: tuple[Verdict, ...] = ("ok", "warning", "failed")

SHOWN_TEXT = 160  # characters of any server text that a report shows
SHOWN_ITEMS = 12  # items of any list that a report shows
RESET_HORIZON = 2 * 86_400  # a window longer than two days is not believable
SKEW_TOLERANCE = 60.0  # seconds between this machine's clock and the server's worth a word
PERMISSION_HINTS = ("permission", "scope")


def listed(items: Iterable[str], limit: int = SHOWN_ITEMS) -> str:
    """``a, b, c`` with at most ``limit`` items, then how many more."""
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


@dataclass(frozen=True)
class Check:
    """One check: its verdict, what it saw and what to do."""

    name: str
    title: str
    verdict: Verdict
    saw: tuple[str, ...] = ()
    todo: tuple[str, ...] = ()


@dataclass
class Finding:
    """A check being put together: the worst verdict of its findings wins."""

    name: str
    title: str
    verdict: Verdict = "ok"
    saw: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)

    def note(self, verdict: Verdict, saw: str, todo: str | None = None) -> None:
        if VERDICTS.index(verdict) > VERDICTS.index(self.verdict):
            self.verdict = verdict
        self.saw.append(saw)
        if todo and todo not in self.todo:
            self.todo.append(todo)

    def done(self) -> Check:
        return Check(self.name, self.title, self.verdict, tuple(self.saw), tuple(self.todo))


@dataclass(frozen=True)
class Answer:
    """One request doctor sent and what came back, cleaned; ``failure`` when nothing did."""

    method: str
    path: str  # as sent, with the ID filled in; never a query string
    status: int | None = None
    content_type: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names, cleaned
    body: Any = None  # the decoded JSON, or None
    is_json: bool = False
    failure: str = ""

    @property
    def call(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def kayse_error(self) -> bool:
        """An error answer with Kayse's documented body: JSON ``{error, message}``."""
        body = self.body
        return (
            isinstance(body, dict)
            and isinstance(body.get("error"), str)
            and isinstance(body.get("message"), str)
        )

    @property
    def success(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def described(self) -> str:
        if self.status is None:
            return f"{self.call}: {self.failure}"
        kind = self.content_type or "no content type"
        message = ""
        if self.kayse_error:
            error, text = self.body["error"], self.body["message"]
            message = f": {safe_line(error, 40)}: {safe_line(text, SHOWN_TEXT)}"
        return f"{self.call} answered HTTP {self.status} ({kind}){message}"


def _v1_hint(base_url: str) -> str:
    hint = "is --api-url (or KAYSE_API_URL) the Kayse Public API"
    if not base_url.rstrip("/").endswith("/v1"):
        return f"{hint}? It should end in /v1 (https://public-api.kayse.ai/v1)"
    return f"{hint}, https://public-api.kayse.ai/v1?"


def url_check(base_url: str, answers: Sequence[Answer]) -> Check:
    """Whether the URL answers like Kayse: JSON, errors as ``{error, message}``."""
    found = Finding("url", "the URL answers like Kayse")
    if not answers:
        found.note("warning", "nothing was sent")
        return found.done()
    for answer in answers:
        if answer.status is None:
            found.note("failed", answer.described(), _v1_hint(base_url) + " Is the network up?")
        elif 300 <= answer.status < 400:
            where = answer.headers.get("location", "somewhere else")
            found.note(
                "failed",
                f"{answer.call} answered HTTP {answer.status}, a redirect to {where}",
                "use the URL it points to: kayse-pipeline never follows a redirect with the key",
            )
        elif answer.body is not None and not answer.is_json:
            found.note(
                "failed",
                f"{answer.call} answered HTTP {answer.status} with "
                f"{answer.content_type or 'no content type'}, not Kayse's JSON",
                _v1_hint(base_url),
            )
        elif answer.status >= 400 and not answer.kayse_error:
            found.note(
                "failed",
                f"{answer.call} answered HTTP {answer.status} in JSON, but not with Kayse's "
                "error body {error, message}",
                _v1_hint(base_url),
            )
        elif answer.status >= 400:
            found.note("ok", f"{answer.described()}: Kayse's error body {{error, message}}")
        elif answer.path == "/case_lists" and not _is_page(answer.body):
            found.note(
                "warning",
                f"{answer.call} answered HTTP {answer.status} in JSON, but not as the documented "
                "page {data, page, total}",
                "lists cannot be found by name as refresh and import do; ask Kayse",
            )
        else:
            found.note("ok", f"{answer.call} answered HTTP {answer.status} in JSON")
    if found.verdict == "ok" and not any(a.kayse_error for a in answers):
        found.saw.append("no error answer was seen, so its shape was not checked")
    return found.done()


def _is_page(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("data"), list) and "total" in body


def key_check(answers: Sequence[Answer], *, key_given: bool, sandbox: bool) -> Check:
    """Whether the key is accepted: 401 (refused) and 403 (not allowed) told apart."""
    found = Finding("key", "the API key is accepted")
    if sandbox:
        found.note("ok", "the built-in sandbox needs no key")
        return found.done()
    if not key_given:
        found.note(
            "failed",
            NO_KEY,
            CREATE_KEY,
        )
    for answer in answers:
        if answer.status == 401:
            found.note(
                "failed",
                f"{answer.described()}: the key is missing, wrong or disabled",
                "copy the key again from Company Settings > API Keys into KAYSE_API_KEY; "
                "check that it is enabled"
                if key_given
                else None,
            )
        elif answer.status == 403:
            found.note(
                "failed",
                f"{answer.described()}: the key is known but may not do this "
                "(403 is not in Kayse's documented errors; keys carry Read, Write, Delete, Admin)",
                "give the key Read and Write (and Delete for destroy) in Company Settings > "
                "API Keys, or use a key that has them",
            )
    accepted = [a for a in answers if a.success and a.is_json]  # a web page proves nothing
    if accepted and found.verdict == "ok" and key_given:
        found.note("ok", f"accepted for {listed(sorted({a.call for a in accepted}))}")
    if not accepted and found.verdict == "ok":
        found.note("warning", "no answer said whether the key is accepted")
    shown = _permissions(answers)
    if shown:
        found.saw.append(f"the answers show the key's permissions: {shown}")
    elif accepted:
        found.saw.append(
            "no answer shows the key's permissions: doctor sends only reads, so whether the "
            "key may write is only known at the first apply"
        )
        found.todo.append(
            "check in Company Settings > API Keys that the key has Write (apply) and Delete "
            "(destroy)"
        )
    return found.done()


def _permissions(answers: Sequence[Answer]) -> str:
    """What any answer says of the key's permissions: a header or a top-level field."""
    seen: list[str] = []
    for answer in answers:
        for name, value in answer.headers.items():
            if any(hint in name for hint in PERMISSION_HINTS):
                seen.append(f"{name}: {value}")
        if isinstance(answer.body, dict):
            for key in ("permissions", "scopes"):
                if key in answer.body:
                    seen.append(f"{key}: {safe_line(answer.body[key], SHOWN_TEXT)}")
    return listed(dict.fromkeys(seen))


@dataclass(frozen=True)
class RateView:
    """What the rate-limit headers of the last answer that had them say."""

    limit: int | None
    remaining: int | None
    reset: float | None
    form: Literal["epoch", "seconds", "unclear", "absent"]
    seconds_left: float | None  # until the window ends, by the server's clock


def server_time(answer: Answer, local_now: float) -> tuple[float, bool]:
    """The server's clock from the answer's Date header, else this machine's; True if Date."""
    date = answer.headers.get("date")
    if date:
        try:
            return parsedate_to_datetime(date).timestamp(), True
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return local_now, False


def rate_view(answer: Answer, now: float) -> RateView:
    """Read one answer's rate-limit headers; ``now`` is the server's time."""
    # Read as the pacer reads them, so that doctor says what apply will make of them.
    limit = header_number(answer.headers.get("x-ratelimit-limit"))
    remaining = header_number(answer.headers.get("x-ratelimit-remaining"))
    reset = header_number(answer.headers.get("x-ratelimit-reset"))
    if reset is None:
        form: Literal["epoch", "seconds", "unclear", "absent"] = (
            "absent" if "x-ratelimit-reset" not in answer.headers else "unclear"
        )
        left = None
    elif reset >= RESET_EPOCH_FROM and -SKEW_TOLERANCE <= reset - now <= RESET_HORIZON:
        form, left = "epoch", max(0.0, reset - now)
    elif reset < RESET_EPOCH_FROM and reset <= RESET_HORIZON:
        form, left = "seconds", reset
    else:
        form, left = "unclear", None
    return RateView(_whole(limit), _whole(remaining), reset, form, left)


def _whole(value: float | None) -> int | None:
    return int(value) if value is not None and value < 2**53 else None


def rate_check(answers: Sequence[Answer], local_now: float) -> Check:
    """Whether the rate-limit headers are there, their limit, and what form the reset has."""
    found = Finding("rate-limit", "the rate-limit headers")
    heard = [a for a in answers if a.status is not None]
    with_headers = [a for a in heard if "x-ratelimit-remaining" in a.headers]
    if not heard:
        found.note("warning", "no answer to read them from")
        return found.done()
    if not with_headers:
        found.note(
            "warning",
            "no answer carries X-RateLimit-Limit / -Remaining / -Reset",
            "apply cannot see the budget, and learns of the limit only from 429 answers "
            "(waited out by Retry-After); keep --batch-size high and runs small",
        )
        return found.done()
    last = with_headers[-1]
    now, from_date = server_time(last, local_now)
    view = rate_view(last, now)
    found.note(
        "ok",
        f"X-RateLimit-Limit {_shown(last, 'x-ratelimit-limit')}, "
        f"-Remaining {_shown(last, 'x-ratelimit-remaining')}, "
        f"-Reset {_shown(last, 'x-ratelimit-reset')}"
        + (f", Date {last.headers['date']}" if from_date else " (no Date header)"),
    )
    if view.limit is None:
        found.note("warning", "X-RateLimit-Limit is missing or not a number")
    elif view.limit != 500:
        found.note(
            "warning",
            f"the limit is {view.limit}, not the documented 500 per hour",
            "plan's time estimates assume 500 per hour; pacing follows the headers anyway",
        )
    clock = "the answer's Date" if from_date else "this machine's clock (no Date header)"
    if view.form == "epoch":
        assert view.seconds_left is not None
        found.note(
            "ok",
            f"X-RateLimit-Reset is an epoch time: the window ends in {view.seconds_left:.0f} s "
            f"by {clock}",
        )
    elif view.form == "seconds":
        found.note(
            "ok",
            f"X-RateLimit-Reset is seconds remaining ({view.reset:.0f} s), not an epoch time "
            f"as the docs' example shows (compared with {clock}); the pacer reads both forms",
        )
    else:
        found.note(
            "warning",
            f"X-RateLimit-Reset is neither an epoch time near {clock} nor a number of seconds "
            "within two days",
            "report the header's value to Kayse support; pacing falls back to Retry-After",
        )
    if view.seconds_left is not None and view.limit is not None and view.seconds_left <= 60:
        found.saw.append(
            "the window ends within a minute: this may be a per-minute tier (help centre: "
            "100 or 500 per minute) rather than 500 per hour"
        )
    if from_date:
        skew = local_now - now
        if abs(skew) > SKEW_TOLERANCE:
            found.note(
                "warning",
                f"this machine's clock is {abs(skew):.0f} s "
                f"{'ahead of' if skew > 0 else 'behind'} the server's",
                "set the clock right (NTP): waits for an epoch reset are timed by this machine",
            )
    return found.done()


def _shown(answer: Answer, name: str) -> str:
    return answer.headers.get(name, "(absent)")


def budget_check(
    answers: Sequence[Answer], local_now: float, needed: int | None, plan_note: str | None
) -> Check:
    """The budget left against what the manifest's plan needs."""
    found = Finding("budget", "the rate budget against the plan")
    with_headers = [a for a in answers if "x-ratelimit-remaining" in a.headers]
    view = None
    if with_headers:
        now, _ = server_time(with_headers[-1], local_now)
        view = rate_view(with_headers[-1], now)
    if view is None or view.remaining is None:
        found.note("warning", "the budget left is not known (no X-RateLimit-Remaining)")
    else:
        left = f"{view.remaining} of {view.limit if view.limit is not None else '?'} requests"
        ends = f"; the window ends in {view.seconds_left:.0f} s" if view.seconds_left else ""
        found.note("ok", f"{left} left after doctor's own reads{ends}")
        if view.remaining == 0:
            found.note(
                "warning", "the budget is spent", "wait for the window to end before applying"
            )
    if plan_note is not None:
        found.note("warning", plan_note)
    elif needed is not None:
        found.saw.append(f"the manifest's plan needs {needed} request(s)")
        if view is not None and view.remaining is not None and needed > view.remaining:
            found.note(
                "warning",
                f"the plan needs more than the {view.remaining} left",
                "apply waits for the window to end (up to --max-wait, default 3600 s) and "
                "goes on; or apply now with --target for part of it",
            )
    return found.done()
