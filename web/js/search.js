// Search: places by name, layer or category as you type, nearest to the
// map's centre first among equals; chosen with the mouse or the keyboard.
// A feature opens on the map; a layer is switched on and shown whole.

import { h, replace, debounce, api } from '../dom.js';
import { t, title, lang } from '../i18n.js';
import { $, showError } from './ui.js';
import { featureName, showFeature } from './popup.js';
import { map, bboxToBounds } from './map.js';
import { setActive } from './layers.js';

// {id, en} as the search API gives titles, in the page's language.
const titleOf = (o) => (o ? title({ title_id: o.id, title_en: o.en }) : '');

// "350 m", "2,4 km".
function distance(m) {
  const locale = lang() === 'en' ? 'en-GB' : 'id-ID';
  if (m < 1000) return `${Math.round(m).toLocaleString(locale)} m`;
  return `${(m / 1000).toLocaleString(locale, { maximumFractionDigits: 1 })} km`;
}

export function initSearch() {
  const input = $('#search-input');
  const list = $('#search-results');
  let controller = null;
  let results = [];
  let index = -1;

  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    index = -1;
  };

  const mark = (i) => {
    index = i;
    list.querySelectorAll('li').forEach((li, k) => li.setAttribute('aria-selected', String(k === i)));
    const li = list.querySelectorAll('li')[i];
    if (li) {
      input.setAttribute('aria-activedescendant', li.id);
      li.scrollIntoView({ block: 'nearest' });
    }
  };

  const choose = async (r) => {
    if (!r) return;
    close();
    input.blur();
    try {
      if (r.type === 'layer') {
        await setActive(r.layer, true);
        if (r.bbox) map.fitBounds(bboxToBounds(r.bbox), { maxZoom: 16 });
      } else {
        await showFeature(r.layer, r.feature.id);
      }
    } catch (e) {
      showError(r.name, e);
    }
  };

  const run = debounce(async () => {
    const q = input.value.trim();
    if (controller) controller.abort();
    if (!q) { replace(list); close(); return; }
    controller = new AbortController();
    try {
      const c = map.getCenter();
      const near = `${c.lng.toFixed(5)},${c.lat.toFixed(5)}`;
      const data = await api(`/api/search?${new URLSearchParams({ q, near, limit: '12' })}`, { signal: controller.signal });
      results = data.results || [];
      const items = results.map((r, i) => {
        const p = (r.feature && r.feature.properties) || {};
        const where = [p.desa, p.kecamatan].filter((x) => typeof x === 'string' && x).join(', ');
        const meta = r.type === 'layer'
          ? [t('search.layer'), titleOf(r.category_title)]
          : [titleOf(r.layer_title) || r.layer, where, r.distance_m != null ? distance(r.distance_m) : ''];
        const li = h('li', {
          id: `search-result-${i}`, role: 'option', tabindex: '-1', 'aria-selected': 'false',
          class: r.type === 'layer' ? 'result-layer' : '',
          dataset: { layer: r.layer, fid: String(r.feature ? r.feature.id : '') },
        },
        h('span', { class: 'result-name', text: r.type === 'layer' ? titleOf(r.layer_title) : (r.name || featureName(p, '')) }),
        h('span', { class: 'result-meta', text: meta.filter(Boolean).join(' · ') }));
        li.addEventListener('click', () => choose(r));
        li.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); choose(r); } });
        return li;
      });
      if (!items.length) items.push(h('li', { class: 'empty', role: 'option', 'aria-disabled': 'true', text: t('search.none') }));
      replace(list, items);
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
      index = -1;
    } catch (e) {
      if (e.name !== 'AbortError') showError(t('search.label'), e);
    }
  }, 200);

  input.addEventListener('input', run);
  input.addEventListener('keydown', (e) => {
    const n = results.length;
    if (e.key === 'ArrowDown' && n) { e.preventDefault(); mark((index + 1) % n); }
    else if (e.key === 'ArrowUp' && n) { e.preventDefault(); mark((index - 1 + n) % n); }
    else if (e.key === 'Escape') close();
  });
  $('#search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (results.length && !list.hidden) choose(results[Math.max(index, 0)]);
    else run();
  });
  document.addEventListener('click', (e) => {
    if (!$('#search-form').contains(e.target)) close();
  });
}
