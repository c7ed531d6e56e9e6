// The live view of the customer's page: an rrweb Replayer in a sandboxed iframe
// (no scripts), rebuilt from every full snapshot, scaled to fit the console, with
// a transparent overlay on top that captures the agent's pointer and clicks.

import { Replayer } from "rrweb";
import { EventType, type eventWithTime } from "@rrweb/types";
import { POINTER_AWAY, throttle, type ActFrame } from "../shared/protocol";

const POINTER_INTERVAL_MS = 40;
const RESTRICTIONS_EVENT = "cobrowse-restrictions";
const RESTRICTION_STYLE_ID = "cobrowse-restriction-style";

interface RestrictionSelectors {
  mask: string;
  disable: string | null;
}

/**
 * Milliseconds on a clock that never steps: rrweb's timer advances with
 * performance.now(), so stamping with Date.now() would stall the view for as long
 * as the wall clock jumped forward.
 */
function monotonicNow(): number {
  return performance.timeOrigin + performance.now();
}

export interface ViewInput {
  pointer(x: number, y: number): void;
  /** A pointer-mode click: a ripple on the customer's page, nothing more. */
  click(x: number, y: number): void;
  /** A write-mode action, performed on the customer's page. */
  act(action: Omit<ActFrame, "v" | "t">): void;
  /** The customer's page changed (its address, from the recording's meta event). */
  page(href: string): void;
}

export class MirrorView {
  private replayer: Replayer | null = null;
  private pendingMeta: eventWithTime | null = null;
  private size = { width: 0, height: 0 };
  private scale = 1;
  private readonly surface: HTMLElement;
  private readonly overlay: HTMLElement;
  private readonly customerPointer: HTMLElement;
  private readonly picker: HTMLElement;
  private writeMode = false;
  private restrictionStyle = "";
  /** The agent last clicked into the view: its key presses go to the customer's page. */
  private typing = false;

  constructor(
    private readonly container: HTMLElement,
    private readonly stage: HTMLElement,
    private readonly input: ViewInput,
  ) {
    this.surface = document.createElement("div");
    this.surface.className = "surface";
    this.overlay = document.createElement("div");
    this.overlay.className = "overlay";
    this.customerPointer = document.createElement("div");
    this.customerPointer.className = "customer-pointer";
    this.customerPointer.setAttribute("data-testid", "customer-pointer");
    this.customerPointer.innerHTML = "<span>Customer</span>";
    this.customerPointer.hidden = true;
    this.picker = document.createElement("div");
    this.picker.className = "option-picker";
    this.picker.setAttribute("role", "listbox");
    this.picker.hidden = true;
    this.overlay.append(this.customerPointer, this.picker);
    this.stage.append(this.surface, this.overlay);
    this.stage.hidden = true;

    const sendPointer = throttle(POINTER_INTERVAL_MS, input.pointer);
    this.overlay.addEventListener("mousemove", (event) => {
      const point = this.toPage(event);
      sendPointer(point.x, point.y);
    });
    this.overlay.addEventListener("mouseleave", () => sendPointer(POINTER_AWAY, POINTER_AWAY));
    this.overlay.addEventListener("click", (event) => {
      if (event.target !== this.overlay) return; // a click in the option picker
      const point = this.toPage(event);
      if (!this.writeMode) {
        input.click(point.x, point.y);
        return;
      }
      this.picker.hidden = true;
      this.typing = true;
      const target = this.targetAt(point);
      // The mirror's nodes belong to the iframe's window: instanceof would fail.
      if (target?.tagName === "SELECT") {
        this.pick(target as HTMLSelectElement, input);
        return;
      }
      input.act({ a: "click", id: this.idOf(target), x: point.x, y: point.y });
    });
    this.overlay.addEventListener(
      "wheel",
      (event) => {
        if (!this.writeMode) return;
        event.preventDefault();
        const point = this.toPage(event);
        const scroller = this.scrollerAt(point);
        if (!scroller) return;
        input.act({
          a: "scroll",
          id: scroller.element ? this.idOf(scroller.element) : undefined,
          top: Math.max(0, scroller.top + event.deltaY),
          left: Math.max(0, scroller.left + event.deltaX),
        });
      },
      { passive: false },
    );
    document.addEventListener("mousedown", (event) => {
      if (!this.overlay.contains(event.target as Node)) this.typing = false;
    });
    document.addEventListener("keydown", (event) => {
      if (!this.writeMode || !this.typing || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "Escape") {
        this.typing = false;
        return;
      }
      event.preventDefault();
      input.act({ a: "key", key: event.key, shift: event.shiftKey });
    });
    new ResizeObserver(() => this.fit()).observe(this.container);
  }

  get showing(): boolean {
    return this.replayer !== null;
  }

  /** Feed one rrweb event from the customer's page. */
  add(event: eventWithTime): void {
    // The customer's clock is not ours: restamp on receipt so the live replayer
    // applies every event at once instead of scheduling it by a skewed time.
    event.timestamp = monotonicNow();
    if (event.type === EventType.Meta) {
      this.pendingMeta = event;
      this.input.page((event.data as { href: string }).href);
      return;
    }
    if (event.type === EventType.FullSnapshot) {
      this.rebuild(event);
      return;
    }
    this.replayer?.addEvent(event);
  }

  /** In write mode the agent's clicks, keys and wheel act on the customer's page. */
  setWriteMode(on: boolean): void {
    this.writeMode = on;
    this.typing = this.typing && on;
    this.picker.hidden = true;
    this.overlay.classList.toggle("write", on);
  }

