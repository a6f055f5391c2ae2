// Search: places by name as you type, chosen with the mouse or the keyboard;
// the chosen feature opens on the map.

import { h, replace, debounce, api } from '../dom.js';
import { t, title } from '../i18n.js';
import { store } from './store.js';
import { $, showError } from './ui.js';
import { featureName, showFeature } from './popup.js';

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
      await showFeature(r.layer, r.feature.id);
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
      const data = await api(`/api/search?${new URLSearchParams({ q, limit: '12' })}`, { signal: controller.signal });
      results = data.results || [];
      const items = results.map((r, i) => {
        const meta = store.layers.get(r.layer);
        const p = (r.feature && r.feature.properties) || {};
        const where = [p.desa, p.kecamatan].filter((x) => typeof x === 'string' && x).join(', ');
        const li = h('li', {
          id: `search-result-${i}`, role: 'option', tabindex: '-1', 'aria-selected': 'false',
          dataset: { layer: r.layer, fid: String(r.feature ? r.feature.id : '') },
        },
        h('span', { class: 'result-name', text: r.name || featureName(p, '') }),
        h('span', { class: 'result-meta', text: [meta ? title(meta) : r.layer, where].filter(Boolean).join(' · ') }));
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
