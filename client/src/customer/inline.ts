// Resources the resource proxy cannot fetch, sent inline (README "What the proxy
// cannot fetch").
//
// The agent's browser loads page resources through cobrowse's proxy, which fetches
// them from the site's allowed hosts. An intranet site, or an image on a host no
// administrator allowed, is out of its reach; the customer's browser has the image
// already, and when the page may read it (same origin, or CORS) the script draws it
// on a canvas and sends it as a data: URL. Only for those URLs: an inlined image
// costs its whole size on the wire for every agent who joins, a URL a few bytes.
//
// Stylesheet text needs nothing here: rrweb's inlineStylesheet already sends the
// text of every stylesheet the page can read, which is what the customer sees. The
// fonts and images that text names on such hosts: StylesheetInliner below.
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

/** Fonts the proxy cannot fetch are sent under these types (servers often say
 * application/octet-stream); the server lets data: through only for fonts and images. */
const FONT_TYPES: Record<string, string> = {
  woff2: "font/woff2",
  woff: "font/woff",
  ttf: "font/ttf",
  otf: "font/otf",
};
const CSS_URL = /url\(\s*(['"]?)([^'")\s]+)\1\s*\)/g;

/**
 * Fonts and background images named by a stylesheet the page could read but the
 * proxy cannot fetch from (an intranet stylesheet's icon font): the script fetches
 * them as the page would (same origin, or CORS), and sends the stylesheet again
 * with them inline. A stylesheet is the site's design, shared by every visitor,
 * not the customer's data; still, only images and fonts are sent.
 */
export class StylesheetInliner {
  private readonly fetched = new Map<string, Promise<string | null>>();
  private fetchedChars = 0;
  /** The stylesheet text last sent for each node: a late answer for an older text
   * must not undo a newer one. */
  private readonly latest = new Map<number, string>();

  constructor(
    private readonly proxied: () => (url: URL) => boolean,
    private readonly nodeById: (id: number) => Node | null,
    private readonly emit: (event: eventWithTime) => void,
  ) {}

  after(event: eventWithTime): void {
    const found: StylesheetText[] = [];
    if (event.type === EventType.FullSnapshot) {
      this.latest.clear();
      collectStylesheets(event.data.node, false, found);
    } else if (
      event.type === EventType.IncrementalSnapshot &&
      event.data.source === IncrementalSource.Mutation
    ) {
      for (const added of event.data.adds) collectStylesheets(added.node, false, found);
      for (const change of event.data.attributes) {
        const css = (change.attributes as Record<string, unknown>)._cssText;
        if (typeof css === "string") found.push({ id: change.id, css, text: false });
      }
      for (const change of event.data.texts) {
        if (typeof change.value === "string" && this.latest.has(change.id)) {
          found.push({ id: change.id, css: change.value, text: true });
        }
      }
    }
    for (const stylesheet of found) this.inline(stylesheet);
  }

  private inline({ id, css, text }: StylesheetText): void {
    const node = this.nodeById(id);
    if (!node) return;
    this.latest.set(id, css);
    const wanted = new Set<string>();
    const proxied = this.proxied();
    for (const match of css.matchAll(CSS_URL)) {
      try {
        const url = new URL(match[2]);
        if (!proxied(url)) wanted.add(url.href);
      } catch {
        // relative or malformed: rrweb writes references absolute
      }
    }
    if (wanted.size === 0) return;
    const urls = [...wanted];
    void Promise.all(urls.map((url) => this.fetchData(url))).then((answers) => {
      const data = new Map<string, string>();
      answers.forEach((answer, index) => {
        if (answer) data.set(urls[index], answer);
      });
      if (data.size === 0 || this.nodeById(id) !== node || this.latest.get(id) !== css) return;
      const inlined = css.replace(CSS_URL, (whole: string, quote: string, reference: string) => {
        let href: string;
        try {
          href = new URL(reference).href;
        } catch {
          return whole;
        }
        const replacement = data.get(href);
        return replacement ? `url(${quote || '"'}${replacement}${quote || '"'})` : whole;
      });
      this.latest.set(id, inlined);
      this.emit({
        type: EventType.IncrementalSnapshot,
        data: {
          source: IncrementalSource.Mutation,
          texts: text ? [{ id, value: inlined }] : [],
          attributes: text ? [] : [{ id, attributes: { _cssText: inlined } }],
          removes: [],
          adds: [],
        },
        timestamp: Date.now(),
      } as eventWithTime);
    });
  }

  private fetchData(url: string): Promise<string | null> {
    let answer = this.fetched.get(url);
    if (!answer) {
      if (this.fetchedChars > REMEMBERED_CHARS) {
        this.fetched.clear();
        this.fetchedChars = 0;
      }
      answer = fetchAsData(url).then((data) => {
        this.fetchedChars += data?.length ?? 0;
        return data;
      });
      this.fetched.set(url, answer);
    }
    return answer;
  }
}

interface StylesheetText {
  id: number;
  css: string;
  /** A <style> element's text node (else a `_cssText` attribute). */
  text: boolean;
}

function collectStylesheets(node: serializedNodeWithId, inStyle: boolean, found: StylesheetText[]): void {
  if (node.type === NodeType.Element) {
    const css = (node.attributes as Record<string, unknown>)._cssText;
    if (typeof css === "string") found.push({ id: node.id, css, text: false });
  } else if (node.type === NodeType.Text && (node.isStyle || inStyle)) {
    found.push({ id: node.id, css: node.textContent, text: true });
  }
  if ("childNodes" in node) {
    const style = node.type === NodeType.Element && node.tagName === "style";
    for (const child of node.childNodes) collectStylesheets(child, style, found);
  }
}

/** An image or font as a data: URL, fetched as the page would; null when the page
 * may not read it, it is something else, or it is too large. */
async function fetchAsData(url: string): Promise<string | null> {
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return null;
    const declared = (response.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
    const extension = new URL(url).pathname.split(".").pop()?.toLowerCase() ?? "";
    const type = declared.startsWith("image/") || declared.startsWith("font/") ? declared : FONT_TYPES[extension];
    if (!type) return null;
    const body = await response.blob();
    if (body.size * 1.4 > MAX_INLINE_CHARS) return null;
    const data = await new Promise<string | null>((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(typeof reader.result === "string" ? reader.result : null);
      reader.onerror = () => resolve(null);
      reader.readAsDataURL(new Blob([body], { type }));
    });
    return data?.startsWith(`data:${type}`) ? data : null;
  } catch {
    return null; // another origin without CORS, offline...
  }
}
