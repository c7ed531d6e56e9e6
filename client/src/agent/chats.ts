// The console's web chats: the waiting queue (polled every 2 s over the console
// socket), the agent's own chats with their messages (pushed live), and the
// co-browse requests inside them, joined with one click.

import type { ChatMessage, ChatSummary, ToAgent } from "../shared/protocol";

export const POLL_MS = 2000;

type ChatFrame = Extract<ToAgent, { t: "chats" | "chat_history" | "chat_message" | "chat_ended" }>;

export interface ChatActions {
  /** Send a frame on the console socket (dropped while it is closed). */
  send(frame: object): void;
  /** Join the co-browse session with this ID, as if typed. */
  join(sessionId: string): void;
}

interface OpenChat {
  summary: ChatSummary;
  article: HTMLElement;
  log: HTMLOListElement;
  status: HTMLElement;
  form: HTMLFormElement;
  reply: HTMLTextAreaElement;
  end: HTMLButtonElement;
  seen: Set<number>;
  ended: boolean;
}

function who(chat: ChatSummary): string {
  return chat.customer ?? "a customer";
}

function clock(at: string): string {
  const moment = new Date(at);
  return Number.isNaN(moment.getTime()) ? "" : moment.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export class ChatDesk {
  private readonly chats = new Map<string, OpenChat>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly queue: HTMLUListElement,
    private readonly queueEmpty: HTMLElement,
    private readonly mine: HTMLElement,
    private readonly actions: ChatActions,
  ) {}

  /** The console socket (re)connected: list now, then every POLL_MS. */
  connected(): void {
    this.poll();
    if (this.timer === null) this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  handles(frame: ToAgent): frame is ChatFrame {
    return frame.t === "chats" || frame.t === "chat_history" || frame.t === "chat_message" || frame.t === "chat_ended";
  }

  handle(frame: ChatFrame): void {
    switch (frame.t) {
      case "chats":
        this.showQueue(frame.queue);
        this.showMine(frame.mine);
        break;
      case "chat_history": {
        const chat = this.chatFor(frame.chat);
        for (const message of frame.messages) this.add(chat, message);
        break;
      }
      case "chat_message": {
        const chat = this.chats.get(frame.id);
        if (chat) this.add(chat, frame.message);
        else this.actions.send({ v: 1, t: "chat_open", id: frame.id });
        break;
      }
      case "chat_ended": {
        const chat = this.chats.get(frame.id);
        if (chat) this.finish(chat, frame.text);
        break;
      }
    }
  }

  private poll(): void {
    this.actions.send({ v: 1, t: "chat_list" });
  }

  private showQueue(waiting: ChatSummary[]): void {
    this.queueEmpty.hidden = waiting.length > 0;
    this.queue.replaceChildren(
      ...waiting.map((chat) => {
        const item = document.createElement("li");
        const text = document.createElement("span");
        text.textContent = `${who(chat)}${chat.site ? ` on ${chat.site}` : ""}, waiting since ${clock(chat.at)}`;
        const accept = document.createElement("button");
        accept.type = "button";
        accept.textContent = "Accept";
        accept.addEventListener("click", () => {
          accept.disabled = true;
          this.actions.send({ v: 1, t: "chat_accept", id: chat.id });
        });
        item.append(text, accept);
        return item;
      }),
    );
  }

  private showMine(mine: ChatSummary[]): void {
    const open = new Set(mine.map((chat) => chat.id));
    for (const summary of mine) {
      if (!this.chats.has(summary.id)) {
        this.chatFor(summary);
        this.actions.send({ v: 1, t: "chat_open", id: summary.id });
      }
    }
    // Ended elsewhere (the integration API, another console of this agent).
    for (const chat of this.chats.values()) {
      if (!open.has(chat.summary.id) && !chat.ended) this.finish(chat, "This chat has ended.");
    }
  }

  private chatFor(summary: ChatSummary): OpenChat {
    const known = this.chats.get(summary.id);
    if (known) return known;
    const article = document.createElement("article");
    article.className = "chat";
    article.setAttribute("aria-label", `Chat with ${who(summary)}`);
    const head = document.createElement("header");
    const title = document.createElement("strong");
    title.textContent = `Chat with ${who(summary)}`;
    const end = document.createElement("button");
    end.type = "button";
    end.className = "danger";
    end.textContent = "End chat";
    head.append(title, end);
    const status = document.createElement("p");
    status.className = "chat-status";
    status.setAttribute("aria-live", "polite"); // not role=status: the console's own status is the one
    status.textContent = summary.site ? `On ${summary.site}.` : "";
    const log = document.createElement("ol");
    log.className = "chat-log";
    log.setAttribute("role", "log");
    log.setAttribute("aria-label", `Messages with ${who(summary)}`);
    const form = document.createElement("form");
    form.className = "chat-reply";
    const reply = document.createElement("textarea");
    reply.setAttribute("aria-label", "Reply");
    reply.maxLength = 2000;
    reply.rows = 2;
    const send = document.createElement("button");
    send.type = "submit";
    send.textContent = "Send";
    form.append(reply, send);
    article.append(head, status, log, form);
    this.mine.append(article);
    const chat: OpenChat = { summary, article, log, status, form, reply, end, seen: new Set(), ended: false };
    this.chats.set(summary.id, chat);
    end.addEventListener("click", () => this.actions.send({ v: 1, t: "chat_end", id: summary.id }));
    reply.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = reply.value.trim();
      if (!text || chat.ended) return;
      this.actions.send({ v: 1, t: "chat_reply", id: summary.id, text });
      reply.value = "";
    });
    return chat;
  }

  private add(chat: OpenChat, message: ChatMessage): void {
    if (chat.seen.has(message.id)) return;
    chat.seen.add(message.id);
    const item = document.createElement("li");
    item.className = message.sender;
    const author = document.createElement("span");
    author.className = "author";
    author.textContent =
      message.sender === "customer" ? (message.author ?? "Customer") : message.sender === "agent" ? "You" : "";
    const text = document.createElement("span");
    text.textContent = message.text;
    item.append(author, text);
    const sessionId = message.session;
    if (sessionId) {
      const join = document.createElement("button");
      join.type = "button";
      join.className = "join-cobrowse";
      join.textContent = "Join co-browse";
      join.addEventListener("click", () => this.actions.join(sessionId));
      item.append(join);
    }
    chat.log.append(item);
    chat.log.scrollTop = chat.log.scrollHeight;
  }

  private finish(chat: OpenChat, text: string): void {
    chat.ended = true;
    chat.status.textContent = text;
    chat.status.classList.add("important");
    chat.form.hidden = true;
    for (const join of chat.log.querySelectorAll<HTMLButtonElement>(".join-cobrowse")) join.disabled = true;
    chat.end.textContent = "Close";
    chat.end.className = "secondary";
    const close = chat.end.cloneNode(true) as HTMLButtonElement;
    close.addEventListener("click", () => {
      chat.article.remove();
      this.chats.delete(chat.summary.id);
    });
    chat.end.replaceWith(close);
    chat.end = close;
  }
}
