// Which built-in widgets the page shows, from the script tag (PRODUCT.md P3, §10):
//   data-widgets="callus"            the CallUs widget only
//   data-widgets="cobrowse callus"   the Co-browse launcher and CallUs
//   data-widgets="webchat"           the WebChat (its Co-browse button starts sessions)
//   data-widgets="channelselector"   "Contact us": chat, call (CallUs) or co-browse (while
//                                    a chat with an agent is open); brings the WebChat
//   (no data-widgets)                the Co-browse launcher, as before
//   data-ui="none"                   no built-in widget at all, whatever data-widgets says

export const WIDGET_NAMES = ["cobrowse", "callus", "webchat", "channelselector"] as const;
export type WidgetName = (typeof WIDGET_NAMES)[number];

const DEFAULT_WIDGETS: readonly WidgetName[] = ["cobrowse"];

function isWidgetName(name: string): name is WidgetName {
  return (WIDGET_NAMES as readonly string[]).includes(name);
}

export function widgetsFrom(dataset: DOMStringMap | undefined): ReadonlySet<WidgetName> {
  if (dataset?.ui === "none") return new Set();
  const named = (dataset?.widgets ?? "").split(/[\s,]+/).filter((name) => name !== "");
  if (named.length === 0) return new Set(DEFAULT_WIDGETS);
  const widgets = new Set<WidgetName>();
  for (const name of named) {
    const lower = name.toLowerCase();
    if (isWidgetName(lower)) widgets.add(lower);
    else
      console.warn(`cobrowse: ignoring unknown widget "${name}" in data-widgets (known: ${WIDGET_NAMES.join(", ")}).`);
  }
  // The selector's "Chat" opens the WebChat (without a launcher of its own).
  if (widgets.has("channelselector")) widgets.add("webchat");
  return widgets;
}
