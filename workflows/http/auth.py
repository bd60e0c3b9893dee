"""Who is calling: a bearer API token, or the web session of a signed-in user."""

from __future__ import annotations

import hmac

from flask import Flask, current_app, g, request, session

from engine.identity import authenticate_token, load_principal


def register(app: Flask) -> None:
    @app.before_request
    def identify() -> None:
        g.principal = None
        services = current_app.extensions["casework"]
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
            g.principal = authenticate_token(services.engine, token) if token else None
            return
        user_id = session.get("user_id")
        if not user_id:
            return
        # A cookie rides along on cross-site requests: API writes with a session must carry
        # the session's CSRF token in a header (bearer tokens need none).
        if request.path.startswith("/api/") and request.method not in ("GET", "HEAD", "OPTIONS"):
            sent = request.headers.get("X-CSRF-Token")
            if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
                return
        g.principal = load_principal(services.engine, user_id)
