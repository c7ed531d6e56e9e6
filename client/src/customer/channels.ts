// The built-in ChannelSelector widget (PRODUCT.md P3): one "Contact us" button that
// lets the customer choose how to reach support: chat (the WebChat), call (the CallUs
// card: the numbers and "Browse with you"), or co-browse, offered only while an
// interaction is open (a chat an agent has accepted: S2). It is drawn inside the
// CustomerUI's shadow root, like the other built-in widgets.

import type { CallUs } from "./callus";

export const CHANNELS_STYLE = `
.channels { display: flex; flex-direction: column; align-items: flex-start; gap: 8px; }
.channels .chooser { background: #fff; border-radius: 14px; padding: 12px 14px; box-shadow: 0 6px 24px rgba(0,0,0,.22);
  display: flex; flex-direction: column; gap: 8px; min-width: 220px; }
.channels .chooser p { margin: 0; font-weight: 600; }
.channels .choice { font: inherit; cursor: pointer; border: 0; border-radius: 999px; padding: 8px 14px;
  font-weight: 600; background: #ececf4; color: #1b1b1f; text-align: left; }
.channels .choice.cobrowse { background: #7b2ff7; color: #fff; }
.channels .back { font: inherit; cursor: pointer; border: 0; background: #fff; color: #7b2ff7; padding: 4px 12px;
  border-radius: 999px; box-shadow: 0 2px 8px rgba(0,0,0,.18); }
`;

type View = "closed" | "choosing" | "calling";

export interface ChannelActions {
  /** Open the WebChat panel. */
  chat(): void;
  /** Start a co-browse session bound to the open chat. */
  cobrowse(): void;
}

export class ChannelSelector {
  private view: View = "closed";
  private cobrowseOffered = false;
  private readonly root: HTMLElement;

  constructor(
    private readonly actions: ChannelActions,
    private readonly callUs: CallUs,
  ) {
    this.root = el("div", "channels");
    this.root.setAttribute("role", "region");
    this.root.setAttribute("aria-label", "Contact us");
    this.render();
  }

  /** The widget, for the CustomerUI to place while no session is live. */
  element(): HTMLElement {
    return this.root;
  }

  /** Co-browse is a choice only while an interaction is open (a chat with an agent). */
  offerCobrowse(offered: boolean): void {
    if (offered === this.cobrowseOffered) return;
    this.cobrowseOffered = offered;
    this.render();
  }

  private show(view: View): void {
    this.view = view;
    this.render();
  }

  private render(): void {
    const launch = el("button", "launch");
    launch.type = "button";
    launch.textContent = "Contact us";
    launch.setAttribute("aria-expanded", String(this.view !== "closed"));
    launch.addEventListener("click", () => this.show(this.view === "closed" ? "choosing" : "closed"));
    if (this.view === "closed") {
      this.root.replaceChildren(launch);
    } else if (this.view === "calling") {
      const back = el("button", "back");
      back.type = "button";
      back.textContent = "← Other ways to reach us";
      back.addEventListener("click", () => this.show("choosing"));
      this.root.replaceChildren(this.callUs.card(), back, launch);
    } else {
      this.root.replaceChildren(this.chooser(), launch);
    }
  }

  private chooser(): HTMLElement {
    const chooser = el("div", "chooser");
    const question = el("p", "question");
    question.textContent = "How would you like to reach us?";
    const chat = choice("Chat", "Chat with an agent here", () => {
      this.show("closed");
      this.actions.chat();
    });
    const call = choice("Call", "Our phone numbers, and co-browse while you are on the phone", () =>
      this.show("calling"),
    );
    chooser.append(question, chat, call);
    if (this.cobrowseOffered) {
      const cobrowse = choice("Co-browse", "Let the agent you are chatting with see this page", () => {
        this.show("closed");
        this.actions.cobrowse();
      });
      cobrowse.classList.add("cobrowse");
      chooser.appendChild(cobrowse);
    }
    return chooser;
  }
}

function choice(name: string, title: string, pick: () => void): HTMLButtonElement {
  const button = el("button", "choice");
  button.type = "button";
  button.textContent = name;
  button.title = title;
  button.addEventListener("click", pick);
  return button;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  return node;
}
