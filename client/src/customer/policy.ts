// The restriction policy of the current page (PRODUCT.md §5): what is masked and
// what the agent may not operate. One instance is shared by the capture (masking)
// and the agent control (refusals), so both always apply the same rules.

/** Always masked, whatever the configuration (R3). rrweb marks a password field whose
 * type a "show password" toggle changed with data-rr-is-password. */
const PASSWORDS = 'input[type="password" i], input[data-rr-is-password]';
/** Payment card fields: masked unless the site switches it off (R3). */
const PAYMENT_CARDS = '[autocomplete^="cc-" i]';
/** Submit controls: disabled for the agent unless the site switches it off (R4). */
export const SUBMIT_CONTROLS =
  'input[type="submit" i], input[type="image" i], button[type="submit" i], form button:not([type])';

export interface PolicySettings {
  maskPaymentCards: boolean;
  disableSubmit: boolean;
  mask: string[];
  disable: string[];
}

export const DEFAULT_SETTINGS: PolicySettings = {
  maskPaymentCards: true,
  disableSubmit: true,
  mask: [],
  disable: [],
};

export class RestrictionPolicy {
  private maskSelector = PASSWORDS;
  private disableSelector: string | null = null;
  private submitDisabled = true;

  constructor(settings: PolicySettings = DEFAULT_SETTINGS) {
    this.update(settings);
  }

  update(settings: PolicySettings): void {
    const mask = [PASSWORDS, ...(settings.maskPaymentCards ? [PAYMENT_CARDS] : []), ...settings.mask.filter(valid)];
    this.maskSelector = mask.join(", ");
    const disable = [...(settings.disableSubmit ? [SUBMIT_CONTROLS] : []), ...settings.disable.filter(valid)];
    this.disableSelector = disable.length ? disable.join(", ") : null;
    this.submitDisabled = settings.disableSubmit;
  }

  /** The selectors, for the agent's view to show what is masked or unavailable. */
  get selectors(): { mask: string; disable: string | null } {
    return { mask: this.maskSelector, disable: this.disableSelector };
  }

  /** The outermost masked elements of the page (their insides are masked with them). */
  maskedElements(): Element[] {
    return [...document.querySelectorAll(this.maskSelector)].filter(
      (element) => !element.parentElement?.closest(this.maskSelector) && !element.closest("[data-cobrowse-ui]"),
    );
  }

  /** Whether the agent may submit forms in any way (R4: not by default). */
  get agentMaySubmit(): boolean {
    return !this.submitDisabled;
  }

  /** A field whose value, or an element whose text, never leaves the browser. */
  isMasked(element: Element): boolean {
    return element.closest(this.maskSelector) !== null;
  }

  /** An element the agent may not click, type into or change. */
  isDisabled(element: Element): boolean {
    return this.disableSelector !== null && element.closest(this.disableSelector) !== null;
  }

  isSubmitControl(element: Element): boolean {
    return element.closest(SUBMIT_CONTROLS) !== null;
  }
}

function valid(selector: string): boolean {
  try {
    document.createDocumentFragment().querySelector(selector);
    return true;
  } catch {
    console.warn(`cobrowse: ignoring invalid restriction selector ${JSON.stringify(selector)}`);
    return false;
  }
}
