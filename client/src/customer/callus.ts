// The CallUs widget (PRODUCT.md P3): the site's support phone numbers and a
// "Browse with you" link. On the phone with an agent, the customer presses it and
// reads the session ID in the dialog to the agent, who types it in the console.
// It is drawn in CustomerUI's shadow root, so the site's CSS cannot reach it and
// the recorder sends nothing of it.

export interface SupportPhone {
  /** As people read it, like "+1 555 0100". */
  number: string;
  label: string | null;
  /** The dialable form, like "+15550100". */
  tel: string;
}

export const CALLUS_STYLE = `
.callus { background: #fff; border-radius: 14px; padding: 12px 14px; box-shadow: 0 6px 24px rgba(0,0,0,.22);
  max-width: 300px; }
.callus h2 { font-size: 15px; margin: 0 0 6px; }
.callus ul { list-style: none; margin: 0 0 8px; padding: 0; }
.callus li { margin: 2px 0; }
.callus a { color: #1b1b1f; font-weight: 700; text-decoration: none; }
.callus a:hover { text-decoration: underline; }
.callus .phone-label { color: #55556a; font-size: 12px; margin-left: 6px; }
.callus .browse { font: inherit; background: none; border: 0; padding: 0; color: #7b2ff7; cursor: pointer;
  text-decoration: underline; font-weight: 600; }
.callus .hint { font-size: 12px; color: #55556a; margin: 2px 0 0; }
.callus-dialog { background: #fff; border: 2px solid #7b2ff7; border-radius: 14px; padding: 10px 12px;
  box-shadow: 0 6px 24px rgba(0,0,0,.22); max-width: 340px; }
.callus-dialog p { margin: 0 0 6px; }
.callus-dialog .panel { box-shadow: none; padding: 0; }
`;

/** Keeps only well-formed numbers from the server's answer. */
export function supportPhones(value: unknown): SupportPhone[] {
  if (!Array.isArray(value)) return [];
  const phones: SupportPhone[] = [];
  for (const entry of value as unknown[]) {
    if (!entry || typeof entry !== "object") continue;
    const { number, label, tel } = entry as Record<string, unknown>;
    if (typeof number !== "string" || typeof tel !== "string" || !/^\+?\d+$/.test(tel)) continue;
    phones.push({ number, label: typeof label === "string" ? label : null, tel });
  }
  return phones;
}

export class CallUs {
  private phones: SupportPhone[] = [];

  constructor(private readonly start: () => void) {}

  setPhones(phones: SupportPhone[]): void {
    this.phones = phones;
    if (phones.length === 0) {
      console.warn(
        "cobrowse: the CallUs widget has no phone number to show; an administrator adds one with: " +
          'cobrowse sites phones NAME --add "+1 555 0100"',
      );
    }
  }

  /** The widget while no session is live: the numbers and the link. */
  card(): HTMLElement {
    const card = el("div", "callus");
    card.setAttribute("role", "region");
    card.setAttribute("aria-label", "Call us");
    const title = el("h2", "title");
    title.textContent = "Call us";
    card.appendChild(title);
    if (this.phones.length > 0) {
      const list = el("ul", "phones");
      for (const phone of this.phones) {
        const item = el("li", "phone");
        const link = el("a", "number");
        link.href = `tel:${phone.tel}`;
        link.textContent = phone.number;
        item.appendChild(link);
        if (phone.label) {
          const label = el("span", "phone-label");
          label.textContent = phone.label;
          item.appendChild(label);
        }
        list.appendChild(item);
      }
      card.appendChild(list);
    }
    const browse = el("button", "browse");
    browse.type = "button";
    browse.textContent = "Browse with you";
    browse.addEventListener("click", () => this.start());
    const hint = el("p", "hint");
    hint.textContent = "On the phone with us? Our agent can see this page with you.";
    card.append(browse, hint);
    return card;
  }

  /** The live session, in a dialog: the ID to read out on the phone, and Exit. */
  dialog(panel: HTMLElement): HTMLElement {
    const dialog = el("div", "callus-dialog");
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-label", "Co-browse session ID");
    const text = el("p", "read-out");
    text.textContent = "Read this session ID to the agent on the phone:";
    dialog.append(text, panel);
    return dialog;
  }
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  return node;
}
