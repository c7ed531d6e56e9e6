// What cobrowse draws on the customer's page: the agent's pointer and click
// ripples (always), and the built-in widgets chosen by data-widgets (none with
// data-ui="none"; see widgets.ts). It all lives
// in one shadow root on a zero-size host, so the site's CSS cannot reach it and
// the recorder (which blocks the host) sends nothing of it.

import type { SessionInfo } from "../shared/protocol";
import { CALLUS_STYLE, CallUs, type SupportPhone } from "./callus";
import { CHANNELS_STYLE, ChannelSelector } from "./channels";
import type { WidgetName } from "./widgets";

const STYLE = `
:host { all: initial; }
.layer { position: fixed; inset: 0; pointer-events: none; z-index: 2147483647; overflow: hidden; }
.pointer { position: absolute; left: 0; top: 0; transition: transform 60ms linear; display: none; }
.pointer svg { display: block; filter: drop-shadow(0 1px 2px rgba(0,0,0,.35)); }
.pointer span { position: absolute; left: 16px; top: 18px; background: #7b2ff7; color: #fff;
  font: 600 11px/1.6 system-ui, sans-serif; padding: 0 6px; border-radius: 8px; white-space: nowrap; }
.masked-marker { position: absolute; left: 0; top: 0; border: 2px dashed #7b2ff7; border-radius: 6px;
  background: repeating-linear-gradient(135deg, rgba(123,47,247,.06) 0 6px, transparent 6px 12px); }
.masked-marker span { position: absolute; right: 4px; top: -10px; background: #7b2ff7; color: #fff;
  font: 600 10px/1.6 system-ui, sans-serif; padding: 0 6px; border-radius: 8px; white-space: nowrap; }
.hidden-notice { position: absolute; left: 0; top: 0; max-width: 280px; background: #1b1b2f; color: #fff;
  font: 13px/1.4 system-ui, sans-serif; padding: 6px 10px; border-radius: 8px; box-shadow: 0 4px 14px rgba(0,0,0,.3); }
.hidden-notice[hidden] { display: none; }
.ripple { position: absolute; width: 36px; height: 36px; margin: -18px 0 0 -18px; border-radius: 50%;
  border: 3px solid #7b2ff7; animation: ripple 700ms ease-out forwards; }
@keyframes ripple { from { transform: scale(.3); opacity: 1; } to { transform: scale(1.6); opacity: 0; } }
.widget { position: fixed; right: 20px; bottom: 20px; z-index: 2147483647; pointer-events: auto;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1f; }
.widget.aside { right: auto; left: 20px; }
.launch, .panel button { font: inherit; cursor: pointer; border: 0; border-radius: 999px; }
.launch { background: #7b2ff7; color: #fff; padding: 10px 18px; font-weight: 600;
  box-shadow: 0 4px 14px rgba(0,0,0,.2); }
.panel { background: #fff; border-radius: 14px; padding: 12px 14px; box-shadow: 0 6px 24px rgba(0,0,0,.22);
  display: flex; align-items: center; gap: 12px; }
.panel .label { font-size: 12px; color: #55556a; }
.panel .id { font: 700 20px/1.2 ui-monospace, SFMono-Regular, Menlo, monospace; letter-spacing: 1px; }
.panel .state { font-size: 12px; color: #55556a; }
.panel button { background: #e5484d; color: #fff; padding: 8px 14px; font-weight: 600; }
.panel button.secondary { display: block; margin-top: 6px; background: #ececf4; color: #1b1b1f; padding: 4px 10px; font-size: 12px; }
.prompt { background: #fff; border: 2px solid #7b2ff7; border-radius: 14px; padding: 12px 14px; margin-bottom: 10px;
  box-shadow: 0 6px 24px rgba(0,0,0,.22); max-width: 340px; }
.prompt p { margin: 0 0 10px; }
.prompt button { font: inherit; cursor: pointer; border: 0; border-radius: 999px; padding: 7px 16px; font-weight: 600; margin-right: 8px; }
.prompt .allow { background: #7b2ff7; color: #fff; }
.prompt .decline { background: #ececf4; color: #1b1b1f; }
.notice { background: #fff; border-radius: 14px; padding: 12px 14px; box-shadow: 0 6px 24px rgba(0,0,0,.22);
  max-width: 320px; }
.notice button { margin-left: 8px; background: none; border: 0; color: #7b2ff7; cursor: pointer; font: inherit; }
.ready { display: flex; flex-direction: column; align-items: flex-end; gap: 10px; }
[hidden] { display: none !important; }
${CALLUS_STYLE}
${CHANNELS_STYLE}`;

