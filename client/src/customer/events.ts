// Event emitter for window.Cobrowse. A handler must never break the host page or
// us, so every call is guarded. Some events are "sticky": a handler added after
// they happened still gets them (PRODUCT.md §10).

export type Handler = (payload: unknown) => void;

export class Emitter {
  private handlers = new Map<string, Set<Handler>>();
  private sticky = new Map<string, unknown>();

  on(event: string, handler: Handler): void {
    if (typeof handler !== "function") return;
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(handler);
    if (this.sticky.has(event)) {
      const payload = this.sticky.get(event);
      queueMicrotask(() => {
        if (this.handlers.get(event)?.has(handler)) call(handler, payload, event);
      });
    }
  }

  off(event: string, handler: Handler): void {
    this.handlers.get(event)?.delete(handler);
  }

  /** Deliver to current handlers; `stick` keeps it for handlers added later. */
  emit(event: string, payload: unknown, stick = false): void {
    if (stick) this.sticky.set(event, payload);
    for (const handler of [...(this.handlers.get(event) ?? [])]) call(handler, payload, event);
  }

  /** The event no longer describes the present (a session ended). */
  unstick(event: string): void {
    this.sticky.delete(event);
  }
}

function call(handler: Handler, payload: unknown, event: string): void {
  try {
    handler(payload);
  } catch (error) {
    console.error(`cobrowse: a "${event}" handler threw`, error);
  }
}
