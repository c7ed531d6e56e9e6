// Images the resource proxy cannot fetch, sent inline (README "Resource proxy").
//
// The agent's browser loads page resources through cobrowse's proxy, which fetches
// them from the site's allowed hosts. An intranet site, or an image on a host no
// administrator allowed, is out of its reach; the customer's browser has the image
// already, and when the page may read it (same origin, or CORS) the script draws it
// on a canvas and sends it as a data: URL. Only for those URLs: an inlined image
// costs its whole size on the wire for every agent who joins, a URL a few bytes.
//
// Stylesheets need nothing here: rrweb's inlineStylesheet already sends the text of
// every stylesheet the page can read, which is what the customer sees.
//
// The inlined image goes in a mutation of its own, after the event that carried
// the element: a snapshot stays small, and an image that is still loading is sent
// when it has. Masked elements are never inlined (the scrubber has already taken
// their src away; this checks again).

import {
  EventType,
  IncrementalSource,
  NodeType,
  type eventWithTime,
  type serializedNodeWithId,
} from "@rrweb/types";

/** A host the proxy fetches from, as /customer/config lists them. */
export interface ProxiedHost {
  host: string;
  scheme: string | null;
  port: number | null;
  wildcard: boolean;
}

/** Larger images are not inlined (each one is a stream frame of its own). */
export const MAX_INLINE_PIXELS = 1_500_000;
/** Nor data: URLs longer than this (bytes of base64 text). */
export const MAX_INLINE_CHARS = 1_000_000;
/** Inlined images remembered for the next snapshot (new agent, new rules). */
const REMEMBERED_CHARS = 8_000_000;

const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "https:": 443 };

/** Whether the proxy fetches `url`, by the hosts the server listed. */
export function proxiedBy(hosts: readonly ProxiedHost[]): (url: URL) => boolean {
  return (url) => {
    const defaultPort = DEFAULT_PORTS[url.protocol];
    if (defaultPort === undefined) return true; // data:, blob:...: nothing to inline
    const scheme = url.protocol.slice(0, -1);
    const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
    const port = url.port ? Number(url.port) : defaultPort;
    return hosts.some(
      (allowed) =>
        (allowed.scheme === null || allowed.scheme === scheme) &&
        port === (allowed.port ?? defaultPort) &&
        (allowed.wildcard ? host.endsWith(`.${allowed.host}`) : host === allowed.host),
    );
  };
}

export class ImageInliner {
  private readonly remembered = new Map<string, string>();
  private rememberedChars = 0;
  private readonly waiting = new WeakSet<HTMLImageElement>();

  constructor(
    private readonly proxied: () => (url: URL) => boolean,
    private readonly isMasked: (element: Element) => boolean,
    private readonly nodeById: (id: number) => Node | null,
    private readonly emit: (event: eventWithTime) => void,
  ) {}

  /** Look for images to inline in an event that is about to be sent; what is ready
   * is returned as mutations to send after it, the rest follows once loaded. */
  after(event: eventWithTime): eventWithTime[] {
    const ids: number[] = [];
    if (event.type === EventType.FullSnapshot) {
      collectImages(event.data.node, ids);
    } else if (
      event.type === EventType.IncrementalSnapshot &&
      event.data.source === IncrementalSource.Mutation
    ) {
      for (const added of event.data.adds) collectImages(added.node, ids);
      for (const change of event.data.attributes) {
        const attributes = change.attributes as Record<string, unknown>;
        if (typeof attributes.src === "string" || typeof attributes.srcset === "string") {
          ids.push(change.id);
        }
      }
    }
    const ready: eventWithTime[] = [];
    for (const id of ids) {
      const inlined = this.image(id);
      if (inlined) ready.push(inlined);
    }
    return ready;
  }

  private image(id: number): eventWithTime | null {
    const node = this.nodeById(id);
    // The node may be in a same-origin iframe: another window, so no instanceof.
    if (!node || node.nodeName !== "IMG") return null;
    const image = node as HTMLImageElement;
    if (this.isMasked(image)) return null;
    if (image.complete) return this.inlined(id, image);
    if (!this.waiting.has(image)) {
      this.waiting.add(image);
      image.addEventListener(
        "load",
        () => {
          this.waiting.delete(image);
          if (this.nodeById(id) !== image) return; // gone, or a new snapshot's ID
          const inlined = this.inlined(id, image);
          if (inlined) this.emit(inlined);
        },
        { once: true },
      );
    }
    return null;
  }

  private inlined(id: number, image: HTMLImageElement): eventWithTime | null {
    const source = image.currentSrc || image.src;
    let url: URL;
    try {
      url = new URL(source, image.baseURI);
    } catch {
      return null;
    }
    if (this.proxied()(url)) return null;
    const data = this.remembered.get(source) ?? this.draw(image);
    if (!data) return null;
    this.remember(source, data);
    return {
      type: EventType.IncrementalSnapshot,
      data: {
        source: IncrementalSource.Mutation,
        texts: [],
        // What the customer sees, whichever srcset candidate it was.
        attributes: [{ id, attributes: { src: data, srcset: null } }],
        removes: [],
        adds: [],
      },
      timestamp: Date.now(),
    } as eventWithTime;
  }

  /** The image as a PNG data: URL, or null when the page may not read it (another
   * origin without CORS taints the canvas), it is empty, or too large. */
  private draw(image: HTMLImageElement): string | null {
    const { naturalWidth: width, naturalHeight: height } = image;
    if (!width || !height || width * height > MAX_INLINE_PIXELS) return null;
    try {
      const canvas = image.ownerDocument.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const context = canvas.getContext("2d");
      if (!context) return null;
      context.drawImage(image, 0, 0);
      const data = canvas.toDataURL("image/png");
      return data.startsWith("data:image/") && data.length <= MAX_INLINE_CHARS ? data : null;
    } catch {
      return null; // SecurityError: a tainted canvas
    }
  }

  private remember(source: string, data: string): void {
    if (this.remembered.has(source)) return;
    if (this.rememberedChars + data.length > REMEMBERED_CHARS) {
      this.remembered.clear();
      this.rememberedChars = 0;
    }
    this.remembered.set(source, data);
    this.rememberedChars += data.length;
  }
}

function collectImages(node: serializedNodeWithId, ids: number[]): void {
  if (node.type === NodeType.Element && node.tagName === "img") {
    const attributes = node.attributes as Record<string, unknown>;
    // No src left: the scrubber took it (a masked image), or there never was one.
    if (typeof attributes.src === "string" || typeof attributes.srcset === "string") {
      ids.push(node.id);
    }
  }
  if ("childNodes" in node) for (const child of node.childNodes) collectImages(child, ids);
}