const ARROW = `<svg width="22" height="22" viewBox="0 0 22 22" aria-hidden="true">
<path d="M2 1 L2 18 L7 13.5 L10.5 21 L13.5 19.7 L10 12.3 L17 12.3 Z" fill="#7b2ff7" stroke="#fff" stroke-width="1.5"/></svg>`;

export interface UIActions {
  start(): void;
  exit(): void;
  pointerMode(): void;
  /** Open the WebChat (the ChannelSelector's "Chat"). */
  chat?(): void;
  /** Start a session bound to the open chat (the ChannelSelector's "Co-browse"). */
  cobrowseFromChat?(): void;
}

export function formatSessionId(id: string): string {
  return id.replace(/(\d{3})(?=\d)/g, "$1 ");
}

export class CustomerUI {
  private readonly layer: HTMLElement;
  private readonly pointer: HTMLElement;
  private readonly widget: HTMLElement | null;
  private readonly launcher: boolean;
  private readonly callUs: CallUs | null;
  private readonly selector: ChannelSelector | null;
  private viaChat = false;
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;

  /** The full-page layer (no pointer events) where pointers and markers are drawn. */
  get overlayLayer(): HTMLElement {
    return this.layer;
  }

  /**
   * `widgets`: the built-in widgets of the page (widgets.ts). With any of them there
   * is a widget area for the session panel (ID, state, Exit) and the write-mode
   * prompt; `cobrowse` adds the Co-browse button while no session is live, `callus`
   * the CallUs card; with `webchat` the widget sits bottom left, leaving bottom right
   * to the chat.
   */
  constructor(
    private readonly actions: UIActions,
    widgets: ReadonlySet<WidgetName>,
  ) {
    this.launcher = widgets.has("cobrowse");
    const selector = widgets.has("channelselector");
    this.callUs = widgets.has("callus") || selector ? new CallUs(() => this.actions.start()) : null;
    this.selector =
      selector && this.callUs
        ? new ChannelSelector(
            { chat: () => this.actions.chat?.(), cobrowse: () => this.actions.cobrowseFromChat?.() },
            this.callUs,
          )
        : null;
    const aside = widgets.has("webchat");
    const host = document.createElement("cobrowse-ui");
    host.setAttribute("data-cobrowse-ui", "");
    host.style.cssText = "position:fixed;top:0;left:0;width:0;height:0;overflow:visible;z-index:2147483647;";
    const root = host.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = STYLE;
    this.layer = el("div", "layer");
    this.pointer = el("div", "pointer");
    this.pointer.innerHTML = `${ARROW}<span>Agent</span>`;
    this.layer.appendChild(this.pointer);
    root.append(style, this.layer);
    this.widget = widgets.size > 0 ? el("div", aside ? "widget aside" : "widget") : null;
    if (this.widget) {
      this.widget.setAttribute("role", "region");
      this.widget.setAttribute("aria-label", "Co-browse");
      root.appendChild(this.widget);
    }
    (document.body ?? document.documentElement).appendChild(host);
  }

  /** What the site configured for the widgets (the CallUs phone numbers). */
  setPhones(phones: SupportPhone[]): void {
    this.callUs?.setPhones(phones);
  }

  /** Ready to start; `elsewhere` is the ID of a session live in another tab, if any. */
  showReady(elsewhere: string | null = null): void {
    if (!this.widget) return;
    if (!this.launcher && !this.callUs) {
      // Sessions start from the WebChat: nothing to show until one is live.
      this.widget.replaceChildren();
      return;
    }
    if (!elsewhere && this.selector) {
      this.replaceWidget(this.selector.element());
      return;
    }
    if (!elsewhere) {
      const ready = el("div", "ready");
      if (this.callUs) ready.appendChild(this.callUs.card());
      if (this.launcher) {
        const button = el("button", "launch");
        button.type = "button";
        button.textContent = "Co-browse";
        button.title = "Let the support agent you are talking to see this page";
        button.addEventListener("click", () => this.actions.start());
        ready.appendChild(button);
      }
      this.replaceWidget(ready);
      return;
    }
    const notice = el("div", "notice");
    notice.setAttribute("role", "status");
    notice.textContent =
      `Co-browse session ${formatSessionId(elsewhere)} is live in another tab of this site; ` +
      "the agent sees that tab, not this one.";
    this.replaceWidget(notice);
  }

