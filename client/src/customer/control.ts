// Performing the agent's actions on the customer's page (write mode, PRODUCT.md M2),
// after checking the restrictions (R1, R4) before every single action. Everything
// happens here, in the customer's browser: the agent never touches the website.

import type { ActFrame } from "../shared/protocol";
import type { RestrictionPolicy } from "./policy";

export interface Refusal {
  code: string;
  text: string;
}

const REFUSE_MASKED: Refusal = {
  code: "masked",
  text: "This field is hidden from you, so you cannot type in it.",
};
const REFUSE_DISABLED: Refusal = {
  code: "disabled",
  text: "This part of the page is not available to the agent.",
};
const REFUSE_OTHER_SITE: Refusal = {
  code: "cross_site",
  text: "Only pages of the customer's website can be opened.",
};
const REFUSE_SUBMIT: Refusal = {
  code: "submit_disabled",
  text: "Only the customer can submit this form.",
};

type NodeLookup = (id: number) => Node | null;

type TextField = HTMLInputElement | HTMLTextAreaElement;

const EDITING_KEYS = new Set(["Backspace", "Delete", "ArrowLeft", "ArrowRight", "Home", "End"]);

export class AgentControl {
  /** True while an agent action runs: a form submitted now was submitted by the agent. */
  private acting = false;
  private editing: { field: HTMLElement; before: string } | null = null;

  constructor(
    private readonly policy: RestrictionPolicy,
    private readonly nodeById: NodeLookup,
    private readonly refuse: (refusal: Refusal) => void,
  ) {
    // The agent cannot submit a form any other way either (R4): a click on an element
    // whose handler submits, Enter in a field, a script call during the action.
    document.addEventListener(
      "submit",
      (event) => {
        if (!this.acting || this.policy.agentMaySubmit) return;
        event.preventDefault();
        event.stopImmediatePropagation();
        this.refuse(REFUSE_SUBMIT);
      },
      true,
    );
    this.guardFormSubmit();
  }

  perform(act: ActFrame): void {
    this.acting = true;
    try {
      switch (act.a) {
        case "click":
          this.click(act);
          break;
        case "key":
          if (act.key) this.key(act.key, act.shift === true);
          break;
        case "select":
          if (act.value !== undefined) this.select(act.id, act.value);
          break;
        case "scroll":
          this.scroll(act);
          break;
        case "navigate":
          this.navigate(act);
          break;
      }
    } finally {
      this.acting = false;
    }
  }

  /** The session left write mode or ended: commit any edit in progress. */
  release(): void {
    this.finishEditing();
  }

  private click(act: ActFrame): void {
    const target = this.element(act.id);
    if (!target) return;
    const control = target instanceof HTMLLabelElement ? target.control : null;
    const operated = [target, ...(control ? [control] : [])];
    if (operated.some((element) => this.policy.isDisabled(element))) {
      const submit = operated.some((element) => this.policy.isSubmitControl(element));
      this.refuse(submit ? REFUSE_SUBMIT : REFUSE_DISABLED);
      return;
    }
    const link = target.closest("a[href]");
    if (link instanceof HTMLAnchorElement && !sameOrigin(link.href)) {
      this.refuse(REFUSE_OTHER_SITE);
      return;
    }
    if (this.editing && this.editing.field !== target) this.finishEditing();
    const init: MouseEventInit = {
      bubbles: true,
      cancelable: true,
      composed: true,
      clientX: act.x ?? 0,
      clientY: act.y ?? 0,
      button: 0,
      view: window,
    };
    target.dispatchEvent(new PointerEvent("pointerdown", { ...init, pointerType: "mouse", isPrimary: true }));
    target.dispatchEvent(new MouseEvent("mousedown", init));
    const focusable = target.closest<HTMLElement>("input, textarea, select, button, a[href], [tabindex], [contenteditable]");
    focusable?.focus({ preventScroll: true });
    target.dispatchEvent(new PointerEvent("pointerup", { ...init, pointerType: "mouse", isPrimary: true }));
    target.dispatchEvent(new MouseEvent("mouseup", init));
    if (target instanceof HTMLElement) target.click();
    else target.dispatchEvent(new MouseEvent("click", init));
  }

