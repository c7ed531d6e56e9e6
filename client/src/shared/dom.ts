// Small DOM helpers shared by the consoles' pages.

/** The page's element with this id; a console page without it is a build mistake. */
export function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`cobrowse console: #${id} is missing`);
  return node as T;
}
