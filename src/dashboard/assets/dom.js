// @ts-check
/**
 * Building the page from data without ever parsing data as markup: text goes into text nodes, attributes are set
 * one by one (never event handlers), and links only ever point inside the dashboard.
 */

/** @typedef {string | number | Node | null | undefined | false | ChildList} Child */
/** @typedef {Array<Child>} ChildList */
/**
 * @typedef {object} Props
 * @property {string} [class]
 * @property {string} [title]
 * @property {string} [href] a link inside the dashboard: "#/…" or "/api/…"
 * @property {Record<string, string>} [dataset]
 * @property {Record<string, string>} [attrs] plain attributes (no "on…" handlers, no "style")
 * @property {Record<string, (event: Event) => void>} [on]
 */

const SAFE_HREF = /^(#\/|\/api\/)/;

/** @param {string} name */
function assertSafeAttribute(name) {
  const lower = name.toLowerCase();
  if (
    lower.startsWith("on") ||
    lower === "style" ||
    lower === "href" ||
    lower === "src" ||
    lower === "srcdoc"
  ) {
    throw new Error(`refusing to set the attribute ${name} from code`);
  }
}

/** @param {Element} element @param {Child | Child[]} child */
function append(element, child) {
  if (Array.isArray(child)) {
    for (const item of child) append(element, item);
    return;
  }
  if (child === null || child === undefined || child === false) return;
  element.append(
    typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child,
  );
}

/** @param {Element} element @param {Props} props */
function applyProps(element, props) {
  if (props.class) element.setAttribute("class", props.class);
  if (props.title !== undefined) element.setAttribute("title", props.title);
  if (props.href !== undefined) {
    if (!SAFE_HREF.test(props.href)) throw new Error(`refusing a link outside the dashboard: ${props.href}`);
    element.setAttribute("href", props.href);
  }
  for (const [key, value] of Object.entries(props.dataset ?? {})) {
    if (element instanceof HTMLElement || element instanceof SVGElement) element.dataset[key] = value;
  }
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    assertSafeAttribute(name);
    element.setAttribute(name, value);
  }
  for (const [type, listener] of Object.entries(props.on ?? {})) element.addEventListener(type, listener);
}

/**
 * An HTML element with props and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props | null} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  if (props) applyProps(element, props);
  for (const child of children) append(element, child);
  return element;
}

/**
 * An SVG element; numbers in attrs are set as they are.
 * @param {string} tag
 * @param {Record<string, string | number>} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {SVGElement}
 */
export function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) {
    assertSafeAttribute(name);
    element.setAttribute(name, String(value));
  }
  for (const child of children) append(element, child);
  return /** @type {SVGElement} */ (element);
}

/** Replaces an element's children. @param {Element} element @param {...(Child | Child[])} children */
export function replace(element, ...children) {
  element.replaceChildren();
  for (const child of children) append(element, child);
}

/**
 * An element of the page shell, which must be there.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

/** The link to a job's view. @param {string} jobId @param {URLSearchParams} [query] */
export function jobHref(jobId, query) {
  const search = query?.toString();
  return `#/jobs/${encodeURIComponent(jobId)}${search ? `?${search}` : ""}`;
}
