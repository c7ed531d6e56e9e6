// The customer script: window.Cobrowse (PRODUCT.md §10).
// Embedded with <script src="https://COBROWSE-SERVER/cobrowse.js" defer></script>.
// Nothing here may break the host page: every entry point is guarded.

import type { eventWithTime } from "@rrweb/types";
import {
  CLOSE_ENDED,
  POINTER_AWAY,
  parseFrame,
  socketUrl,
  throttle,
  type SessionInfo,
  type ToCustomer,
} from "../shared/protocol";
import { PageCapture } from "./capture";
import { proxiedBy, type ProxiedHost } from "./inline";
import { AgentControl } from "./control";
import { SessionBeacon } from "./elsewhere";
import { MaskMarkers } from "./markers";
import { settingsFor, type SiteRestrictions } from "./restrictions";
import { RestrictionPolicy } from "./policy";
import { Emitter, type Handler } from "./events";
import { CustomerUI } from "./ui";
import { supportPhones } from "./callus";
import { widgetsFrom } from "./widgets";
import { WebChat, type ChatCredentials } from "./webchat";

interface EndedPayload {
  reason: string;
  text: string;
}

const LOST: EndedPayload = {
  reason: "connection_lost",
  text: "The connection to the co-browse server was lost, so the session ended.",
};

const POINTER_INTERVAL_MS = 40;
const RECONNECT_DELAYS_MS = [200, 400, 800, 1600, 3200, 6400, 10000];

interface StoredSession {
  id: string;
  token: string;
  /** Started from the WebChat: the agent joins from the chat, no ID to read out. */
  chat?: boolean;
}

/**
 * The servers a page may connect to: `data-servers="https://a.example https://b.example"`
 * (space- or comma-separated; one load-balanced URL works as well), else the
 * server the script was loaded from.
 */
function serverList(attribute: string | undefined, home: URL): URL[] {
  const servers: URL[] = [];
  for (const entry of (attribute ?? "").split(/[\s,]+/)) {
    if (!entry) continue;
    try {
      const url = new URL(entry, location.href);
      if (url.protocol === "https:" || url.protocol === "http:") servers.push(url);
    } catch {
      console.warn(`cobrowse: ignoring ${entry} in data-servers: not a URL.`);
    }
  }
  return servers.length > 0 ? servers : [home];
}

class CobrowseClient {
  private readonly events = new Emitter();
  private readonly server: URL;
  private readonly ui: CustomerUI;
  private readonly capture: PageCapture;
  private readonly policy = new RestrictionPolicy();
  private readonly control: AgentControl;
  private readonly markers: MaskMarkers;
  private readonly beacon: SessionBeacon;
  /** The built-in WebChat, when the script tag asks for it (data-widgets="webchat"). */
  readonly webchat: WebChat | null = null;
  private restrictions: SiteRestrictions | null = null;
  private path = location.pathname;
  private readonly siteCheck: Promise<void>;
  private socket: WebSocket | null = null;
  private current: SessionInfo | null = null;
  private starting: Promise<SessionInfo> | null = null;
  private removePointerListener: (() => void) | null = null;
  private reconnects = 0;
  /** Whether the resource proxy fetches a URL: everything, until the server said. */
  private proxied: (url: URL) => boolean = () => true;
  /** Where the socket may connect: data-servers, else the script's own server. */
  private readonly servers: URL[];
  private serverIndex = 0;

