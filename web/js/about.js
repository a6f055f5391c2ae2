// "Tentang lapisan ini" (About this layer): what a layer is about, in the
// page's language: its description (a small safe subset of Markdown:
// paragraphs, "- " lists, **bold**, *italic*, [links](https://…), all made
// as elements and text nodes, never as HTML), source, licence, contact,
// update frequency, keywords and date, then the ways to take the data:
// downloads, the OGC API collection and the vector tiles.

import { h, replace } from '../dom.js';
import { t, title, lang } from '../i18n.js';
import { store } from './store.js';
import { $, openSheet } from './ui.js';

/** Inline Markdown of one line: **bold**, *italic*, [text](http(s) URL). */
function inline(text) {
  const out = [];
  const re = /\*\*([^*]+)\*\*|\*([^*]+)\*|\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g;
  let at = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    if (m[1] != null) out.push(h('strong', { text: m[1] }));
    else if (m[2] != null) out.push(h('em', { text: m[2] }));
    else out.push(h('a', { href: m[4], rel: 'noopener noreferrer', target: '_blank', text: m[3] }));
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

/** Paragraphs (blank lines) and "- " lists of `text`, as elements. */
export function markdown(text) {
  return String(text).split(/\n\s*\n/).map((block) => {
    const lines = block.split('\n').map((l) => l.trim()).filter(Boolean);
    if (lines.length && lines.every((l) => l.startsWith('- '))) {
      return h('ul', {}, lines.map((l) => h('li', {}, inline(l.slice(2)))));
    }
    return h('p', {}, inline(lines.join(' ')));
  });
}

function row(key, value) {
  if (value == null || value === '' || (Array.isArray(value) && !value.length)) return null;
  return [h('dt', { text: t(key) }), h('dd', {}, value)];
}

/** Opens the sheet about layer `id`. */
export function openAbout(id) {
  const l = store.layers.get(id);
  if (!l) return;
  const a = l.about || {};
  const en = lang() === 'en';
  const desc = (en ? a.description_en || a.description_id : a.description_id || a.description_en) || '';
  const licence = a.licence
    ? (/^[A-Za-z0-9.+-]+$/.test(a.licence)
      ? h('a', { href: `https://spdx.org/licenses/${a.licence}.html`, rel: 'noopener noreferrer', target: '_blank', text: a.licence })
      : a.licence)
    : null;
  const contact = [a.contact_unit, a.contact_email].filter(Boolean).length
    ? [a.contact_unit || '', a.contact_unit && a.contact_email ? ' · ' : '',
      a.contact_email ? h('a', { href: `mailto:${a.contact_email}`, text: a.contact_email }) : '']
    : null;
  const base = location.origin;
  const enc = encodeURIComponent(id);
  const links = [
    [t('about.geojson'), `/api/layers/${enc}/download?format=geojson`],
    [t('about.fgb'), `/api/layers/${enc}/download?format=fgb`],
    [t('about.csv'), `/api/layers/${enc}/download?format=csv`],
    [t('about.xlsx'), `/api/layers/${enc}/download?format=xlsx`],
    [t('about.ogc'), `/ogc/collections/${enc}`],
    [t('about.tiles'), `/tiles/${enc}.json`],
  ];
  $('#about-title').textContent = title(l);
  replace($('#about-body'),
    desc ? h('div', { class: 'about-description' }, markdown(desc)) : h('p', { class: 'muted', text: t('about.none') }),
    h('dl', { class: 'about-facts' },
      row('about.agency', l.agency ? l.agency.name : null),
      row('about.source', a.source),
      row('about.licence', licence),
      row('about.contact', contact),
      row('about.frequency', a.update_frequency ? t(`freq.${a.update_frequency}`) : null),
      row('about.date', a.data_date),
      row('about.keywords', (a.keywords || []).join(', ')),
      row('about.count', t('features', { n: (l.feature_count || 0).toLocaleString(en ? 'en-GB' : 'id-ID') })),
      row('about.updated', l.updated_at ? new Date(l.updated_at).toLocaleDateString(en ? 'en-GB' : 'id-ID', { dateStyle: 'long' }) : null)),
    h('h3', { text: t('about.take') }),
    h('ul', { class: 'about-links' }, links.map(([label, path]) => h('li', {},
      h('a', { href: path, text: label }), ' ',
      h('code', { text: `${base}${path}` })))),
    h('p', {}, h('a', { href: '/data', text: t('opendata.link') })));
  openSheet('about-panel');
}
