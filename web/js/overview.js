// The leaders' overview: every layer they can see, grouped by agency (OPD),
// with counts, versions and the time of the last change, and the figures
// of the citizen reports per agency.

import { h, replace } from '../dom.js';
import { t, num, title, when } from '../i18n.js';
import { store } from './store.js';
import { $, openSheet } from './ui.js';
import { renderReportStats } from './reports.js';

export function renderOverview() {
  const table = $('#overview-table');
  const byAgency = new Map();
  for (const l of store.layers.values()) {
    const name = (l.agency && l.agency.name) || '—';
    if (!byAgency.has(name)) byAgency.set(name, []);
    byAgency.get(name).push(l);
  }
  const head = h('thead', {}, h('tr', {}, ['overview.agency', 'overview.layer', 'overview.category', 'overview.visibility',
    'overview.features', 'overview.version', 'overview.updated'].map((k) => h('th', { scope: 'col', text: t(k) }))));
  const bodies = [];
  for (const name of [...byAgency.keys()].sort((a, b) => a.localeCompare(b))) {
    const layers = byAgency.get(name).sort((a, b) => title(a).localeCompare(title(b)));
    const features = layers.reduce((s, l) => s + (l.feature_count || 0), 0);
    const latest = layers.map((l) => l.updated_at || '').sort().pop();
    const rows = [h('tr', { class: 'agency-row' },
      h('th', { scope: 'rowgroup', colspan: '4' }, h('span', { text: name }), ' ',
        h('span', { class: 'muted', text: t('overview.total', { n: num(layers.length), f: num(features) }) })),
      h('td', { class: 'num', text: num(features) }), h('td'), h('td', { text: when(latest) }))];
    for (const l of layers) {
      const cat = store.catById.get(l.category);
      rows.push(h('tr', { dataset: { overviewLayer: l.id } },
        h('td'),
        h('td', { text: title(l) }),
        h('td', { text: cat ? title(cat) : l.category }),
        h('td', {}, h('span', { class: `badge ${l.visibility}`, text: t(`visibility.${l.visibility}`) })),
        h('td', { class: 'num', text: num(l.feature_count || 0) }),
        h('td', { class: 'num', text: String(l.version) }),
        h('td', { text: when(l.updated_at) })));
    }
    bodies.push(h('tbody', {}, rows));
  }
  replace(table, head, bodies);
  renderReportStats($('#report-stats'));
}

export function initOverview() {
  $('#overview-open').addEventListener('click', () => { renderOverview(); openSheet('overview-panel'); });
}
