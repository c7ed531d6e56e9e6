// The console's "Your calls": the agent's open voice interactions (S2), registering an
// incoming call by hand, and ending a call (which ends its co-browse session, P2).
// Polled: calls also come and go through the REST API of a contact-center system.

import { byId } from "../shared/dom";

const POLL_MS = 3000;

interface OpenInteraction {
  id: string;
  kind: "chat" | "voice";
  customer_reference: string | null;
  created_at: string;
}

interface ApiProblem {
  text?: string;
}

export class CallsPanel {
  private readonly list = byId<HTMLUListElement>("call-list");
  private readonly empty = byId<HTMLElement>("calls-empty");
  private readonly reference = byId<HTMLInputElement>("call-reference");
  private timer: number | null = null;

  constructor(private readonly say: (text: string) => void) {
    byId<HTMLFormElement>("call-form").addEventListener("submit", (event) => {
      event.preventDefault();
      void this.register();
    });
    void this.refresh();
  }

  private schedule(): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.refresh(), POLL_MS);
  }

  async refresh(): Promise<void> {
    try {
      const answer = await fetch("/agent/api/interactions", { headers: { Accept: "application/json" } });
      if (answer.ok) {
        const body = (await answer.json()) as { interactions: OpenInteraction[] };
        this.show(body.interactions.filter((item) => item.kind === "voice"));
      }
    } catch {
      // the next poll tries again; the status line speaks for the socket
    } finally {
      this.schedule();
    }
  }

  private show(calls: OpenInteraction[]): void {
    this.empty.hidden = calls.length > 0;
    const rows = calls.map((call) => {
      const row = document.createElement("li");
      row.dataset.interaction = call.id;
      const name = document.createElement("span");
      name.textContent = call.customer_reference ? `Call with ${call.customer_reference}` : "Call";
      const since = document.createElement("span");
      since.className = "since";
      since.textContent = `since ${new Date(call.created_at).toLocaleTimeString()}`;
      const end = document.createElement("button");
      end.type = "button";
      end.className = "danger";
      end.textContent = "End call";
      end.addEventListener("click", () => void this.end(call.id, end));
      row.append(name, since, end);
      return row;
    });
    this.list.replaceChildren(...rows);
  }

  private async register(): Promise<void> {
    const reference = this.reference.value.trim();
    const answer = await this.post("/agent/api/calls", { customer_reference: reference || null });
    if (answer === null) return;
    this.reference.value = "";
    this.say("Call registered: a session the customer reads out to you is bound to it.");
    await this.refresh();
  }

  private async end(id: string, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    const answer = await this.post(`/agent/api/interactions/${encodeURIComponent(id)}/end`, {});
    if (answer !== null) this.say("Call ended.");
    await this.refresh();
  }

  private async post(path: string, body: object): Promise<unknown> {
    try {
      const answer = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
      const parsed: unknown = await answer.json();
      if (!answer.ok) {
        this.say((parsed as ApiProblem).text ?? `The server answered ${answer.status}.`);
        return null;
      }
      return parsed;
    } catch {
      this.say("The server could not be reached; try again.");
      return null;
    }
  }
}