  private key(key: string, shift: boolean): void {
    const target = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (key === "Tab") {
      this.finishEditing();
      this.moveFocus(shift ? -1 : 1);
      return;
    }
    if (!target || target === document.body) return;
    const editable = isTextField(target) || target.isContentEditable;
    if (editable && this.policy.isMasked(target)) {
      this.refuse(REFUSE_MASKED);
      return;
    }
    if (this.policy.isDisabled(target)) {
      this.refuse(REFUSE_DISABLED);
      return;
    }
    const keyInit: KeyboardEventInit = { key, bubbles: true, cancelable: true, composed: true, shiftKey: shift };
    const allowed = target.dispatchEvent(new KeyboardEvent("keydown", keyInit));
    if (allowed) {
      if (key === "Enter") this.enter(target);
      else if (isTextField(target)) this.editField(target, key, shift);
      else if (target.isContentEditable) this.editContent(target, key);
      else if ((key === " " || key === "Enter") && target instanceof HTMLElement) target.click();
    }
    target.dispatchEvent(new KeyboardEvent("keyup", keyInit));
  }

  private enter(target: HTMLElement): void {
    if (target instanceof HTMLTextAreaElement) {
      this.editField(target, "\n");
    } else if (target.isContentEditable) {
      this.startEditing(target);
      document.execCommand("insertParagraph");
    } else if (target instanceof HTMLInputElement && target.form) {
      // Enter in a field submits its form: left to the customer by default (R4).
      if (this.policy.agentMaySubmit) target.form.requestSubmit();
      else this.refuse(REFUSE_SUBMIT);
    } else if (target instanceof HTMLButtonElement || target instanceof HTMLAnchorElement) {
      target.click(); // disabled controls were refused before keydown
    }
  }

  private editField(field: TextField, key: string, shift = false): void {
    if (!EDITING_KEYS.has(key) && [...key].length !== 1 && key !== "\n") return;
    this.startEditing(field);
    const value = field.value;
    const [start, end] = selectionOf(field);
    let next = value;
    let caret = start;
    let anchor: number | null = null; // set when Shift extends the selection
    let inputType: string | null = null;
    let data: string | null = null;
    switch (key) {
      case "Backspace":
        if (start !== end) next = value.slice(0, start) + value.slice(end);
        else if (start > 0) {
          next = value.slice(0, start - 1) + value.slice(end);
          caret = start - 1;
        }
        inputType = "deleteContentBackward";
        break;
      case "Delete":
        next = start !== end ? value.slice(0, start) + value.slice(end) : value.slice(0, start) + value.slice(start + 1);
        inputType = "deleteContentForward";
        break;
      case "ArrowLeft":
      case "ArrowRight":
      case "Home":
      case "End": {
        const backward = field.selectionDirection === "backward";
        // With Shift the far end moves and the other stays (the anchor).
        const focus = shift ? (backward ? start : end) : key === "ArrowLeft" ? start : end;
        anchor = shift ? (backward ? end : start) : null;
        const collapsed = start === end || shift;
        caret =
          key === "Home" ? 0
          : key === "End" ? value.length
          : key === "ArrowLeft" ? (collapsed ? Math.max(0, focus - 1) : start)
          : collapsed ? Math.min(value.length, focus + 1) : end;
        break;
      }
      default:
        next = value.slice(0, start) + key + value.slice(end);
        caret = start + key.length;
        inputType = key === "\n" ? "insertLineBreak" : "insertText";
        data = key === "\n" ? null : key;
    }
    if (inputType !== null && next !== value) {
      setNativeValue(field, next);
      field.dispatchEvent(new InputEvent("input", { bubbles: true, composed: true, inputType, data }));
    }
    if (anchor === null) setSelection(field, caret);
    else setSelection(field, Math.min(anchor, caret), Math.max(anchor, caret), caret < anchor ? "backward" : "forward");
  }

  private editContent(target: HTMLElement, key: string): void {
    this.startEditing(target);
    const selection = document.getSelection();
    switch (key) {
      case "Backspace":
        document.execCommand("delete");
        break;
      case "Delete":
        document.execCommand("forwardDelete");
        break;
      case "ArrowLeft":
      case "ArrowRight":
        selection?.modify("move", key === "ArrowLeft" ? "backward" : "forward", "character");
        break;
      case "Home":
      case "End":
        selection?.modify("move", key === "Home" ? "backward" : "forward", "lineboundary");
        break;
      default:
        if ([...key].length === 1) document.execCommand("insertText", false, key);
    }
  }

  private select(id: number | undefined, value: string): void {
    const target = this.element(id);
    if (!(target instanceof HTMLSelectElement)) return;
    if (this.policy.isMasked(target)) {
      this.refuse(REFUSE_MASKED);
      return;
    }
    if (this.policy.isDisabled(target)) {
      this.refuse(REFUSE_DISABLED);
      return;
    }
    if (![...target.options].some((option) => option.value === value)) return;
    target.focus({ preventScroll: true });
    setNativeValue(target, value);
    target.dispatchEvent(new Event("input", { bubbles: true, composed: true }));
    target.dispatchEvent(new Event("change", { bubbles: true }));
  }

