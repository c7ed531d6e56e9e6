// The admin console's JSON endpoints (src/cobrowse/web/admin.py is the reference).

import type { Mode, SessionState } from "../shared/protocol";

/** How long one request may take before the console counts it as failed and retries. */
const REQUEST_TIMEOUT_MS = 5000;

export interface LiveSession {
  session_id: string;
  site: string;
  state: SessionState;
  mode: Mode;
  agent: string | null;
  started_at: string;
  joined_at: string | null;
  /** How long it has been live at the moment the server answered. */
  duration_seconds: number;
}

export interface LiveOverview {
  sessions: LiveSession[];
}

/** One row of the session history (the REST API's SessionRecord). */
export interface SessionRecord {
  session_id: string;
  site: string;
  agent: string | null;
  started_at: string;
  joined_at: string | null;
  ended_at: string | null;
  end_reason: string | null;
  duration_seconds: number | null;
  write_mode_requests: number;
  write_mode_declined: number;
  mode_changes: number;
}

/** An answer other than success: the server's `{error, text}`, or a lost connection (status 0). */
export class RequestFailed extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly text: string,
  ) {
    super(text);
  }

  /** The sign-in is gone (signed out, expired) or no longer an admin's: reloading the
   * page shows the sign-in form or the refusal. */
  get signedOut(): boolean {
    return this.status === 401 || (this.status === 403 && this.code === "forbidden");
  }
}

async function request<T>(method: "GET" | "POST", path: string): Promise<T> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      cache: "no-store",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: abort.signal,
    });
  } catch {
    throw new RequestFailed(0, "connection_lost", "The server cannot be reached.");
  } finally {
    clearTimeout(timer);
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // a proxy's HTML error page, or an empty answer: described below by its status
  }
  if (!response.ok) {
    const problem = (body ?? {}) as { error?: unknown; text?: unknown };
    throw new RequestFailed(
      response.status,
      typeof problem.error === "string" ? problem.error : "http_error",
      typeof problem.text === "string" ? problem.text : `The server answered ${response.status}.`,
    );
  }
  return body as T;
}

export function liveSessions(): Promise<LiveOverview> {
  return request<LiveOverview>("GET", "/admin/api/live");
}

export function endSession(sessionId: string): Promise<unknown> {
  return request("POST", `/admin/api/live/${encodeURIComponent(sessionId)}/end`);
}

export function searchHistory(filters: URLSearchParams): Promise<SessionRecord[]> {
  return request<SessionRecord[]>("GET", `/admin/api/history?${filters.toString()}`);
}
