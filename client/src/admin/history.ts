// The history section: filters (time range, agent, site, end reason) and the
// sessions that match, newest first, from the same search as GET /api/v1/sessions.

import { RequestFailed, searchHistory, type SessionRecord } from "./api";
import type { Say } from "./live";
import { formatDuration, formatMoment, orNone, textCell } from "./table";

const SHOWN_AT_MOST = 100;

export class HistorySearch {
  constructor(
    private readonly form: HTMLFormElement,
    private readonly body: HTMLTableSectionElement,
    private readonly say: Say,
  ) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.search();
    });
  }

  async search(): Promise<void> {
    const filters = this.filters();
    if (filters === null) return;
    this.say("Searching…");
    try {
      const records = await searchHistory(filters);
      this.body.replaceChildren(...records.map((record) => this.row(record)));
      this.say(this.summary(records.length));
    } catch (error) {
      if (error instanceof RequestFailed && error.signedOut) {
        location.reload();
        return;
      }
      this.say(error instanceof RequestFailed ? error.text : String(error), true);
    }
  }

  private filters(): URLSearchParams | null {
    const data = new FormData(this.form);
    const filters = new URLSearchParams({ limit: String(SHOWN_AT_MOST) });
    for (const name of ["since", "until"]) {
      const typed = String(data.get(name) ?? "");
      if (!typed) continue;
      // A datetime-local value is in the browser's time zone; the server takes UTC.
      const moment = new Date(typed);
      if (Number.isNaN(moment.getTime())) {
        this.say(`${typed} is not a date and time.`, true);
        return null;
      }
      filters.set(name, moment.toISOString());
    }
    for (const name of ["agent", "site", "end_reason"]) {
      const typed = String(data.get(name) ?? "").trim();
      if (typed) filters.set(name, typed);
    }
    return filters;
  }

  private summary(found: number): string {
    if (found === 0) return "No sessions match these filters.";
    if (found >= SHOWN_AT_MOST) return `The newest ${SHOWN_AT_MOST} sessions; narrow the filters to see older ones.`;
    return found === 1 ? "1 session." : `${found} sessions, newest first.`;
  }

  private row(record: SessionRecord): HTMLTableRowElement {
    const row = document.createElement("tr");
    row.dataset.sessionId = record.session_id;
    row.append(
      textCell(record.session_id, "session-id"),
      textCell(record.site),
      textCell(orNone(record.agent)),
      textCell(formatMoment(record.started_at)),
      textCell(formatMoment(record.joined_at)),
      textCell(formatMoment(record.ended_at)),
      textCell(formatDuration(record.duration_seconds)),
      textCell(record.end_reason ?? "(live)"),
      textCell(String(record.write_mode_requests), "number"),
      textCell(String(record.write_mode_declined), "number"),
      textCell(String(record.mode_changes), "number"),
    );
    return row;
  }
}
