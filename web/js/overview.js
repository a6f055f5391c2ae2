// The leaders' overview: every layer they can see, grouped by agency (OPD),
// with counts, versions and the time of the last change, and the figures
// of the citizen reports per agency. Each layer links to the map and to
// the dashboard.

import { h, replace } from '../dom.js';
import { t, num, title, when } from '../i18n.js';
import { store, notify } from './store.js';
import { map, bboxToBounds } from './map.js';
import { $, openSheet } from './ui.js';
import { renderReportStats } from './reports.js';
import { openDashboard } from './dashboard.js';

/** Shows layer `l` on the map and fits the map to it. */
function showOnMap(l) {
  notify('toggle', l.id, true);
  $('#overview-panel').hidden = true;
  if (l.bbox) map.fitBounds(bboxToBounds(l.bbox), { maxZoom: 16 });
}

export function renderOverview() {
  const table = $('#overview-table');
  const byAgency = new Map();
  for (const l of store.layers.values()) {
    const name = (l.agency && l.agency.name) || '—';
    if (!byAgency.has(name)) byAgency.set(name, []);
    byAgency.get(name).push(l);
  }
  const head = h('thead', {}, h('tr', {}, ['overview.agency', 'overview.layer', 'overview.category', 'overview.visibility',
    'overview.features', 'overview.version', 'overview.updated', 'overview.links'].map((k) => h('th', { scope: 'col', text: t(k) }))));
  const bodies = [];
  for (const name of [...byAgency.keys()].sort((a, b) => a.localeCompare(b))) {
    const layers = byAgency.get(name).sort((a, b) => title(a).localeCompare(title(b)));
    const features = layers.reduce((s, l) => s + (l.feature_count || 0), 0);
    const latest = layers.map((l) => l.updated_at || '').sort().pop();
    const rows = [h('tr', { class: 'agency-row' },
      h('th', { scope: 'rowgroup', colspan: '4' }, h('span', { text: name }), ' ',
        h('span', { class: 'muted', text: t('overview.total', { n: num(layers.length), f: num(features) }) })),
      h('td', { class: 'num', text: num(features) }), h('td'), h('td', { text: when(latest) }), h('td'))];
    for (const l of layers) {
      const cat = store.catById.get(l.category);
      rows.push(h('tr', { dataset: { overviewLayer: l.id } },
        h('td'),
        h('td', { text: title(l) }),
        h('td', { text: cat ? title(cat) : l.category }),
        h('td', {}, h('span', { class: `badge ${l.visibility}`, text: t(`visibility.${l.visibility}`) })),
        h('td', { class: 'num', text: num(l.feature_count || 0) }),
        h('td', { class: 'num', text: String(l.version) }),
        h('td', { text: when(l.updated_at) }),
        h('td', { class: 'links' },
          h('button', { type: 'button', class: 'btn small', dataset: { overviewMap: l.id }, 'aria-label': t('overview.mapLabel', { layer: title(l) }), text: t('overview.map'), onclick: () => showOnMap(l) }),
          h('button', { type: 'button', class: 'btn small', dataset: { overviewDash: l.id }, 'aria-label': t('overview.dashLabel', { layer: title(l) }), text: t('overview.dash'), onclick: () => openDashboard(l.id) }))));
    }
    bodies.push(h('tbody', {}, rows));
  }
  replace(table, head, bodies);
  renderReportStats($('#report-stats'));
}

export function initOverview() {
  $('#overview-open').addEventListener('click', () => { renderOverview(); openSheet('overview-panel'); });
  $('#overview-dashboard').addEventListener('click', () => openDashboard());
}