  showCustomerPointer(x: number, y: number): void {
    if (x < 0 || y < 0 || !this.replayer) {
      this.customerPointer.hidden = true;
      return;
    }
    this.customerPointer.hidden = false;
    this.customerPointer.style.transform = `translate(${x * this.scale}px, ${y * this.scale}px)`;
  }

  clear(): void {
    this.replayer?.destroy();
    this.replayer = null;
    this.pendingMeta = null;
    this.surface.replaceChildren();
    this.customerPointer.hidden = true;
    this.stage.hidden = true;
  }

  private rebuild(snapshot: eventWithTime): void {
    this.replayer?.destroy();
    this.surface.replaceChildren();
    const replayer = new Replayer([], {
      root: this.surface,
      liveMode: true,
      mouseTail: false,
      showWarning: false,
      showDebug: false,
      triggerFocus: false,
      pauseAnimation: false,
    });
    replayer.on("resize", (dimension) => {
      const { width, height } = dimension as { width: number; height: number };
      this.size = { width, height };
      this.fit();
    });
    replayer.on("custom-event", (event) => {
      const { tag, payload } = (event as { data: { tag: string; payload: unknown } }).data;
      if (tag === RESTRICTIONS_EVENT) this.showRestrictions(payload as RestrictionSelectors);
    });
    replayer.iframe.title = "Customer view";
    replayer.startLive(monotonicNow());
    if (this.pendingMeta) replayer.addEvent(this.pendingMeta);
    replayer.addEvent(snapshot);
    this.replayer = replayer;
    this.stage.hidden = false;
    this.fit();
  }

  private fit(): void {
    const { width, height } = this.size;
    if (!this.replayer || !width || !height) return;
    const style = getComputedStyle(this.container);
    const availableWidth =
      this.container.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const availableHeight =
      this.container.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    this.scale = Math.min(1, availableWidth / width, Math.max(availableHeight, 200) / height);
    const wrapper = this.replayer.wrapper;
    wrapper.style.transformOrigin = "0 0";
    wrapper.style.transform = `scale(${this.scale})`;
    this.stage.style.width = `${width * this.scale}px`;
    this.stage.style.height = `${height * this.scale}px`;
  }

  /** Masked elements look masked and disabled ones unavailable, as on the customer's
   * side (R1, R4): the same selectors, applied to the mirror's copy of the page. */
  private showRestrictions(selectors: RestrictionSelectors): void {
    const rules = [
      `${selectors.mask} { outline: 2px dashed #7b2ff7 !important; outline-offset: 1px !important; }`,
    ];
    if (selectors.disable) {
      rules.push(
        `${selectors.disable} { opacity: .45 !important; filter: grayscale(1) !important; ` +
          "cursor: not-allowed !important; outline: 2px dashed #e5484d !important; }",
      );
    }
    this.restrictionStyle = rules.join("\n");
    const doc = this.mirrorDocument;
    if (!doc?.head) return;
    let style = doc.getElementById(RESTRICTION_STYLE_ID);
    if (!style) {
      style = doc.createElement("style");
      style.id = RESTRICTION_STYLE_ID;
      doc.head.appendChild(style);
    }
    style.textContent = this.restrictionStyle;
  }

  private get mirrorDocument(): Document | null {
    return this.replayer?.iframe.contentDocument ?? null;
  }

  private targetAt(point: { x: number; y: number }): Element | null {
    return this.mirrorDocument?.elementFromPoint(point.x, point.y) ?? null;
  }

  private idOf(node: Node | null): number | undefined {
    if (!node || !this.replayer) return undefined;
    const id = this.replayer.getMirror().getId(node);
    return id > 0 ? id : undefined;
  }

  /** The element the wheel would scroll at this point: an inner panel or the page. */
  private scrollerAt(point: { x: number; y: number }): { element: Element | null; top: number; left: number } | null {
    const doc = this.mirrorDocument;
    if (!doc) return null;
    for (let element = this.targetAt(point); element && element !== doc.documentElement; element = element.parentElement) {
      if (element === doc.body) break;
      const style = doc.defaultView?.getComputedStyle(element);
      const scrollable =
        (element.scrollHeight > element.clientHeight && /(auto|scroll)/.test(style?.overflowY ?? "")) ||
        (element.scrollWidth > element.clientWidth && /(auto|scroll)/.test(style?.overflowX ?? ""));
      if (scrollable) return { element, top: element.scrollTop, left: element.scrollLeft };
    }
    const page = doc.scrollingElement ?? doc.documentElement;
    return { element: null, top: page.scrollTop, left: page.scrollLeft };
  }

  /** A <select> cannot open inside the sandboxed view: list its options here. */
  private pick(select: HTMLSelectElement, input: ViewInput): void {
    const id = this.idOf(select);
    const box = select.getBoundingClientRect();
    this.picker.replaceChildren(
      ...[...select.options].map((option) => {
        const choice = document.createElement("button");
        choice.type = "button";
        choice.setAttribute("role", "option");
        choice.setAttribute("aria-selected", String(option.selected));
        choice.textContent = option.text;
        choice.addEventListener("click", () => {
          this.picker.hidden = true;
          input.act({ a: "select", id, value: option.value });
        });
        return choice;
      }),
    );
    this.picker.style.left = `${box.left * this.scale}px`;
    this.picker.style.top = `${box.bottom * this.scale}px`;
    this.picker.style.minWidth = `${box.width * this.scale}px`;
    this.picker.hidden = false;
  }

  private toPage(event: MouseEvent): { x: number; y: number } {
    const box = this.overlay.getBoundingClientRect();
    return {
      x: Math.round(((event.clientX - box.left) / this.scale) * 10) / 10,
      y: Math.round(((event.clientY - box.top) / this.scale) * 10) / 10,
    };
  }
}
