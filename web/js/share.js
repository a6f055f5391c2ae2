// "Bagikan" (Share) in every popup: copy the place's link (/p/LAYER/FID,
// a page with link-preview tags that goes on to the map), share it on
// WhatsApp, or show its QR code (an SVG made by the server, to print).
// Every control is a real <button>; texts go in as text, never as HTML.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { toast } from './ui.js';

let seq = 0;

/** The absolute address of the share page of feature `fid` of `layerId`. */
export function shareUrl(layerId, fid) {
  return `${location.origin}/p/${encodeURIComponent(layerId)}/${encodeURIComponent(fid)}`;
}

/** The server's QR code of that address. */
export function qrUrl(layerId, fid) {
  return `/api/layers/${encodeURIComponent(layerId)}/features/${encodeURIComponent(fid)}/qr.svg`;
}

async function copyText(text, input) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch { /* fall back to selecting the text */ }
  input.hidden = false;
  input.focus();
  input.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

/** A button that shows and hides `panel`. */
function disclosure(label, panel, cls, onOpen) {
  const b = h('button', { type: 'button', class: `btn small ${cls}`, 'aria-expanded': 'false', 'aria-controls': panel.id, text: label });
  b.addEventListener('click', () => {
    const open = panel.hidden;
    panel.hidden = !open;
    b.setAttribute('aria-expanded', String(open));
    if (open && onOpen) onOpen();
  });
  return b;
}

/** The share section of the popup of feature `fid` of `layerId`, named `name`. */
export function shareBox(layerId, fid, name) {
  const n = ++seq;
  const url = shareUrl(layerId, fid);
  const link = h('input', { class: 'share-url', readonly: true, value: url, 'aria-label': t('share.link'), hidden: true });
  const copy = h('button', { type: 'button', class: 'btn small share-copy', text: t('share.copy') });
  copy.addEventListener('click', async () => {
    const ok = await copyText(url, link);
    toast(ok ? t('share.copied') : t('share.copy.manual'));
  });
  const whatsapp = h('button', { type: 'button', class: 'btn small share-whatsapp', text: t('share.whatsapp') });
  whatsapp.addEventListener('click', () => {
    window.open(`https://wa.me/?text=${encodeURIComponent(`${name}\n${url}`)}`, '_blank', 'noopener');
  });
  // The phone's own share sheet (WhatsApp, Telegram, …), where there is one.
  const native = typeof navigator.share === 'function'
    ? h('button', { type: 'button', class: 'btn small share-native', text: t('share.native') })
    : null;
  if (native) {
    native.addEventListener('click', () => {
      navigator.share({ title: name, text: name, url }).catch(() => { /* cancelled */ });
    });
  }
  const qrBox = h('div', { class: 'share-qr', id: `share-qr-${n}`, hidden: true });
  const qr = disclosure(t('share.qr'), qrBox, 'share-qr-toggle', () => {
    if (!qrBox.firstChild) {
      const src = qrUrl(layerId, fid);
      qrBox.append(
        h('img', { src, alt: t('share.qr.alt', { name }), width: 176, height: 176, decoding: 'async' }),
        h('a', { href: src, target: '_blank', rel: 'noopener', download: `qr-${layerId}-${fid}.svg`, text: t('share.qr.print') }),
      );
    }
    qrBox.scrollIntoView({ block: 'nearest' });
  });
  const panel = h('div', { class: 'share-panel', id: `share-${n}`, hidden: true, role: 'group', 'aria-label': t('share.open') },
    h('div', { class: 'share-actions' }, native, copy, whatsapp, qr), link, qrBox);
  const open = disclosure(t('share.open'), panel, 'share-toggle');
  return h('div', { class: 'share' }, open, panel);
}