  constructor(script: HTMLScriptElement | null) {
    this.server = new URL(script?.src ?? "/", location.href);
    this.servers = serverList(script?.dataset.servers, this.server);
    this.capture = new PageCapture(
      this.policy,
      (event) => this.sendStream(event),
      () => this.proxied,
    );
    this.control = new AgentControl(
      this.policy,
      (id) => this.capture.nodeById(id),
      (refusal) => this.send({ v: 1, t: "refused", code: refusal.code, text: refusal.text }),
    );
    const widgets = widgetsFrom(script?.dataset);
    this.ui = new CustomerUI(
      {
        start: () => void this.start().catch(() => undefined),
        exit: () => this.exit(),
        pointerMode: () => this.pointerMode(),
        chat: () => this.webchat?.open(),
        cobrowseFromChat: () => this.webchat?.cobrowse(),
      },
      widgets,
    );
    this.markers = new MaskMarkers(this.ui.overlayLayer, this.policy);
    this.beacon = new SessionBeacon(`cobrowse:live:${this.server.origin}`, (elsewhere) => {
      if (!this.current) this.ui.showReady(elsewhere);
    });
    this.followPath();
    this.siteCheck = this.checkSite();
    if (widgets.has("webchat")) {
      const webchat = new WebChat({
        servers: this.servers,
        ready: this.siteCheck,
        startCobrowse: (chat) => this.start(chat),
        cobrowseLive: () => this.current !== null || this.starting !== null,
        launcher: !widgets.has("channelselector"),
      });
      this.webchat = webchat;
      webchat.onChange(() => this.ui.offerCobrowse(webchat.chatState === "active"));
      for (const event of ["sessionStarted", "sessionEnded"]) this.events.on(event, () => webchat.cobrowseChanged());
    }
    this.siteCheck.then(
      () => {
        this.ui.showReady(this.beacon.elsewhere());
        this.events.emit("ready", {}, true);
        const stored = this.stored();
        if (stored) this.starting = this.open(stored).finally(() => (this.starting = null));
      },
      (error: Error) => console.error(`cobrowse: ${error.message}`),
    );
  }

  get session(): SessionInfo | null {
    return this.current ? { ...this.current } : null;
  }

  on(event: string, handler: Handler): void {
    this.events.on(event, handler);
  }

  off(event: string, handler: Handler): void {
    this.events.off(event, handler);
  }

  /**
   * Start a co-browse session; resolves with {id, state} once the server gave it an
   * ID. With `chat` (the WebChat's Co-browse button), the session is bound to that
   * chat and its agent is asked inside the chat to join.
   */
  start(chat: ChatCredentials | null = null): Promise<SessionInfo> {
    if (this.current) return Promise.resolve({ ...this.current });
    if (this.starting) return this.starting;
    this.starting = this.siteCheck
      .then(() => this.open(null, chat))
      .finally(() => {
        this.starting = null;
      });
    return this.starting;
  }

  /** Take the session back to pointer mode: the agent can only point again (M2). */
  pointerMode(): void {
    this.send({ v: 1, t: "pointer_mode" });
  }

