// The built-in WebChat widget (PRODUCT.md §6 P1, issue 4): the customer chats with
// an agent; once an agent has accepted, its Co-browse button starts a co-browse
// session bound to the chat, which the agent joins with one click inside the chat.
//
// Enabled with data-widgets="webchat" on the script tag. It lives in a shadow root
// of its own on a zero-size host marked data-cobrowse-ui: the site's CSS cannot
// reach it, and the recorder never sends it to the agent.
//
// The chat follows the tab through full page loads: its ID and token are kept in
// sessionStorage, and the next page resumes it (with its messages).

import { CLOSE_ENDED, parseFrame, socketUrl, type ChatMessage, type ToChatCustomer } from "../shared/protocol";

export type ChatState = "none" | "connecting" | "queued" | "active" | "ended";

/** The chat's ID and the token that proves this tab owns it. */
export interface ChatCredentials {
  id: string;
  token: string;
}

/** What the widget needs from the co-browse client it is part of. */
export interface WebChatHost {
  /** Where the chat socket may connect: the first, then the next on each retry. */
  servers: URL[];
  /** Resolves once the server said this page's origin is a registered site. */
  ready: Promise<void>;
  /** Start a co-browse session bound to this chat. */
  startCobrowse(chat: ChatCredentials): Promise<unknown>;
  /** Whether a co-browse session is live on this tab now. */
  cobrowseLive(): boolean;
  /**
   * Show the widget's own "Chat with us" button while the panel is closed (default
   * true); a widget that opens the chat itself (a channel selector) turns it off and
   * calls open().
   */
  launcher?: boolean;
}

const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 4000, 8000];
const MAX_MESSAGE_LENGTH = 2000;

const STYLE = `
:host { all: initial; }
.root { position: fixed; right: 20px; bottom: 20px; z-index: 2147483647;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1f; }
button { font: inherit; cursor: pointer; border: 0; border-radius: 999px; padding: 7px 14px; font-weight: 600; }
button:disabled { cursor: default; opacity: .5; }
.launch { background: #0b7a5a; color: #fff; padding: 10px 18px; box-shadow: 0 4px 14px rgba(0,0,0,.2); }
.panel { width: 330px; max-height: 480px; display: flex; flex-direction: column; background: #fff;
  border-radius: 14px; box-shadow: 0 6px 24px rgba(0,0,0,.22); overflow: hidden; }
.head { display: flex; align-items: center; gap: 8px; background: #0b7a5a; color: #fff; padding: 10px 12px; }
.head strong { flex: 1; }
.head button { background: rgba(255,255,255,.2); color: #fff; padding: 2px 10px; }
.status { padding: 8px 12px; font-size: 13px; color: #44445a; background: #f3f5f4; }
.log { list-style: none; margin: 0; padding: 8px 12px; overflow-y: auto; flex: 1; min-height: 80px; }
.log li { margin: 4px 0; max-width: 85%; padding: 6px 10px; border-radius: 12px; background: #ececf4;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.log li.customer { margin-left: auto; background: #d8f3e9; }
.log li.system { max-width: none; background: none; color: #55556a; font-size: 12px; text-align: center; }
.log .author { display: block; font-size: 11px; color: #55556a; }
form { display: flex; flex-direction: column; gap: 6px; padding: 8px 12px; border-top: 1px solid #e4e4ea; }
.row { display: flex; gap: 6px; }
input, textarea { font: inherit; border: 1px solid #c9c9d4; border-radius: 8px; padding: 6px 8px; flex: 1; min-width: 0; }
textarea { resize: none; height: 38px; }
.send { background: #0b7a5a; color: #fff; }
.actions { display: flex; gap: 6px; padding: 0 12px 10px; }
.cobrowse { background: #7b2ff7; color: #fff; }
.end { background: #e5484d; color: #fff; }
.new { background: #ececf4; color: #1b1b1f; }
.problem { color: #b4232a; font-size: 12px; padding: 0 12px; margin: 0; }
[hidden] { display: none !important; }
`;

