// Capture of the page with rrweb, with masking applied before anything leaves the
// browser (PRODUCT.md R1, R3).

import { record } from "rrweb";
import type { eventWithTime } from "@rrweb/types";

/** What a masked value looks like on the wire: constant, so not even the length leaks. */
export const MASK_PLACEHOLDER = "••••••••";

/** Elements of cobrowse's own UI: never captured. */
export const OWN_UI_SELECTOR = "[data-cobrowse-ui]";

export class PageCapture {
  private stop: (() => void) | null = null;

  constructor(private readonly emit: (event: eventWithTime) => void) {}

  get running(): boolean {
    return this.stop !== null;
  }

  /** Start recording; the first events are a full snapshot of the page. */
  start(): void {
    if (this.stop) {
      record.takeFullSnapshot(true);
      return;
    }
    const stop = record({
      emit: (event) => this.emit(event),
      // Passwords are always masked (R3); maskInputFn makes the mask constant-length.
      maskInputOptions: { password: true },
      maskInputFn: (text) => (text ? MASK_PLACEHOLDER : ""),
      blockSelector: OWN_UI_SELECTOR,
      // Scripts, comments and head noise are useless to the agent (and never run there).
      slimDOMOptions: "all",
      // The pointer is sent separately, at a steadier rate than rrweb's 500 ms flush.
      sampling: { mousemove: false, scroll: 50, input: "last" },
      recordCanvas: false,
      collectFonts: false,
      inlineStylesheet: true,
      errorHandler: (error) => {
        console.warn("cobrowse: capture error", error);
        return true;
      },
    });
    this.stop = stop ?? null;
  }

  /** Ask for a fresh full snapshot (an agent view is being rebuilt). */
  snapshot(): void {
    if (this.stop) record.takeFullSnapshot(true);
    else this.start();
  }

  halt(): void {
    this.stop?.();
    this.stop = null;
  }
}
