// Messages (the toast) and the side sheets (staff tools, leaders' overview).

import { t } from '../i18n.js';
import { map } from './map.js';

export const $ = (sel) => document.querySelector(sel);

let toastTimer = 0;
export function toast(msg, kind = 'info') {
  const el = $('#toast');
  el.textContent = msg;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, kind === 'error' ? 8000 : 4000);
}

export function showError(what, e) {
  if (e && e.name === 'AbortError') return;
  toast(t('error.load', { what, detail: e && e.message ? e.message : String(e) }), 'error');
}

export function openSheet(id) {
  for (const s of document.querySelectorAll('.sheet')) s.hidden = s.id !== id;
  const sheet = document.getElementById(id);
  sheet.hidden = false;
  const heading = sheet.querySelector('h2');
  heading.tabIndex = -1;
  heading.focus();
  setTimeout(() => map.invalidateSize(), 50);
}

/** Close buttons and Escape close the sheets. */
export function initSheets() {
  for (const b of document.querySelectorAll('[data-close]')) {
    b.addEventListener('click', () => {
      document.getElementById(b.dataset.close).hidden = true;
      setTimeout(() => map.invalidateSize(), 50);
    });
  }
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    for (const s of document.querySelectorAll('.sheet')) if (!s.hidden && s.contains(document.activeElement)) s.hidden = true;
  });
}
