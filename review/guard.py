"""What the review application refuses before any page sees a request.

A NUL character is never part of a claim number, a name, a code, an amount or a note,
and PostgreSQL refuses it in text (SQLite would store it): a path, query or form that
holds one, raw or as ``%00``, is a 400 here, on either store, never a server error
further in. A request body is read whole only up to `MAX_BODY` (the forms are a few
hundred bytes); a larger one is a 413. A client that hangs up while its body is read
is `ClientGone`, not a fault.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import HTMLResponse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 1 << 20
"""The largest request body read (a form); the largest form here is a few KB."""
_NUL = (b"\x00", b"%00")


class ClientGone(Exception):
    """The client hung up before its request body was read whole: there is no one to
    answer, and nothing went wrong here (`review.app` answers it without a fault)."""


class RefuseNul:
    """ASGI middleware: the 400 and 413 above, else the request as it came."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        if "\x00" in scope.get("path", "") or any(nul in head for nul in _NUL):
            await _refuse(scope, receive, send, 400)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":  # returning without a response
                raise ClientGone()  # was a "No response returned" fault, logged as ours
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY:
                await _refuse(scope, receive, send, 413)
                return
        if any(nul in body for nul in _NUL):
            await _refuse(scope, receive, send, 400)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int) -> None:
    text = ("A field holds a NUL character, which no value here may hold."
            if status == 400 else "The request is larger than any form here.")
    page = HTMLResponse(f"<!doctype html><title>Cannot do that</title><p>{text}</p>",
                        status_code=status)
    await page(scope, receive, send)
