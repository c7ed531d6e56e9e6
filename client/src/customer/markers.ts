// Telling the customer what is hidden from the agent (PRODUCT.md R2): while a session
// is live every masked element carries a visible marker, and focusing one says that
// the agent cannot see it. Drawn in cobrowse's own layer, never in the site's DOM,
// so the page itself (and what is recorded of it) is untouched.

import type { RestrictionPolicy } from "./policy";

const REFRESH_MS = 400;
export const HIDDEN_NOTICE = "Hidden from the agent: they cannot see what you enter here.";

export class MaskMarkers {
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly boxes: HTMLElement[] = [];
  private readonly notice: HTMLElement;
  private readonly onFocus = (event: FocusEvent) => this.focused(event.target);
  private readonly onBlur = () => {
    this.notice.hidden = true;
  };
  private readonly refresh = () => this.draw();

  constructor(
    private readonly layer: HTMLElement,
    private readonly policy: RestrictionPolicy,
  ) {
    this.notice = document.createElement("div");
    this.notice.className = "hidden-notice";
    this.notice.setAttribute("role", "status");
    this.notice.textContent = HIDDEN_NOTICE;
    this.notice.hidden = true;
    this.layer.appendChild(this.notice);
  }

  show(): void {
    if (this.timer !== null) return;
    this.draw();
    this.timer = setInterval(this.refresh, REFRESH_MS);
    window.addEventListener("scroll", this.refresh, { passive: true, capture: true });
    window.addEventListener("resize", this.refresh, { passive: true });
    document.addEventListener("focusin", this.onFocus);
    document.addEventListener("focusout", this.onBlur);
    this.focused(document.activeElement);
  }

  hide(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    window.removeEventListener("scroll", this.refresh, { capture: true });
    window.removeEventListener("resize", this.refresh);
    document.removeEventListener("focusin", this.onFocus);
    document.removeEventListener("focusout", this.onBlur);
    this.boxes.splice(0).forEach((box) => box.remove());
    this.notice.hidden = true;
  }

  private draw(): void {
    const rects = this.policy
      .maskedElements()
      .map((element) => element.getBoundingClientRect())
      .filter((rect) => rect.width > 0 && rect.height > 0 && rect.bottom > 0 && rect.top < innerHeight);
    while (this.boxes.length < rects.length) {
      const box = document.createElement("div");
      box.className = "masked-marker";
      box.setAttribute("data-testid", "masked-marker");
      box.innerHTML = "<span>Hidden from agent</span>";
      this.layer.appendChild(box);
      this.boxes.push(box);
    }
    this.boxes.splice(rects.length).forEach((box) => box.remove());
    rects.forEach((rect, index) => {
      const box = this.boxes[index];
      box.style.transform = `translate(${rect.left - 3}px, ${rect.top - 3}px)`;
      box.style.width = `${rect.width + 6}px`;
      box.style.height = `${rect.height + 6}px`;
    });
  }

  private focused(target: EventTarget | null): void {
    if (!(target instanceof Element) || !this.policy.isMasked(target)) {
      this.notice.hidden = true;
      return;
    }
    const rect = target.getBoundingClientRect();
    this.notice.style.transform = `translate(${rect.left}px, ${rect.bottom + 6}px)`;
    this.notice.hidden = false;
  }
}