  private scroll(act: ActFrame): void {
    const node = act.id === undefined ? null : this.nodeById(act.id);
    const options: ScrollToOptions = {};
    if (act.top !== undefined) options.top = act.top;
    if (act.left !== undefined) options.left = act.left;
    if (node instanceof Element && node !== document.documentElement && node !== document.body) {
      if (this.policy.isDisabled(node)) {
        this.refuse(REFUSE_DISABLED);
        return;
      }
      node.scrollTo(options);
    } else {
      window.scrollTo(options);
    }
  }

  /** Back, forward, reload, or a page of this website typed in the console (M2).
   * The page that loads resumes the session (continuity, S9). */
  private navigate(act: ActFrame): void {
    this.finishEditing();
    switch (act.nav) {
      case "back":
        history.back();
        break;
      case "forward":
        history.forward();
        break;
      case "reload":
        location.reload();
        break;
      case "url":
        if (!act.url || !sameOrigin(act.url)) {
          this.refuse(REFUSE_OTHER_SITE);
          return;
        }
        location.assign(new URL(act.url, location.href).href);
        break;
    }
  }

  private moveFocus(step: 1 | -1): void {
    const focusables = [
      ...document.querySelectorAll<HTMLElement>(
        "a[href], button, input, select, textarea, [tabindex], [contenteditable=''], [contenteditable='true']",
      ),
    ].filter((element) => {
      if (element.tabIndex < 0 || element.matches(":disabled") || element.closest("[data-cobrowse-ui]")) return false;
      if (element instanceof HTMLInputElement && element.type === "hidden") return false;
      return element.getClientRects().length > 0;
    });
    if (!focusables.length) return;
    const current = focusables.indexOf(document.activeElement as HTMLElement);
    const next = current === -1 ? (step === 1 ? 0 : focusables.length - 1) : (current + step + focusables.length) % focusables.length;
    focusables[next].focus();
  }

  private startEditing(field: HTMLElement): void {
    if (this.editing?.field === field) return;
    this.finishEditing();
    this.editing = { field, before: currentValue(field) };
    field.addEventListener("blur", () => this.finishEditing(), { once: true });
  }

  /** Fire `change` once the agent leaves a field it edited, as a browser would. */
  private finishEditing(): void {
    const editing = this.editing;
    this.editing = null;
    if (editing && isTextField(editing.field) && currentValue(editing.field) !== editing.before) {
      editing.field.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  private element(id: number | undefined): Element | null {
    if (id === undefined) return null;
    const node = this.nodeById(id);
    if (node instanceof Element) return node.isConnected ? node : null;
    return node?.parentElement ?? null;
  }

  private guardFormSubmit(): void {
    const control = this;
    const original = HTMLFormElement.prototype.submit;
    // form.submit() fires no submit event, so a handler the agent triggered could
    // bypass the listener above; while an agent action runs it is refused instead.
    HTMLFormElement.prototype.submit = function guardedSubmit(this: HTMLFormElement): void {
      if (control.acting && !control.policy.agentMaySubmit) {
        control.refuse(REFUSE_SUBMIT);
        return;
      }
      original.call(this);
    };
  }
}

/** Continuity needs the same origin: the tab's session lives in its sessionStorage. */
function sameOrigin(url: string): boolean {
  try {
    return new URL(url, location.href).origin === location.origin;
  } catch {
    return false;
  }
}

function isTextField(element: Element): element is TextField {
  if (element instanceof HTMLTextAreaElement) return true;
  return element instanceof HTMLInputElement && !["checkbox", "radio", "submit", "button", "image", "file", "reset", "range", "color", "hidden"].includes(element.type);
}

function currentValue(element: HTMLElement): string {
  return isTextField(element) ? element.value : (element.textContent ?? "");
}

function selectionOf(field: TextField): [number, number] {
  try {
    const start = field.selectionStart;
    const end = field.selectionEnd;
    if (start !== null && end !== null) return [start, end];
  } catch {
    // email and number inputs have no selection API: edit at the end
  }
  return [field.value.length, field.value.length];
}

function setSelection(field: TextField, start: number, end = start, direction: "forward" | "backward" = "forward"): void {
  try {
    field.setSelectionRange(start, end, direction);
  } catch {
    // see selectionOf()
  }
}

/**
 * Set a field's value the way typing does, so frameworks that track the value
 * (React and the like) see the change: through the prototype's setter, not the
 * instance's (which React overrides).
 */
function setNativeValue(field: TextField | HTMLSelectElement, value: string): void {
  const prototype = Object.getPrototypeOf(field) as object;
  const setter = Object.getOwnPropertyDescriptor(prototype, "value")?.set;
  if (setter) setter.call(field, value);
  else field.value = value;
}
