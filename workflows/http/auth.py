"""Who is calling: a bearer API token, or the web session of a signed-in user.

The session cookie is signed, but a signature cannot be taken back: the cookie names a web
session kept on the server, and is trusted only while that session is live."""

from __future__ import annotations

import hmac

from flask import Flask, current_app, g, request, session

from engine.identity.users import authenticate_token, principal_of_web_session

SESSION_KEY = "web_session"  # the cookie's web session id (engine.identity.web_sessions)


def register(app: Flask) -> None:
    @app.before_request
    def identify() -> None:
        g.principal = None
        services = current_app.extensions["casework"]
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
            g.principal = authenticate_token(services.ctx, token) if token else None
            return
        session_id = session.get(SESSION_KEY)
        if not session_id:
            return
        # A cookie rides along on cross-site requests: API writes with a session must carry
        # the session's CSRF token in a header (bearer tokens need none).
        if request.path.startswith("/api/") and request.method not in ("GET", "HEAD", "OPTIONS"):
            sent = request.headers.get("X-CSRF-Token")
            if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
                return
        g.principal = principal_of_web_session(services.ctx, session_id)
