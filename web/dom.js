// Small DOM helpers. Every piece of text goes in as a text node or through
// textContent; nothing here ever parses HTML.

/**
 * Creates an element. `attrs`: `class`, `text` (textContent), `dataset`,
 * `on<event>` listeners, `true` for boolean attributes; other values are set
 * as attributes. Children may be nodes, strings (added as text) or arrays.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** An SVG icon from the sprite (`/web/icons.svg#name`). */
export function icon(name, cls = 'icon') {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const use = document.createElementNS(ns, 'use');
  use.setAttribute('href', `/web/icons.svg#${encodeURIComponent(name)}`);
  svg.append(use);
  return svg;
}

/** Removes every child of `el`, then appends `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Calls `fn` `ms` after the last of a burst of calls. */
export function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A problem-JSON-aware error. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** Fetches JSON from this server (same origin, so the session cookie goes along). */
/** The page's language (`id` or `en`), for Accept-Language. */
export function pageLang() {
  return document.documentElement.lang === 'en' ? 'en' : 'id';
}

export async function api(path, { method = 'GET', body, signal, json } = {}) {
  // Problems come back in the page's language (set on <html lang> by i18n.js).
  const opts = { method, signal, credentials: 'same-origin', headers: { accept: 'application/json', 'accept-language': pageLang() } };
  if (json !== undefined) {
    opts.body = JSON.stringify(json);
    opts.headers['content-type'] = 'application/json';
  } else if (body !== undefined) {
    opts.body = body;
  }
  const res = await fetch(path, opts);
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}