  /** End the current session (if any) for both parties. */
  exit(): void {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.send({ v: 1, t: "exit" });
    } else if (this.current) {
      this.finish({ reason: "customer_exit", text: "You ended the co-browse session." });
    }
  }

  /** The site check, from the first server of the list that answers. */
  private async fetchConfig(): Promise<Response> {
    let unreachable: unknown = null;
    for (const server of [this.server, ...this.servers.filter((url) => url.origin !== this.server.origin)]) {
      try {
        return await fetch(new URL("/customer/config", server), { credentials: "omit" });
      } catch (problem) {
        unreachable = problem;
      }
    }
    throw unreachable;
  }

  private async checkSite(): Promise<void> {
    let response: Response;
    try {
      response = await this.fetchConfig();
    } catch {
      throw new Error(`cannot reach the co-browse server at ${this.server.origin}; co-browse is off on this page.`);
    }
    if (response.status === 403) {
      throw new Error(
        `this website (${location.origin}) is not registered with the co-browse server at ` +
          `${this.server.origin}, so co-browse is off on this page. An administrator can add it with: ` +
          `cobrowse sites add NAME --origin ${location.origin}`,
      );
    }
    if (!response.ok) {
      throw new Error(`the co-browse server answered ${response.status}; co-browse is off on this page.`);
    }
    let config: { proxied?: unknown; phones?: unknown } = {};
    try {
      config = (await response.json()) as { proxied?: unknown; phones?: unknown };
    } catch {
      // An older server: it lists no hosts (nothing is inlined) and no phone numbers.
    }
    if (Array.isArray(config.proxied)) this.proxied = proxiedBy(config.proxied as ProxiedHost[]);
    this.ui.setPhones(supportPhones(config.phones));
  }

  /**
   * Open the socket and either start a new session or resume this tab's session
   * (the previous page of the tab, or this page before its connection dropped).
   */
  private open(resume: StoredSession | null = null, chat: ChatCredentials | null = null): Promise<SessionInfo> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(socketUrl("/ws/customer", this.servers[this.serverIndex]));
      this.socket = socket;
      let settled = false;
      const viaChat = resume ? resume.chat === true : chat !== null;
      socket.addEventListener("open", () =>
        this.send(
          resume
            ? { v: 1, t: "resume", id: resume.id, token: resume.token }
            : chat
              ? { v: 1, t: "start", chat: chat.id, token: chat.token }
              : { v: 1, t: "start" },
        ),
      );
      socket.addEventListener("message", (message) => {
        const frame = parseFrame<ToCustomer>(message.data);
        if (!frame) return;
        if (frame.t === "session" && !settled) {
          settled = true;
          this.reconnects = 0;
          this.began(frame.session, frame.resume ?? null, viaChat);
          resolve({ ...frame.session });
          return;
        }
        this.handle(frame);
      });
      socket.addEventListener("close", (event) => {
        if (this.socket !== socket) return;
        this.socket = null;
        if (!settled) {
          settled = true;
          if (resume && event.code !== CLOSE_ENDED && this.reconnects < RECONNECT_DELAYS_MS.length) {
            this.reconnect(resume); // the server is unreachable for now: keep trying
          } else if (resume) {
            this.forget(); // the session ended while this tab was away
            if (this.current) this.finish(LOST);
          }
          reject(new Error(`cobrowse: the server refused the session (${event.code} ${event.reason}).`));
        } else if (this.current) {
          const stored = this.stored();
          if (event.code !== CLOSE_ENDED && stored) this.reconnect(stored);
          else this.finish(event.code === CLOSE_ENDED ? { reason: event.reason, text: "The co-browse session ended." } : LOST);
        }
      });
    });
  }

  private reconnect(session: StoredSession): void {
    const delay = RECONNECT_DELAYS_MS[Math.min(this.reconnects, RECONNECT_DELAYS_MS.length - 1)];
    this.reconnects += 1;
    // Any node of a cluster can resume the session: when one stops answering (or was
    // stopped, close code 1012), try the next in the list.
    this.serverIndex = (this.serverIndex + 1) % this.servers.length;
    setTimeout(() => {
      if (this.socket) return;
      this.open(session).catch(() => undefined);
    }, delay);
  }

  /** A session began on this page: new, or carried over from the tab's previous page. */
  private began(session: SessionInfo, resumeToken: string | null, viaChat: boolean): void {
    this.current = { ...session };
    if (resumeToken) this.remember({ id: session.id, token: resumeToken, chat: viaChat });
    this.ui.sessionViaChat(viaChat);
    this.ui.showSession(this.current);
    this.markers.show();
    this.beacon.shine(session.id);
    this.events.emit("sessionStarted", { ...this.current }, true);
    if (session.state === "active") {
      this.events.emit("agentJoined", { ...this.current }, true);
      this.capture.start(); // the agent's view rebuilds from this page's snapshot
      this.followPointer();
    }
  }

  private storageKey(): string {
    return `cobrowse:session:${this.server.origin}`;
  }

  /** The tab's session: sessionStorage is per tab, so the session follows this tab only. */
  private stored(): StoredSession | null {
    try {
      const raw = sessionStorage.getItem(this.storageKey());
      const parsed: unknown = raw ? JSON.parse(raw) : null;
      if (parsed && typeof parsed === "object" && "id" in parsed && "token" in parsed) {
        return parsed as StoredSession;
      }
    } catch {
      // storage disabled or corrupt: no continuity, co-browse still works on this page
    }
    return null;
  }

  private remember(session: StoredSession): void {
    try {
      sessionStorage.setItem(this.storageKey(), JSON.stringify(session));
    } catch {
      // see stored()
    }
  }

  private forget(): void {
    try {
      sessionStorage.removeItem(this.storageKey());
    } catch {
      // see stored()
    }
  }

  private handle(frame: ToCustomer): void {
    switch (frame.t) {
      case "agent_joined":
        if (!this.current) return;
        this.current.state = "active";
        this.ui.showSession(this.current);
        this.events.emit("agentJoined", { ...this.current }, true);
        this.capture.start();
        this.followPointer();
        break;
      case "snapshot":
        this.capture.snapshot();
        break;
      case "restrictions":
        this.restrictions = frame.restrictions;
        this.applyRestrictions();
        break;
      case "write_request":
        this.askForWriteMode();
        break;
      case "mode":
        if (!this.current) return;
        this.current.mode = frame.mode;
        if (frame.mode === "pointer") this.control.release();
        this.ui.hideWriteRequest();
        this.ui.showSession(this.current);
        this.events.emit("modeChanged", { mode: frame.mode, by: frame.by });
        break;
      case "act":
        // The server forwards actions only in write mode; checking here too means a
        // stray frame can never act on the page (M1).
        if (this.current?.mode === "write") this.control.perform(frame);
        break;
      case "pointer":
        this.ui.agentPointer(frame.x, frame.y);
        break;
      case "click":
        this.ui.agentClick(frame.x, frame.y);
        break;
      case "ended":
        this.finish({ reason: frame.reason, text: frame.text });
        break;
      case "error":
        console.warn(`cobrowse: ${frame.text}`);
        break;
    }
  }

  private applyRestrictions(): void {
    if (!this.restrictions) return;
    this.policy.update(settingsFor(this.restrictions, location.pathname));
    // What was sent under the old rules is replaced by a snapshot under the new ones.
    if (this.capture.running) this.capture.snapshot();
  }

  /** In-app navigation changes the page: its path may have other restrictions. */
  private followPath(): void {
    const check = () => {
      if (location.pathname === this.path) return;
      this.path = location.pathname;
      this.applyRestrictions();
    };
    for (const method of ["pushState", "replaceState"] as const) {
      const original = history[method];
      history[method] = function (this: History, ...args: Parameters<History["pushState"]>) {
        const result = original.apply(this, args);
        try {
          check();
        } catch (error) {
          console.error("cobrowse: restriction update failed", error);
        }
        return result;
      };
    }
    window.addEventListener("popstate", check);
    window.addEventListener("hashchange", check);
  }

  private askForWriteMode(): void {
    let answered = false;
    const answer = (accepted: boolean) => {
      if (answered || !this.current) return;
      answered = true;
      this.ui.hideWriteRequest();
      this.send({ v: 1, t: "write_answer", accepted });
    };
    this.ui.showWriteRequest(answer);
    this.events.emit("writeModeRequested", {
      accept: () => answer(true),
      decline: () => answer(false),
    });
  }

  private finish(ended: EndedPayload): void {
    this.forget();
    if (!this.current) return;
    this.control.release();
    this.ui.hideWriteRequest();
    this.markers.hide();
    this.beacon.dim();
    this.current = null;
    this.capture.halt();
    this.removePointerListener?.();
    this.removePointerListener = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
    this.events.unstick("sessionStarted");
    this.events.unstick("agentJoined");
    this.ui.showEnded(ended.text);
    this.events.emit("sessionEnded", ended);
  }

  private followPointer(): void {
    if (this.removePointerListener) return;
    const send = throttle(POINTER_INTERVAL_MS, (x: number, y: number) => this.send({ v: 1, t: "pointer", x, y }));
    const move = (event: MouseEvent) => send(event.clientX, event.clientY);
    const leave = (event: MouseEvent) => {
      if (event.relatedTarget === null) send(POINTER_AWAY, POINTER_AWAY);
    };
    document.addEventListener("mousemove", move, { passive: true, capture: true });
    document.documentElement.addEventListener("mouseleave", leave, { passive: true });
    this.removePointerListener = () => {
      document.removeEventListener("mousemove", move, { capture: true });
      document.documentElement.removeEventListener("mouseleave", leave);
    };
  }

  private sendStream(event: eventWithTime): void {
    this.send({ v: 1, t: "stream", e: event });
  }

  private send(frame: object): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }
}

declare global {
  interface Window {
    Cobrowse?: PublicApi;
  }
}

interface PublicApi {
  start(): Promise<SessionInfo>;
  exit(): void;
  pointerMode(): void;
  readonly session: SessionInfo | null;
  on(event: string, handler: Handler): void;
  off(event: string, handler: Handler): void;
}

function install(): void {
  if (window.Cobrowse) return; // the script was included twice
  const script =
    (document.currentScript as HTMLScriptElement | null) ??
    document.querySelector<HTMLScriptElement>('script[src$="/cobrowse.js"]');
  const client = new CobrowseClient(script);
  const api: PublicApi = {
    start: () => client.start(),
    exit: () => client.exit(),
    pointerMode: () => client.pointerMode(),
    get session() {
      return client.session;
    },
    on: (event, handler) => client.on(event, handler),
    off: (event, handler) => client.off(event, handler),
  };
  Object.defineProperty(window, "Cobrowse", { value: Object.freeze(api), configurable: false, writable: false });
}

try {
  install();
} catch (error) {
  console.error("cobrowse: could not start", error);
}
