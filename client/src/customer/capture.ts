// Capture of the page with rrweb, with masking applied before anything leaves the
// browser (PRODUCT.md R1, R3).

import { record } from "rrweb";
import type { eventWithTime } from "@rrweb/types";
import type { MaskInputOptions } from "rrweb-snapshot";
import { ImageInliner, StylesheetInliner } from "./inline";
import { MASK_PLACEHOLDER, Scrubber } from "./masking";
import type { RestrictionPolicy } from "./policy";


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
  textarea: true,
  select: true,
  // Not in rrweb's type, but its lookup is by input type: a hidden input matching a
  // mask rule is masked too.
  hidden: true,
} as MaskInputOptions;

/** The custom rrweb event carrying the selectors of the current restrictions. */
export const RESTRICTIONS_EVENT = "cobrowse-restrictions";

/** Elements of cobrowse's own UI: never captured. */
export const OWN_UI_SELECTOR = "[data-cobrowse-ui]";

export class PageCapture {
  private stop: (() => void) | null = null;
  private readonly scrubber: Scrubber;
  private readonly inliner: ImageInliner;
  private readonly stylesheets: StylesheetInliner;

  /** `proxied` tells whether the resource proxy fetches a URL; images it does not
   * are sent inline when the page can read them (see inline.ts). */
  constructor(
    private readonly policy: RestrictionPolicy,
    private readonly emit: (event: eventWithTime) => void,
    proxied: () => (url: URL) => boolean,
  ) {
    this.scrubber = new Scrubber(
      (element) => policy.isMasked(element),
      (id) => record.mirror.getNode(id),
    );
    this.inliner = new ImageInliner(
      proxied,
      (element) => policy.isMasked(element),
      (id) => record.mirror.getNode(id),
      emit,
    );
    this.stylesheets = new StylesheetInliner(proxied, (id) => record.mirror.getNode(id), emit);
  }

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
      this.snapshot();
      return;
    }
    const stop = record({
      emit: (event) => {
        const scrubbed = this.scrubber.scrubEvent(event);
        const inlined = this.inliner.after(scrubbed);
        this.emit(scrubbed);
        for (const image of inlined) this.emit(image);
        this.stylesheets.after(scrubbed);
      },
      // maskInputFn makes the mask constant-length (rrweb's default keeps the length).
      maskInputOptions: TEXT_LIKE_INPUTS,
      maskInputFn: (text, element) => {
        if (!this.policy.isMasked(element)) return text;
        return text ? MASK_PLACEHOLDER : "";
      },
      // Every text node is offered to maskTextFn, which asks the policy: rules can
      // change during a session, and rrweb reads maskTextSelector only once.
      maskTextSelector: "*",
      maskTextFn: (text, element) =>
        element && this.policy.isMasked(element) && text.trim() ? MASK_PLACEHOLDER : text,
      blockSelector: OWN_UI_SELECTOR,
      // Scripts, comments and head noise are useless to the agent (and never run there).
      slimDOMOptions: "all",
      // The pointer is sent separately, at a steadier rate than rrweb's 500 ms flush.
      // Every keystroke is sent as it happens: the agent watches the customer type.
      sampling: { mousemove: false, scroll: 50 },
      recordCanvas: false,
      collectFonts: false,
      // The text of every stylesheet the page can read (same origin or CORS), which
      // is what the customer sees, even when the proxy could not fetch it (an
      // intranet host, a stylesheet behind a sign-in). The server rewrites the
      // url()s in it. Images: see inline.ts; rrweb's inlineImages would inline them
      // all, and would not ask the masking rules.
      inlineStylesheet: true,
      inlineImages: false,
      errorHandler: (error) => {
        console.warn("cobrowse: capture error", error);
        return true;
      },
    });
    this.stop = stop ?? null;
    this.announceRestrictions();
  }

  /** A fresh full snapshot: an agent view is being rebuilt, or the rules changed. */
  snapshot(): void {
    if (!this.stop) {
      this.start();
      return;
    }
    record.takeFullSnapshot(true);
    this.announceRestrictions();
  }

  /** Tell the agent's view which elements to show as masked or unavailable. */
  private announceRestrictions(): void {
    if (this.stop) record.addCustomEvent(RESTRICTIONS_EVENT, this.policy.selectors);
  }

  halt(): void {
    this.stop?.();
    this.stop = null;
  }
}