  /** Co-browse is a ChannelSelector choice only while a chat with an agent is open. */
  offerCobrowse(offered: boolean): void {
    this.selector?.offerCobrowse(offered);
  }

  /** Whether the live session started from the chat (its agent joins from there: no
   * ID to read out on the phone). */
  sessionViaChat(viaChat: boolean): void {
    this.viaChat = viaChat;
  }

  showSession(session: SessionInfo): void {
    if (!this.widget) return;
    const panel = el("div", "panel");
    const text = el("div", "text");
    const label = el("div", "label");
    label.textContent = "Co-browse session ID";
    const id = el("div", "id");
    id.textContent = formatSessionId(session.id);
    id.setAttribute("data-session-id", session.id);
    const state = el("div", "state");
    state.setAttribute("role", "status");
    state.textContent =
      session.state !== "active"
        ? "Read this ID to your agent."
        : session.mode === "write"
          ? "The agent can control this page."
          : "The agent can see this page.";
    text.append(label, id, state);
    if (session.mode === "write") {
      const stop = el("button", "secondary");
      stop.type = "button";
      stop.textContent = "Stop agent control";
      stop.addEventListener("click", () => this.actions.pointerMode());
      text.appendChild(stop);
    }
    const exit = el("button", "exit");
    exit.type = "button";
    exit.textContent = "Exit";
    exit.setAttribute("aria-label", "Exit co-browse session");
    exit.addEventListener("click", () => this.actions.exit());
    panel.append(text, exit);
    this.replaceWidget(this.callUs && !this.viaChat ? this.callUs.dialog(panel) : panel);
  }

  /** Ask the customer whether the agent may act on the page (M2). */
  showWriteRequest(answer: (accepted: boolean) => void): void {
    this.hideWriteRequest();
    if (!this.widget) return;
    const dialog = el("div", "prompt");
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-label", "The agent asks to control this page");
    const text = el("p", "question");
    text.textContent =
      "Your agent asks to control this page: fill in fields, click and scroll for you. " +
      "You can take control back at any time.";
    const allow = el("button", "allow");
    allow.type = "button";
    allow.textContent = "Allow";
    const decline = el("button", "decline");
    decline.type = "button";
    decline.textContent = "Decline";
    allow.addEventListener("click", () => answer(true));
    decline.addEventListener("click", () => answer(false));
    dialog.append(text, allow, decline);
    this.widget.prepend(dialog);
    allow.focus();
  }

  hideWriteRequest(): void {
    this.widget?.querySelector(".prompt")?.remove();
  }

  showEnded(text: string): void {
    this.clearPointer();
    if (!this.widget) return;
    const notice = el("div", "notice");
    notice.setAttribute("role", "alert");
    notice.textContent = text;
    const ok = el("button", "ok");
    ok.type = "button";
    ok.textContent = "OK";
    ok.addEventListener("click", () => this.showReady());
    notice.appendChild(ok);
    this.replaceWidget(notice);
    this.noticeTimer = setTimeout(() => this.showReady(), 8000);
  }

  agentPointer(x: number, y: number): void {
    if (x < 0 || y < 0) {
      this.clearPointer();
      return;
    }
    this.pointer.style.display = "block";
    this.pointer.style.transform = `translate(${x}px, ${y}px)`;
  }

  agentClick(x: number, y: number): void {
    const ripple = el("div", "ripple");
    ripple.style.left = `${x}px`;
    ripple.style.top = `${y}px`;
    ripple.addEventListener("animationend", () => ripple.remove());
    this.layer.appendChild(ripple);
  }

  clearPointer(): void {
    this.pointer.style.display = "none";
  }

  private replaceWidget(content: HTMLElement): void {
    if (this.noticeTimer !== null) {
      clearTimeout(this.noticeTimer);
      this.noticeTimer = null;
    }
    this.widget?.replaceChildren(content);
  }
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  return node;
}
