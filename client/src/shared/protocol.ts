// The wire protocol (see src/cobrowse/core/protocol.py, which is the reference).
// Every frame is a JSON object {"v": 1, "t": <type>, ...}.

export const PROTOCOL_VERSION = 1;

export const CLOSE_BAD_MESSAGE = 4400;
export const CLOSE_UNAUTHENTICATED = 4401;
export const CLOSE_REPLACED = 4409;
export const CLOSE_ENDED = 4000;

export type SessionState = "idle" | "active" | "ended";
export type Mode = "pointer" | "write";

export interface SessionInfo {
  id: string;
  state: SessionState;
  mode: Mode;
}

/** An agent action to perform on the customer's page (forwarded only in write mode). */
export interface ActFrame {
  v: 1;
  t: "act";
  a: "click" | "key" | "select" | "scroll" | "navigate";
  /** rrweb node id of the target: the same number on both sides. */
  id?: number;
  x?: number;
  y?: number;
  key?: string;
  shift?: boolean;
  value?: string;
  top?: number;
  left?: number;
  nav?: "back" | "forward" | "reload" | "url";
  url?: string;
}

export interface ModeFrame {
  v: 1;
  t: "mode";
  mode: Mode;
  by: "agent" | "customer";
}

export interface RefusedFrame {
  v: 1;
  t: "refused";
  code: string;
  text: string;
}

export interface PointerFrame {
  v: 1;
  t: "pointer";
  x: number;
  y: number;
}

export interface ClickFrame {
  v: 1;
  t: "click";
  x: number;
  y: number;
}

export interface StreamFrame {
  v: 1;
  t: "stream";
  e: unknown;
}

export interface EndedFrame {
  v: 1;
  t: "ended";
  reason: string;
  text: string;
}

export interface ErrorFrame {
  v: 1;
  t: "error";
  code: string;
  text: string;
}

/** A web chat message, as both sides see it. `session` is set on a co-browse request. */
export interface ChatMessage {
  id: number;
  sender: "customer" | "agent" | "system";
  author: string | null;
  text: string;
  session: string | null;
  at: string;
}

/** A web chat, as the agent console lists it. */
export interface ChatSummary {
  id: string;
  site: string | null;
  customer: string | null;
  agent: string | null;
  state: "open" | "ended";
  at: string;
}

export interface ChatMessageFrame {
  v: 1;
  t: "chat_message";
  id: string;
  message: ChatMessage;
}

export interface ChatEndedFrame {
  v: 1;
  t: "chat_ended";
  id: string;
  by: "customer" | "agent" | "system";
  text: string;
}

/** What the server sends on the customer's chat socket (/ws/chat). */
export type ToChatCustomer =
  | {
      v: 1;
      t: "chat";
      id: string;
      state: "queued" | "active" | "ended";
      agent: string | null;
      messages: ChatMessage[];
      token?: string | null;
    }
  | { v: 1; t: "chat_accepted"; id: string; agent: string }
  | ChatMessageFrame
  | ChatEndedFrame
  | ErrorFrame;

export type ToCustomer =
  | { v: 1; t: "session"; session: SessionInfo; resume?: string | null }
  | { v: 1; t: "restrictions"; restrictions: import("../customer/restrictions").SiteRestrictions }
  | { v: 1; t: "agent_joined" }
  | { v: 1; t: "snapshot" }
  | { v: 1; t: "write_request" }
  | ModeFrame
  | ActFrame
  | PointerFrame
  | ClickFrame
  | EndedFrame
  | ErrorFrame;

export type ToAgent =
  | { v: 1; t: "hello"; agent: string; session: SessionInfo | null }
  | { v: 1; t: "joined"; session: SessionInfo }
  | { v: 1; t: "write_declined"; text: string }
  | { v: 1; t: "customer_away" }
  | { v: 1; t: "customer_back" }
  | { v: 1; t: "chats"; queue: ChatSummary[]; mine: ChatSummary[] }
  | { v: 1; t: "chat_history"; chat: ChatSummary; messages: ChatMessage[] }
  | ChatMessageFrame
  | ChatEndedFrame
  | ModeFrame
  | RefusedFrame
  | StreamFrame
  | PointerFrame
  | EndedFrame
  | ErrorFrame;

/** The WebSocket URL of a path on the cobrowse server at `base`. */
export function socketUrl(path: string, base: string | URL): URL {
  const url = new URL(path, base);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url;
}

/** A pointer position outside the page: the party's mouse left the view. */
export const POINTER_AWAY = -1;

export function parseFrame<T>(data: unknown): T | null {
  if (typeof data !== "string") return null;
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value === "object" && value !== null && (value as { v?: unknown }).v === PROTOCOL_VERSION) {
      return value as T;
    }
  } catch {
    // fall through: not ours
  }
  return null;
}

/** Calls fn at most once per `ms`, always delivering the latest arguments. */
export function throttle<A extends unknown[]>(ms: number, fn: (...args: A) => void): (...args: A) => void {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending: A | null = null;
  return (...args: A) => {
    pending = args;
    const wait = last + ms - Date.now();
    if (wait <= 0) {
      last = Date.now();
      pending = null;
      fn(...args);
    } else if (timer === null) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        if (pending) {
          const latest = pending;
          pending = null;
          fn(...latest);
        }
      }, wait);
    }
  };
}
