// The layer panel (layers by category, with a switch, count and note each),
// the legend, and the colours and symbols both share with the map.

import { h, icon, replace } from '../dom.js';
import { t, num, title } from '../i18n.js';
import { store, notify } from './store.js';
import { map } from './map.js';
import { $ } from './ui.js';
import { openAbout } from './about.js';
import { classesOf } from './style.js';

/** The regency and district outlines: always drawn, never switched. */
export const OUTLINES = ['batas-kabupaten', 'batas-kecamatan'];

export function colourOf(layerId) {
  const l = store.layers.get(layerId);
  const c = l && store.catById.get(l.category);
  return (c && c.color) || '#37474f';
}

/** Geometry kind of a layer for legend and styling. */
export function kindOf(meta) {
  const g = (meta && meta.geometry_type) || '';
  if (/Point/.test(g)) return 'point';
  if (/Line/.test(g)) return 'line';
  if (/Polygon/.test(g)) return 'polygon';
  return 'mixed';
}

function rowOf(id) {
  return document.querySelector(`[data-layer-row="${CSS.escape(id)}"]`);
}

export function setRowBusy(id, busy) {
  const row = rowOf(id);
  if (row) row.classList.toggle('busy', busy);
}

export function setRowNote(id, text) {
  const row = rowOf(id);
  const note = row && row.querySelector('.note');
  if (note) note.textContent = text;
}

/** The note under a layer's row: drawn from tiles, or loaded only in part. */
export function noteOf(view) {
  if (!view) return '';
  if (view.tiles) return t('panel.tiled');
  if (!view.complete && view.matched) return t('panel.more', { n: num(view.drawn.size), m: num(view.matched) });
  return '';
}

const closedCategories = new Set();

export function renderPanel() {
  const groups = $('#layer-groups');
  const byCat = new Map(store.categories.map((c) => [c.id, []]));
  for (const l of store.layers.values()) {
    if (!byCat.has(l.category)) byCat.set(l.category, []);
    byCat.get(l.category).push(l);
  }
  const sections = [];
  for (const [catId, layers] of byCat) {
    const cat = store.catById.get(catId) || { id: catId, title_id: catId, title_en: catId, icon: 'info', color: '#607d8b' };
    const total = layers.reduce((s, l) => s + (l.feature_count || 0), 0);
    const swatch = h('span', { class: 'cat-icon' }, icon(cat.icon));
    swatch.style.backgroundColor = cat.color;
    const details = h('details', { class: 'category', dataset: { category: catId } },
      h('summary', {}, swatch, h('span', { class: 'cat-title', text: title(cat) }),
        h('span', { class: 'count', text: layers.length ? num(total) : '0' })));
    details.open = layers.length > 0 && !closedCategories.has(catId);
    details.addEventListener('toggle', () => {
      if (details.open) closedCategories.delete(catId); else closedCategories.add(catId);
    });
    if (!layers.length) details.append(h('p', { class: 'empty', text: t('panel.empty') }));
    for (const l of layers) {
      const outline = OUTLINES.includes(l.id);
      const input = h('input', {
        type: 'checkbox', id: `layer-${l.id}`, dataset: { layer: l.id },
        checked: outline || store.active.has(l.id), disabled: outline,
      });
      input.addEventListener('change', () => notify('toggle', l.id, input.checked));
      const row = h('div', { class: 'layer-row', dataset: { layerRow: l.id, visibility: l.visibility } },
        input,
        h('label', { for: `layer-${l.id}` },
          h('span', { class: 'layer-title', text: title(l) }),
          h('span', { class: 'meta' },
            h('span', { class: 'count', text: t('features', { n: num(l.feature_count || 0) }) }),
            l.visibility === 'internal'
              ? h('span', { class: 'badge internal', title: t('internal.label'), text: t('internal') })
              : null,
            outline ? h('span', { class: 'badge', text: t('panel.always') }) : null),
          h('span', { class: 'note', text: noteOf(store.views.get(l.id)) })),
        h('button', {
          type: 'button', class: 'layer-about', dataset: { about: l.id },
          'aria-label': t('about.open', { title: title(l) }), title: t('about.heading'),
          onclick: () => openAbout(l.id),
        }, 'i'));
      details.append(row);
    }
    sections.push(details);
  }
  replace(groups, sections);
}

function legendSymbol(meta, colour) {
  const kind = kindOf(meta);
  const el = h('span', { class: `sym sym-${kind}` });
  if (kind === 'line') el.style.borderTopColor = colour;
  else el.style.backgroundColor = colour;
  return el;
}

export function renderLegend() {
  const items = [];
  for (const id of OUTLINES) {
    if (!store.layers.has(id)) continue;
    const el = h('span', { class: `sym sym-outline ${id === 'batas-kabupaten' ? 'thick' : 'dashed'}` });
    items.push(h('li', {}, el, h('span', { text: title(store.layers.get(id)) })));
  }
  for (const id of store.active) {
    const meta = store.layers.get(id);
    if (!meta) continue;
    const view = store.views.get(id);
    const cat = store.catById.get(meta.category);
    const classes = classesOf(meta);
    items.push(h('li', { dataset: { legend: id } }, legendSymbol(meta, classes.length ? '#9e9e9e' : colourOf(id)),
      h('span', { text: title(meta) }),
      h('span', { class: 'count', text: view && !view.tiles ? num(view.drawn.size) : '' }),
      cat ? h('span', { class: 'legend-cat', text: title(cat) }) : null,
      classes.length ? h('ul', { class: 'legend-classes' }, classes.map((c) => h('li', { dataset: { legendClass: c.label } },
        legendSymbol(meta, c.color), h('span', { text: c.label })))) : null));
  }
  if (!store.active.size) items.push(h('li', { class: 'empty', text: t('legend.empty') }));
  replace($('#legend-items'), items);
}

let setPanelOpen = () => {};

/** Opens the panel at the legend (the map's "Legenda" button, on phones). */
export function showLegend() {
  setPanelOpen(true);
  const heading = $('#legend-title');
  heading.tabIndex = -1;
  heading.scrollIntoView({ block: 'start' });
  heading.focus();
}

/** The panel's show/hide button; the panel starts closed on a phone. */
export function initPanel() {
  const toggle = $('#panel-toggle');
  const panel = $('#layer-panel');
  const narrow = window.matchMedia('(max-width: 760px)');
  const setPanel = (open) => {
    document.body.classList.toggle('panel-closed', !open);
    toggle.setAttribute('aria-expanded', String(open));
    setTimeout(() => map.invalidateSize(), 220);
  };
  setPanelOpen = setPanel;
  setPanel(!narrow.matches);
  toggle.addEventListener('click', () => {
    const open = document.body.classList.contains('panel-closed');
    setPanel(open);
    if (open) panel.focus();
  });
}
