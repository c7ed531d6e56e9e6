// Masking beyond what rrweb's options reach (PRODUCT.md R1): rrweb masks field values
// (maskInputFn) and text (maskTextFn), but not the attributes of a masked element,
// which can carry the same data (placeholder, title, aria-label, alt, data-*, a
// checkbox's checked state...). Every event passes through scrubEvent() before it
// is sent, so nothing of a masked element leaves the browser but its shape.

import {
  EventType,
  IncrementalSource,
  NodeType,
  type eventWithTime,
  type serializedNodeWithId,
} from "@rrweb/types";

/** What a masked value looks like on the wire: constant, so not even the length leaks. */
export const MASK_PLACEHOLDER = "••••••••";

/** Attributes that describe shape and behaviour, never content: kept on masked elements. */
const STRUCTURAL = new Set([
  "id", "class", "style", "type", "name", "for", "role", "tabindex", "disabled", "readonly",
  "required", "hidden", "width", "height", "dir", "lang", "autocomplete", "inputmode",
  "contenteditable", "draggable", "rel", "size", "rows", "cols", "maxlength", "minlength",
  "multiple", "colspan", "rowspan", "scope", "viewbox", "xmlns", "_csstext",
]);
/** Attributes that point somewhere: dropped, a placeholder would be a broken URL. */
const LOCATIONS = new Set(["src", "srcset", "href", "xlink:href", "action", "formaction", "poster", "background", "data", "ping", "cite"]);
/** Boolean state that is itself the data (which box is ticked, which option chosen). */
const STATES = new Set(["checked", "selected"]);

type Attributes = Record<string, unknown>;

export class Scrubber {
  constructor(
    private readonly isMasked: (element: Element) => boolean,
    private readonly nodeById: (id: number) => Node | null,
  ) {}

  scrubEvent(event: eventWithTime): eventWithTime {
    if (event.type === EventType.FullSnapshot) {
      this.scrubTree(event.data.node);
    } else if (event.type === EventType.IncrementalSnapshot) {
      const data = event.data;
      if (data.source === IncrementalSource.Mutation) {
        for (const added of data.adds) this.scrubTree(added.node);
        for (const change of data.attributes) {
          if (this.maskedId(change.id)) scrubAttributes(change.attributes as Attributes, true);
        }
      } else if (data.source === IncrementalSource.Input && this.maskedId(data.id)) {
        // Defence in depth: maskInputFn already masked text fields; this also covers
        // checkboxes and radios, whose state rrweb sends without asking.
        data.text = data.text ? MASK_PLACEHOLDER : "";
        data.isChecked = false;
      }
    }
    return event;
  }

  private scrubTree(node: serializedNodeWithId): void {
    if (node.type === NodeType.Element && this.maskedId(node.id)) {
      scrubAttributes(node.attributes as Attributes, false);
    }
    if ("childNodes" in node) for (const child of node.childNodes) this.scrubTree(child);
  }

  private maskedId(id: number): boolean {
    const node = this.nodeById(id);
    const element = node instanceof Element ? node : node?.parentElement;
    return element ? this.isMasked(element) : false;
  }
}

function scrubAttributes(attributes: Attributes, isChange: boolean): void {
  for (const [name, value] of Object.entries(attributes)) {
    const key = name.toLowerCase();
    if (STRUCTURAL.has(key) || key.startsWith("rr_") || typeof value !== "string") continue;
    if (key === "value" && (value === "" || value === MASK_PLACEHOLDER)) continue;
    if (LOCATIONS.has(key) || STATES.has(key)) {
      if (isChange) attributes[name] = null; // a change to null removes the attribute
      else delete attributes[name];
    } else {
      attributes[name] = value === "" ? "" : MASK_PLACEHOLDER;
    }
  }
}
