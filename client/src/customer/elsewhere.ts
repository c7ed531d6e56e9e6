// A session belongs to the tab that started it (continuity lives in that tab's
// sessionStorage). Other tabs of the site learn that a session is live elsewhere
// through localStorage, which every tab of the origin shares, so the customer is
// not left wondering why the agent does not see this tab.

const HEARTBEAT_MS = 4000;
const FRESH_MS = 12000;

interface LiveElsewhere {
  id: string;
  at: number;
}

export class SessionBeacon {
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly key: string,
    private readonly changed: (elsewhere: string | null) => void,
  ) {
    window.addEventListener("storage", (event) => {
      if (event.key === this.key && this.timer === null) this.changed(this.elsewhere());
    });
  }

  /** The session ID live in another tab, if a fresh beacon says so. */
  elsewhere(): string | null {
    if (this.timer !== null) return null;
    try {
      const raw = localStorage.getItem(this.key);
      const beacon = raw ? (JSON.parse(raw) as LiveElsewhere) : null;
      return beacon && Date.now() - beacon.at < FRESH_MS ? beacon.id : null;
    } catch {
      return null;
    }
  }

  /** This tab has the session: keep telling the others, until it ends. */
  shine(id: string): void {
    this.dim();
    const beat = () => this.write({ id, at: Date.now() });
    beat();
    this.timer = setInterval(beat, HEARTBEAT_MS);
    window.addEventListener("pagehide", () => this.dim(), { once: true });
  }

  dim(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    try {
      localStorage.removeItem(this.key);
    } catch {
      // storage disabled: other tabs simply are not told
    }
  }

  private write(beacon: LiveElsewhere): void {
    try {
      localStorage.setItem(this.key, JSON.stringify(beacon));
    } catch {
      // see dim()
    }
  }
}
