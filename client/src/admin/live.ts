// The live sessions table. It polls the server every second and keeps each row in
// place between polls (a focused button stays focused); durations count up every
// second from the server's figure, by this browser's clock, so a skewed clock
// does not matter.

import { endSession, liveSessions, RequestFailed, type LiveSession } from "./api";
import type { ConfirmDialog } from "./confirm";
import { formatDuration, formatMoment, orNone, textCell } from "./table";

const POLL_EVERY_MS = 1000;
/** Waits after failed polls: soon at first, then every few seconds until it works. */
const RETRY_DELAYS_MS = [1000, 2000, 5000];

export type Say = (text: string, important?: boolean) => void;

interface Row {
  element: HTMLTableRowElement;
  state: HTMLTableCellElement;
  mode: HTMLTableCellElement;
  agent: HTMLTableCellElement;
  duration: HTMLTableCellElement;
  /** When the session started, on the performance.now() clock of this page. */
  startedAt: number;
}

export class LiveTable {
  private readonly rows = new Map<string, Row>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private polling = false;
  private pollAgain = false;
  private connected = false;
  private failures = 0;

  constructor(
    private readonly table: HTMLTableElement,
    private readonly body: HTMLTableSectionElement,
    private readonly empty: HTMLElement,
    private readonly count: HTMLElement,
    private readonly confirmEnd: ConfirmDialog,
    private readonly say: Say,
  ) {}

  start(): void {
    void this.poll();
    setInterval(() => this.showDurations(), 1000);
  }

  /** Poll now rather than at the next second: something just changed. */
  refresh(): void {
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    clearTimeout(this.timer);
    void this.poll();
  }

  private async poll(): Promise<void> {
    this.polling = true;
    let delay = POLL_EVERY_MS;
    try {
      const overview = await liveSessions();
      this.show(overview.sessions);
      if (!this.connected) this.say(this.failures > 0 ? "Connected to the server again." : "Connected.");
      this.connected = true;
      this.failures = 0;
    } catch (error) {
      if (error instanceof RequestFailed && error.signedOut) {
        location.reload(); // shows the sign-in form or the refusal
        return;
      }
      delay = RETRY_DELAYS_MS[Math.min(this.failures, RETRY_DELAYS_MS.length - 1)];
      this.failures += 1;
      this.connected = false;
      this.table.classList.add("stale");
      this.say("Connection to the server lost; retrying…", true);
    } finally {
      this.polling = false;
      if (this.pollAgain) {
        this.pollAgain = false;
        delay = 0;
      }
      this.timer = setTimeout(() => void this.poll(), delay);
    }
  }

  private show(sessions: LiveSession[]): void {
    const live = new Set(sessions.map((session) => session.session_id));
    for (const [id, row] of this.rows) {
      if (live.has(id)) continue;
      row.element.remove();
      this.rows.delete(id);
    }
    const now = performance.now();
    let previous: HTMLTableRowElement | null = null;
    for (const session of sessions) {
      const row = this.rows.get(session.session_id) ?? this.addRow(session);
      row.state.textContent = session.state;
      row.state.dataset.state = session.state;
      row.mode.textContent = session.mode;
      row.agent.textContent = orNone(session.agent);
      // The earliest estimate wins: a slow answer must not make a duration step back.
      row.startedAt = Math.min(row.startedAt, now - session.duration_seconds * 1000);
      const expected: Element | null = previous ? previous.nextElementSibling : this.body.firstElementChild;
      if (expected !== row.element) this.body.insertBefore(row.element, expected);
      previous = row.element;
    }
    this.count.textContent = String(sessions.length);
    this.empty.hidden = sessions.length > 0;
    this.table.classList.remove("stale");
    this.showDurations();
  }

  private addRow(session: LiveSession): Row {
    const element = document.createElement("tr");
    element.dataset.sessionId = session.session_id;
    const row: Row = {
      element,
      state: textCell("", "state"),
      mode: textCell(""),
      agent: textCell(""),
      duration: textCell("", "duration"),
      startedAt: Infinity,
    };
    const endButton = document.createElement("button");
    endButton.type = "button";
    endButton.className = "danger";
    endButton.textContent = "End session";
    endButton.setAttribute("aria-label", `End session ${session.session_id}`);
    endButton.addEventListener("click", () =>
      this.confirmEnd.ask(session.session_id, () => void this.end(session.session_id, endButton)),
    );
    const action = document.createElement("td");
    action.append(endButton);
    element.append(
      textCell(session.session_id, "session-id"),
      row.state,
      row.mode,
      row.agent,
      textCell(session.site),
      textCell(formatMoment(session.started_at)),
      row.duration,
      action,
    );
    this.rows.set(session.session_id, row);
    return row;
  }

  private showDurations(): void {
    if (!this.connected) return; // a stale table must not look as if it were live
    const now = performance.now();
    for (const row of this.rows.values()) {
      row.duration.textContent = formatDuration((now - row.startedAt) / 1000);
    }
  }

  private async end(sessionId: string, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    button.textContent = "Ending…";
    try {
      await endSession(sessionId);
      this.say(`Session ${sessionId} ended; the customer and the agent were told.`);
    } catch (error) {
      if (error instanceof RequestFailed && error.signedOut) {
        location.reload();
        return;
      }
      button.disabled = false;
      button.textContent = "End session";
      this.say(error instanceof RequestFailed ? error.text : String(error), true);
    } finally {
      this.refresh();
    }
  }
}
