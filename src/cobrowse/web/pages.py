"""HTML of the console pages (agent and admin). Every value put into them is escaped here."""

from __future__ import annotations

import html

_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/static/console.css">
</head>
"""


def sign_in_page(console: str, action: str, error: str | None = None) -> str:
    """The sign-in form of ``console`` ("Agent console"), posting to ``action``."""
    problem = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return (
        _HEAD.format(title=f"Sign in · cobrowse {html.escape(console.lower())}")
        + f"""<body class="sign-in">
<main>
<h1>cobrowse</h1>
<p>{html.escape(console)}</p>
<form method="post" action="{html.escape(action)}">
{problem}
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
"""
    )


def _topbar(console: str, username: str, sign_out: str) -> str:
    return f"""<header class="topbar">
<strong class="brand">cobrowse</strong>
<span>{html.escape(console)}</span>
<span class="who">Signed in as <strong>{html.escape(username)}</strong></span>
<form method="post" action="{html.escape(sign_out)}"><button type="submit">Sign out</button></form>
</header>
"""


def console_page(username: str) -> str:
    return (
        _HEAD.format(title="cobrowse agent console")
        + '<body class="console">\n'
        + _topbar("Agent console", username, "/agent/sign-out")
        + """<main>
<section class="controls">
<form id="join-form" class="join" autocomplete="off">
<label for="session-id">Session ID</label>
<input id="session-id" name="session-id" inputmode="numeric" maxlength="16"
 placeholder="123 456 789" required>
<button type="submit">Join</button>
</form>
<div id="session-bar" class="session-bar" hidden>
<span>Co-browse session <strong id="session-label"></strong></span>
<span id="session-mode" class="badge"></span>
<button type="button" id="request-write">Request write mode</button>
<button type="button" id="pointer-mode" hidden>Return to pointer mode</button>
<button type="button" id="exit-session" class="danger">Exit session</button>
</div>
</section>
<form id="nav-bar" class="nav-bar" hidden autocomplete="off">
<button type="button" id="nav-back" aria-label="Back">← Back</button>
<button type="button" id="nav-forward" aria-label="Forward">Forward →</button>
<button type="button" id="nav-reload">Reload</button>
<label for="address">Address</label>
<input id="address" name="address" type="url" spellcheck="false">
<button type="submit">Go</button>
</form>
<p id="status" class="status" role="status" aria-live="polite">Connecting…</p>
<div id="view" class="view" aria-label="Live view of the customer's page">
<div id="stage" class="stage"></div>
</div>
</main>
<script src="/static/dist/agent.js" defer></script>
</body>
</html>
"""
    )

