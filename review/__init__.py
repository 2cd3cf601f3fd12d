"""The review screens: payment teams work rejections, denials, pends and payments.

FastAPI with server-rendered Jinja2 templates and a vendored htmx (`static/`), no
build step. Served by ``claims review``. Every page needs a signed-in session
(`review.auth`); what a person may see and do follows their role (`review.roles`);
every view of PHI and every action is written to the audit log.

    app.py        the application: middleware, error pages, routers
    web.py        request edges: the session, roles, CSRF, templates, the audit helper
    auth.py       users, argon2 hashes, sign-in, server-side sessions, audit rows
    queries.py    files, work queues, search: filtered, sorted, paginated in SQL
    claim_page.py one claim: header, lines, decision in words, trace, history
    pages.py / work.py / payments.py / admin.py   the routes
"""