export class WebChat {
  private state: ChatState = "none";
  private agent: string | null = null;
  /** This tab's chat, also kept here for when sessionStorage is unavailable. */
  private credentials: ChatCredentials | null = null;
  private socket: WebSocket | null = null;
  private attempts = 0;
  private serverIndex = 0;
  private opened = false;
  private endedText = "";
  private readonly seen = new Set<number>();
  private readonly listeners = new Set<() => void>();
  private pendingStart: { name: string | null; text: string } | null = null;
  private unread = 0;

  private readonly root: HTMLElement;
  private readonly launcher: HTMLButtonElement;
  private readonly panel: HTMLElement;
  private readonly status: HTMLElement;
  private readonly log: HTMLOListElement;
  private readonly form: HTMLFormElement;
  private readonly nameInput: HTMLInputElement;
  private readonly messageInput: HTMLTextAreaElement;
  private readonly problem: HTMLElement;
  private readonly cobrowseButton: HTMLButtonElement;
  private readonly endButton: HTMLButtonElement;
  private readonly newButton: HTMLButtonElement;

  constructor(private readonly host: WebChatHost) {
    const element = document.createElement("cobrowse-chat");
    element.setAttribute("data-cobrowse-ui", "");
    element.style.cssText = "position:fixed;top:0;left:0;width:0;height:0;overflow:visible;z-index:2147483647;";
    const shadow = element.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = STYLE;
    this.root = el("div", "root");
    this.root.hidden = true;

    this.launcher = button("launch", "Chat with us");
    this.launcher.addEventListener("click", () => this.open());

    this.panel = el("div", "panel");
    this.panel.setAttribute("role", "region");
    this.panel.setAttribute("aria-label", "Chat");
    this.panel.hidden = true;
    const head = el("div", "head");
    const title = el("strong", "title");
    title.textContent = "Chat with us";
    const minimize = button("minimize", "–");
    minimize.setAttribute("aria-label", "Minimize chat");
    minimize.addEventListener("click", () => this.minimize());
    head.append(title, minimize);
    this.status = el("div", "status");
    this.status.setAttribute("role", "status");
    this.log = el("ol", "log");
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-label", "Chat messages");
    this.form = el("form", "compose");
    this.nameInput = el("input", "name");
    this.nameInput.setAttribute("aria-label", "Your name (optional)");
    this.nameInput.placeholder = "Your name (optional)";
    this.nameInput.maxLength = 80;
    this.nameInput.autocomplete = "name";
    const row = el("div", "row");
    this.messageInput = el("textarea", "message");
    this.messageInput.setAttribute("aria-label", "Message");
    this.messageInput.placeholder = "Type a message…";
    this.messageInput.maxLength = MAX_MESSAGE_LENGTH;
    this.messageInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        this.form.requestSubmit();
      }
    });
    const send = button("send", "Send");
    send.type = "submit";
    row.append(this.messageInput, send);
    this.form.append(this.nameInput, row);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.problem = el("p", "problem");
    this.problem.setAttribute("role", "alert");
    this.problem.hidden = true;
    const actions = el("div", "actions");
    this.cobrowseButton = button("cobrowse", "Co-browse");
    this.cobrowseButton.title = "Let the agent see this page";
    this.cobrowseButton.addEventListener("click", () => this.cobrowse());
    this.endButton = button("end", "End chat");
    this.endButton.addEventListener("click", () => this.end());
    this.newButton = button("new", "New chat");
    this.newButton.addEventListener("click", () => this.reset());
    actions.append(this.cobrowseButton, this.endButton, this.newButton);
    this.panel.append(head, this.status, this.log, this.problem, this.form, actions);
    this.root.append(this.launcher, this.panel);
    shadow.append(style, this.root);
    (document.body ?? document.documentElement).appendChild(element);

    this.render();
    host.ready.then(
      () => {
        this.root.hidden = false;
        const stored = this.stored();
        if (stored) {
          this.opened = true;
          this.state = "connecting";
          this.connect(stored);
        }
        this.render();
      },
      () => undefined, // the client already said why co-browse (and chat) is off
    );
  }

  /** Whether the chat panel is showing (not minimized to its button). */
  get isOpen(): boolean {
    return this.opened;
  }

  /** Whether this tab has a chat that has not ended. */
  get hasOpenChat(): boolean {
    return this.state === "connecting" || this.state === "queued" || this.state === "active";
  }

  get chatState(): ChatState {
    return this.state;
  }

  /** Called whenever the chat's state or the panel's visibility changes. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Show the chat panel (and focus where the customer types). */
  open(): void {
    this.opened = true;
    this.render();
    this.messageInput.focus();
  }

  minimize(): void {
    this.opened = false;
    this.render();
  }

  /** A co-browse session started or ended on this tab: the Co-browse button follows. */
  cobrowseChanged(): void {
    this.render();
  }

  private submit(): void {
    const text = this.messageInput.value.trim();
    if (!text) return;
    if (this.state === "none") {
      const name = this.nameInput.value.trim() || null;
      this.pendingStart = { name, text };
      this.state = "connecting";
      this.connect(null);
    } else if (this.state === "queued" || this.state === "active") {
      if (!this.send({ v: 1, t: "chat_say", text })) {
        this.showProblem("Not connected; try again in a moment.");
        return;
      }
    } else {
      return;
    }
    this.messageInput.value = "";
    this.render();
  }

  /** Start a co-browse session bound to this chat (its Co-browse button, or the
   * ChannelSelector's); only once an agent has accepted the chat. */
  cobrowse(): void {
    const stored = this.stored();
    if (!stored || this.state !== "active") return;
    this.cobrowseButton.disabled = true;
    this.host.startCobrowse(stored).then(
      () => this.render(),
      () => {
        this.showProblem("The co-browse session could not start.");
        this.render();
      },
    );
  }

  private end(): void {
    if (!this.send({ v: 1, t: "chat_end" })) this.showProblem("Not connected; try again in a moment.");
  }

  /** After a chat ended: back to an empty panel for a new chat. */
  private reset(): void {
    this.state = "none";
    this.agent = null;
    this.seen.clear();
    this.log.replaceChildren();
    this.endedText = "";
    this.render();
    this.messageInput.focus();
  }

  private connect(resume: ChatCredentials | null): void {
    const server = this.host.servers[this.serverIndex % this.host.servers.length];
    const socket = new WebSocket(socketUrl("/ws/chat", server));
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempts = 0;
      if (resume) {
        this.send({ v: 1, t: "chat_resume", id: resume.id, token: resume.token });
      } else if (this.pendingStart) {
        const { name, text } = this.pendingStart;
        this.send({ v: 1, t: "chat_start", name, text });
      }
    });
    socket.addEventListener("message", (message) => {
      const frame = parseFrame<ToChatCustomer>(message.data);
      if (frame) this.handle(frame);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      const stored = this.stored();
      if (event.code === CLOSE_ENDED || !stored || !this.hasOpenChat) {
        if (this.state === "connecting") {
          this.state = "none";
          this.showProblem("The chat could not start; try again.");
          this.render();
        }
        return;
      }
      // The server went away (or this node stopped): resume on the next one.
      const delay = RECONNECT_DELAYS_MS[Math.min(this.attempts, RECONNECT_DELAYS_MS.length - 1)];
      this.attempts += 1;
      this.serverIndex += 1;
      setTimeout(() => {
        if (!this.socket && this.hasOpenChat) this.connect(stored);
      }, delay);
    });
  }

  private handle(frame: ToChatCustomer): void {
    switch (frame.t) {
      case "chat":
        if (frame.token) this.remember({ id: frame.id, token: frame.token });
        this.pendingStart = null;
        this.agent = frame.agent;
        this.seen.clear();
        this.log.replaceChildren();
        for (const message of frame.messages) this.add(message);
        if (frame.state === "ended") {
          this.finish("This chat has ended.");
          return;
        }
        this.state = frame.state;
        break;
      case "chat_accepted":
        this.state = "active";
        this.agent = frame.agent;
        break;
      case "chat_message":
        this.add(frame.message);
        break;
      case "chat_ended":
        this.finish(frame.text);
        return;
      case "error":
        if (frame.code === "no_such_chat") {
          this.forget();
          this.reset();
          return;
        }
        if (frame.code === "chat_ended") {
          this.finish("This chat has ended."); // ended elsewhere (the contact-center system)
          return;
        }
        this.showProblem(frame.text);
        break;
    }
    this.render();
  }

  private finish(text: string): void {
    this.state = "ended";
    this.endedText = text;
    this.forget();
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
    this.render();
  }

  private add(message: ChatMessage): void {
    if (this.seen.has(message.id)) return;
    this.seen.add(message.id);
    if (!this.opened && message.sender !== "customer") this.unread += 1;
    const item = el("li", message.sender);
    if (message.sender === "agent") {
      const author = el("span", "author");
      author.textContent = message.author ?? "Agent";
      item.append(author);
    }
    item.append(document.createTextNode(message.text));
    this.log.append(item);
    this.log.scrollTop = this.log.scrollHeight;
  }

  private render(): void {
    if (this.opened) this.unread = 0;
    this.launcher.hidden = this.opened || this.host.launcher === false;
    this.launcher.textContent = this.unread > 0 ? `Chat with us (${this.unread} new)` : "Chat with us";
    this.panel.hidden = !this.opened;
    this.status.textContent = this.describe();
    const started = this.state !== "none";
    this.nameInput.hidden = started;
    const canType = this.state === "none" || this.state === "queued" || this.state === "active";
    this.form.hidden = !canType;
    this.cobrowseButton.hidden = this.state === "none" || this.state === "ended";
    this.cobrowseButton.disabled = this.state !== "active" || this.host.cobrowseLive();
    this.endButton.hidden = !this.hasOpenChat;
    this.newButton.hidden = this.state !== "ended";
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (error) {
        console.error("cobrowse: a chat listener threw", error);
      }
    }
  }

  private describe(): string {
    switch (this.state) {
      case "none":
        return "Send a message to start a chat with our support team.";
      case "connecting":
        return "Connecting…";
      case "queued":
        return "Waiting for an agent to accept your chat…";
      case "active":
        return `You are chatting with ${this.agent ?? "an agent"}.`;
      case "ended":
        return this.endedText;
    }
  }

  private showProblem(text: string): void {
    this.problem.textContent = text;
    this.problem.hidden = false;
    setTimeout(() => {
      if (this.problem.textContent === text) this.problem.hidden = true;
    }, 6000);
  }

  private send(frame: object): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  private storageKey(): string {
    return `cobrowse:chat:${this.host.servers[0].origin}`;
  }

  private stored(): ChatCredentials | null {
    if (this.credentials) return this.credentials;
    try {
      const raw = sessionStorage.getItem(this.storageKey());
      const parsed: unknown = raw ? JSON.parse(raw) : null;
      if (parsed && typeof parsed === "object" && "id" in parsed && "token" in parsed) {
        return parsed as ChatCredentials;
      }
    } catch {
      // storage disabled: the chat lasts as long as this page
    }
    return null;
  }

  private remember(chat: ChatCredentials): void {
    this.credentials = chat;
    try {
      sessionStorage.setItem(this.storageKey(), JSON.stringify(chat));
    } catch {
      // see stored()
    }
  }

  private forget(): void {
    this.credentials = null;
    try {
      sessionStorage.removeItem(this.storageKey());
    } catch {
      // see stored()
    }
  }
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  return node;
}

function button(className: string, text: string): HTMLButtonElement {
  const node = el("button", className);
  node.type = "button";
  node.textContent = text;
  return node;
}
