// The live view of the customer's page: an rrweb Replayer in a sandboxed iframe
// (no scripts), rebuilt from every full snapshot, scaled to fit the console, with
// a transparent overlay on top that captures the agent's pointer and clicks.

import { Replayer } from "rrweb";
import { EventType, type eventWithTime } from "@rrweb/types";
import { POINTER_AWAY, throttle } from "../shared/protocol";

const POINTER_INTERVAL_MS = 40;

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
  click(x: number, y: number): void;
}

export class MirrorView {
  private replayer: Replayer | null = null;
  private pendingMeta: eventWithTime | null = null;
  private size = { width: 0, height: 0 };
  private scale = 1;
  private readonly surface: HTMLElement;
  private readonly overlay: HTMLElement;
  private readonly customerPointer: HTMLElement;

  constructor(
    private readonly container: HTMLElement,
    private readonly stage: HTMLElement,
    input: ViewInput,
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
    this.overlay.appendChild(this.customerPointer);
    this.stage.append(this.surface, this.overlay);
    this.stage.hidden = true;

    const sendPointer = throttle(POINTER_INTERVAL_MS, input.pointer);
    this.overlay.addEventListener("mousemove", (event) => {
      const point = this.toPage(event);
      sendPointer(point.x, point.y);
    });
    this.overlay.addEventListener("mouseleave", () => sendPointer(POINTER_AWAY, POINTER_AWAY));
    this.overlay.addEventListener("click", (event) => {
      const point = this.toPage(event);
      input.click(point.x, point.y);
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
      return;
    }
    if (event.type === EventType.FullSnapshot) {
      this.rebuild(event);
      return;
    }
    this.replayer?.addEvent(event);
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

  private toPage(event: MouseEvent): { x: number; y: number } {
    const box = this.overlay.getBoundingClientRect();
    return {
      x: Math.round(((event.clientX - box.left) / this.scale) * 10) / 10,
      y: Math.round(((event.clientY - box.top) / this.scale) * 10) / 10,
    };
  }
}
