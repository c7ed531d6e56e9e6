// The agent console: join a session by ID, watch the live view, point, exit.

import type { eventWithTime } from "@rrweb/types";
import {
  CLOSE_REPLACED,
  CLOSE_UNAUTHENTICATED,
  parseFrame,
  socketUrl,
  type SessionInfo,
  type ToAgent,
} from "../shared/protocol";
import { byId } from "../shared/dom";
import { CallsPanel } from "./calls";
import { MirrorView } from "./view";
import { ChatDesk } from "./chats";

const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 4000, 8000];

class Console {
  private socket: WebSocket | null = null;
  private attempts = 0;
  private session: SessionInfo | null = null;
  private readonly joinForm = byId<HTMLFormElement>("join-form");
  private readonly idInput = byId<HTMLInputElement>("session-id");
  private readonly sessionBar = byId<HTMLElement>("session-bar");
  private readonly sessionLabel = byId<HTMLElement>("session-label");
  private readonly sessionMode = byId<HTMLElement>("session-mode");
  private readonly requestWrite = byId<HTMLButtonElement>("request-write");
  private readonly pointerMode = byId<HTMLButtonElement>("pointer-mode");
  private readonly navBar = byId<HTMLFormElement>("nav-bar");
  private readonly address = byId<HTMLInputElement>("address");
  private readonly status = byId<HTMLElement>("status");
  private readonly view: MirrorView;
  private readonly chats: ChatDesk;

  constructor() {
    this.view = new MirrorView(byId("view"), byId("stage"), {
      pointer: (x, y) => this.send({ v: 1, t: "pointer", x, y }),
      click: (x, y) => this.send({ v: 1, t: "click", x, y }),
      act: (action) => this.send({ v: 1, t: "act", ...action }),
      page: (href) => {
        if (document.activeElement !== this.address) this.address.value = href;
      },
    });
    const navigate = (nav: "back" | "forward" | "reload") => () =>
      this.send({ v: 1, t: "act", a: "navigate", nav });
    byId("nav-back").addEventListener("click", navigate("back"));
    byId("nav-forward").addEventListener("click", navigate("forward"));
    byId("nav-reload").addEventListener("click", navigate("reload"));
    this.navBar.addEventListener("submit", (event) => {
      event.preventDefault();
      const url = this.address.value.trim();
      if (url) this.send({ v: 1, t: "act", a: "navigate", nav: "url", url });
      this.address.blur();
    });
    this.requestWrite.addEventListener("click", () => {
      this.send({ v: 1, t: "request_write" });
      this.requestWrite.disabled = true;
      this.sessionMode.textContent = "Waiting for the customer…";
      this.say("Asked the customer for write mode; waiting for the answer…");
    });
    this.pointerMode.addEventListener("click", () => this.send({ v: 1, t: "pointer_mode" }));
    this.joinForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const typed = this.idInput.value.trim();
      if (!typed) return;
      this.join(typed);
    });
    this.chats = new ChatDesk(byId("chat-queue"), byId("chat-queue-empty"), byId("my-chats"), {
      send: (frame) => this.send(frame),
      join: (sessionId) => this.join(sessionId),
    });
    byId<HTMLButtonElement>("exit-session").addEventListener("click", () => this.send({ v: 1, t: "exit" }));
    // What the calls panel says never hides why a session just ended (ending a call
    // ends its session, and that notice may arrive before the call's answer).
    new CallsPanel((text) => {
      if (!this.status.textContent?.startsWith("Session ended")) this.say(text);
    });
    this.connect();
  }

  private join(sessionId: string): void {
    this.say(`Joining session ${sessionId}…`);
    this.send({ v: 1, t: "join", id: sessionId });
  }

  private connect(): void {
    const socket = new WebSocket(socketUrl("/ws/agent", location.href));
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempts = 0;
      this.chats.connected();
    });
    socket.addEventListener("message", (message) => {
      const frame = parseFrame<ToAgent>(message.data);
      if (frame) this.handle(frame);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === CLOSE_UNAUTHENTICATED) {
        location.reload(); // shows the sign-in form
        return;
      }
      if (event.code === CLOSE_REPLACED) {
        this.say("This console was opened in another window; continue there.", true);
        this.view.clear();
        return;
      }
      const delay = RECONNECT_DELAYS_MS[Math.min(this.attempts, RECONNECT_DELAYS_MS.length - 1)];
      this.attempts += 1;
      this.say("Connection to the server lost; reconnecting…", true);
      setTimeout(() => this.connect(), delay);
    });
  }

  private handle(frame: ToAgent): void {
    if (this.chats.handles(frame)) {
      this.chats.handle(frame);
      return;
    }
    switch (frame.t) {
      case "hello":
        if (frame.session) {
          this.enter(frame.session);
          this.say(`Back in co-browse session ${frame.session.id}.`);
        } else {
          this.leave();
          this.say("Ready. Ask the customer for their session ID.");
        }
        break;
      case "joined":
        this.idInput.value = "";
        this.enter(frame.session);
        this.say(`Joined co-browse session ${frame.session.id}. Waiting for the customer's page…`);
        break;
      case "stream": {
        const before = this.view.showing;
        this.view.add(frame.e as eventWithTime);
        // Said once, when the page first shows: later notices must not be overwritten.
        if (!before && this.view.showing && this.session) this.say("Viewing the customer's page.");
        break;
      }
      case "pointer":
        this.view.showCustomerPointer(frame.x, frame.y);
        break;
      case "mode":
        if (!this.session) return;
        this.session.mode = frame.mode;
        this.showMode();
        this.say(
          frame.mode === "write"
            ? "Write mode: your clicks, typing and scrolling act on the customer's page."
            : frame.by === "customer"
              ? "The customer returned the session to pointer mode."
              : "Back in pointer mode.",
          frame.by === "customer" && frame.mode === "pointer",
        );
        break;
      case "customer_away":
        this.say("The customer's page is loading or reconnecting…");
        break;
      case "customer_back":
        this.say("The customer is back; showing their page.");
        break;
      case "write_declined":
        this.showMode();
        this.say(frame.text, true);
        break;
      case "refused":
        this.say(frame.text, true);
        break;
      case "ended":
        this.leave();
        this.say(`Session ended: ${frame.text}`, true);
        break;
      case "error":
        if (this.session) this.showMode();
        this.say(frame.text, true);
        break;
    }
  }

  private enter(session: SessionInfo): void {
    this.session = session;
    this.sessionLabel.textContent = session.id;
    this.sessionBar.hidden = false;
    this.showMode();
  }

  private showMode(): void {
    const write = this.session?.mode === "write";
    this.sessionMode.textContent = write ? "Write mode" : "Pointer mode";
    this.requestWrite.hidden = write;
    this.requestWrite.disabled = false;
    this.pointerMode.hidden = !write;
    this.navBar.hidden = !write;
    this.view.setWriteMode(write);
  }

  private leave(): void {
    this.session = null;
    this.view.setWriteMode(false);
    this.view.clear();
    this.sessionBar.hidden = true;
  }

  private say(text: string, important = false): void {
    if (this.status.textContent === text) return;
    this.status.textContent = text;
    this.status.classList.toggle("important", important);
  }

  private send(frame: object): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }
}

new Console();
