// Capture of the page with rrweb, with masking applied before anything leaves the
// browser (PRODUCT.md R1, R3).

import { record } from "rrweb";
import type { eventWithTime } from "@rrweb/types";
import type { RestrictionPolicy } from "./policy";

/** What a masked value looks like on the wire: constant, so not even the length leaks. */
export const MASK_PLACEHOLDER = "••••••••";

// rrweb only consults maskInputFn for the field kinds switched on here; switching
// all text-like inputs on hands every decision to the policy.
const TEXT_LIKE_INPUTS = {
  color: true,
  date: true,
  "datetime-local": true,
  email: true,
  month: true,
  number: true,
  range: true,
  search: true,
  tel: true,
  text: true,
  time: true,
  url: true,
  week: true,
  password: true,
} as const;

/** Elements of cobrowse's own UI: never captured. */
export const OWN_UI_SELECTOR = "[data-cobrowse-ui]";

export class PageCapture {
  private stop: (() => void) | null = null;

  constructor(
    private readonly policy: RestrictionPolicy,
    private readonly emit: (event: eventWithTime) => void,
  ) {}

  /** The mirror's node ids, the same numbers the agent's view uses. */
  nodeById(id: number): Node | null {
    return record.mirror.getNode(id);
  }

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
      // maskInputFn makes the mask constant-length (rrweb's default keeps the length).
      maskInputOptions: TEXT_LIKE_INPUTS,
      maskInputFn: (text, element) => {
        if (!this.policy.isMasked(element)) return text;
        return text ? MASK_PLACEHOLDER : "";
      },
      blockSelector: OWN_UI_SELECTOR,
      // Scripts, comments and head noise are useless to the agent (and never run there).
      slimDOMOptions: "all",
      // The pointer is sent separately, at a steadier rate than rrweb's 500 ms flush.
      // Every keystroke is sent as it happens: the agent watches the customer type.
      sampling: { mousemove: false, scroll: 50 },
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
