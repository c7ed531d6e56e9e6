"""HTML of the console pages (agent and admin). Every value put into them is escaped here."""

from __future__ import annotations

import html
from collections.abc import Sequence

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
        + """<div class="desk">
<main>
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
<section id="calls" class="calls" aria-labelledby="calls-heading">
<h2 id="calls-heading">Your calls</h2>
<form id="call-form" class="call-form" autocomplete="off">
<label for="call-reference">Caller reference</label>
<input id="call-reference" name="call-reference" maxlength="200" placeholder="optional">
<button type="submit">Incoming call</button>
</form>
<ul id="call-list" class="call-list" aria-label="Open calls"></ul>
<p id="calls-empty" class="empty">No open call. A session the customer reads out to you
 on the phone is bound to your open call: register the call first.</p>
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
<section id="chats" class="chats" aria-label="Chats">
<h2>Chats</h2>
<h3 id="chat-queue-heading">Waiting</h3>
<ul id="chat-queue" class="chat-queue" aria-labelledby="chat-queue-heading"></ul>
<p id="chat-queue-empty" class="empty">No chats waiting.</p>
<div id="my-chats" class="my-chats"></div>
</section>
</div>
<script src="/static/dist/agent.js" defer></script>
</body>
</html>
"""
    )


def admin_console_page(username: str, end_reasons: Sequence[str], admin_ended_text: str) -> str:
    """The admin console: live sessions and the history, filled in by admin.js."""
    reasons = "\n".join(
        f'<option value="{html.escape(reason)}">{html.escape(reason)}</option>'
        for reason in end_reasons
    )
    return (
        _HEAD.format(title="cobrowse admin console")
        + '<body class="admin">\n'
        + _topbar("Admin console", username, "/admin/sign-out")
        + f"""<main>
<p id="status" class="status" role="status" aria-live="polite">Connecting…</p>
<section aria-labelledby="live-heading">
<h2 id="live-heading">Live sessions <span id="live-count" class="badge">…</span></h2>
<table id="live-table" class="sessions" aria-labelledby="live-heading">
<thead><tr>
<th scope="col">Session ID</th><th scope="col">State</th><th scope="col">Mode</th>
<th scope="col">Agent</th><th scope="col">Site</th><th scope="col">Started</th>
<th scope="col">Duration</th><th scope="col">Action</th>
</tr></thead>
<tbody id="live-rows"></tbody>
</table>
<p id="live-empty" class="empty" hidden>No live sessions.</p>
</section>
<section aria-labelledby="history-heading">
<h2 id="history-heading">History</h2>
<form id="history-form" class="filters" autocomplete="off">
<label>From <input type="datetime-local" name="since" step="1"></label>
<label>To <input type="datetime-local" name="until" step="1"></label>
<label>Agent <input name="agent" maxlength="64"></label>
<label>Site <input name="site" maxlength="64"></label>
<label>End reason <select name="end_reason">
<option value="">Any</option>
{reasons}
</select></label>
<button type="submit">Search</button>
</form>
<p id="history-status" class="status" aria-live="polite"></p>
<table id="history-table" class="sessions" aria-labelledby="history-heading">
<thead><tr>
<th scope="col">Session ID</th><th scope="col">Site</th><th scope="col">Agent</th>
<th scope="col">Started</th><th scope="col">Joined</th><th scope="col">Ended</th>
<th scope="col">Duration</th><th scope="col">End reason</th>
<th scope="col" class="number">Write mode requested</th>
<th scope="col" class="number">Write mode declined</th>
<th scope="col" class="number">Mode changes</th>
</tr></thead>
<tbody id="history-rows"></tbody>
</table>
</section>
</main>
<dialog id="confirm-end" aria-labelledby="confirm-title">
<h2 id="confirm-title">End co-browse session <span id="confirm-id"></span>?</h2>
<p>The customer and the agent are told at once: “{html.escape(admin_ended_text)}”</p>
<div class="dialog-buttons">
<button type="button" id="confirm-cancel" class="secondary">Cancel</button>
<button type="button" id="confirm-yes" class="danger">End session</button>
</div>
</dialog>
<script src="/static/dist/admin.js" defer></script>
</body>
</html>
"""
    )


def admin_refused_page(username: str, role: str) -> str:
    """Shown to a signed-in account that is not an administrator (403)."""
    return (
        _HEAD.format(title="Not an administrator · cobrowse admin console")
        + f"""<body class="sign-in">
<main>
<h1>cobrowse</h1>
<p>Admin console</p>
<p class="error" role="alert">Only administrators can use the admin console.
You are signed in as <strong>{html.escape(username)}</strong>,
whose role is {html.escape(role)}.</p>
<form method="post" action="/admin/sign-out">
<button type="submit">Sign out</button>
</form>
</main>
</body>
</html>
"""
    )
