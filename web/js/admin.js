// Administration in the page: users, agencies, API tokens, the audit log
// and backups for admins; the audit log alone for leaders. Everything goes
// through /api/admin/* and /api/audit (the server decides who may do what,
// and audits each change as the command line's). Every value is put in as
// text (dom.js), never as HTML. A password or token the server makes is
// shown once, with a copy button.

import { h, replace, api } from '../dom.js';
import { t, when, num } from '../i18n.js';
import { store } from './store.js';
import { $, toast, openSheet } from './ui.js';

const ROLES = ['admin', 'leader', 'opd_staff'];
let tab = 'users';
let agencies = [];
/** The audit log's filters and the page shown. */
const audit = { filters: {}, local: {}, next: null, entries: [] };

function isAdmin() { return !!(store.user && store.user.role === 'admin'); }

function tabsFor() {
  return isAdmin() ? ['users', 'agencies', 'tokens', 'audit', 'backups'] : ['audit'];
}

/** A message from a refused request, for the toast. */
function fail(e) {
  toast(t('admin.failed', { detail: e && e.message ? e.message : String(e) }), 'error');
}

/** A secret shown once: read-only, selected, with a copy button. */
function secretBox(label, value, id) {
  const input = h('input', { readonly: true, value, id, class: 'secret', spellcheck: 'false', 'aria-label': label });
  const copy = h('button', {
    type: 'button', class: 'btn small', text: t('admin.copy'),
    onclick: async () => {
      input.select();
      try {
        await navigator.clipboard.writeText(value);
        toast(t('admin.copied'));
      } catch {
        // No clipboard over plain HTTP: the text is selected for Ctrl+C.
        toast(t('admin.copyHand'));
      }
    },
  });
  return h('div', { class: 'secret-box', role: 'status' }, h('p', {}, h('strong', { text: label }), ' ', h('span', { class: 'muted', text: t('admin.once') })), h('div', { class: 'actions' }, input, copy));
}

function roleSelect(value, attrs = {}) {
  return h('select', attrs, ROLES.map((r) => h('option', { value: r, text: t(`role.${r}`), selected: r === value })));
}

function agencySelect(value, attrs = {}) {
  return h('select', attrs, h('option', { value: '', text: '—' }),
    agencies.map((a) => h('option', { value: a.id, text: a.name, selected: a.id === value })));
}

async function loadAgencies() {
  agencies = (await api('/api/admin/agencies')).agencies || [];
}

// ---------- users ----------

async function renderUsers(body) {
  await loadAgencies();
  const { users } = await api('/api/admin/users');
  const out = h('div', { id: 'admin-secret' });
  const form = h('form', { id: 'admin-user-form', class: 'admin-form', novalidate: true },
    h('h3', { text: t('admin.user.add') }),
    h('label', { class: 'field' }, h('span', { text: t('admin.user.name') }), h('input', { name: 'name', required: true, autocapitalize: 'off', spellcheck: 'false', maxlength: '64' })),
    h('label', { class: 'field' }, h('span', { text: t('admin.user.role') }), roleSelect('opd_staff', { name: 'role' })),
    h('label', { class: 'field' }, h('span', { text: t('admin.user.agency') }), agencySelect('', { name: 'agency' })),
    h('label', { class: 'field' }, h('span', { text: t('admin.user.password') }), h('input', { name: 'password', type: 'password', autocomplete: 'new-password' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn primary', text: t('admin.user.create') })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = form.elements;
    const json = { name: f.name.value.trim(), role: f.role.value };
    if (f.role.value === 'opd_staff') json.agency = f.agency.value;
    if (f.password.value) json.password = f.password.value;
    try {
      const res = await api('/api/admin/users', { method: 'POST', json });
      toast(t('admin.user.added', { name: res.user.name }));
      await show('users');
      if (res.password) replace($('#admin-secret'), secretBox(t('admin.user.passwordOf', { name: res.user.name }), res.password, 'admin-new-password'));
    } catch (ex) { fail(ex); }
  });
  const rows = users.map((u) => {
    const role = roleSelect(u.role, { 'aria-label': t('admin.user.roleOf', { name: u.name }), dataset: { userRole: u.name } });
    const agency = agencySelect(u.agency || '', { 'aria-label': t('admin.user.agencyOf', { name: u.name }), dataset: { userAgency: u.name } });
    const save = async () => {
      if (role.value === 'opd_staff' && !agency.value) { toast(t('admin.user.needAgency'), 'error'); return; }
      try {
        await api(`/api/admin/users/${encodeURIComponent(u.name)}`, { method: 'PATCH', json: { role: role.value, agency: role.value === 'opd_staff' ? agency.value : null } });
        toast(t('admin.saved'));
        await show('users');
      } catch (ex) { fail(ex); await show('users'); }
    };
    role.addEventListener('change', save);
    agency.addEventListener('change', save);
    return h('tr', { dataset: { user: u.name } },
      h('td', {}, h('strong', { text: u.name }), u.totp ? h('span', { class: 'badge', text: '2FA' }) : null),
      h('td', {}, role),
      h('td', {}, agency),
      h('td', {}, h('span', { class: `badge ${u.disabled ? 'status-rejected' : 'status-published'}`, text: t(u.disabled ? 'admin.user.disabled' : 'admin.user.active') })),
      h('td', { class: 'links' },
        h('button', {
          type: 'button', class: 'btn small', dataset: { userToggle: u.name },
          text: t(u.disabled ? 'admin.user.enable' : 'admin.user.disable'),
          onclick: async () => {
            if (!u.disabled && !window.confirm(t('admin.user.disableConfirm', { name: u.name }))) return;
            try {
              await api(`/api/admin/users/${encodeURIComponent(u.name)}`, { method: 'PATCH', json: { disabled: !u.disabled } });
              await show('users');
            } catch (ex) { fail(ex); }
          },
        }),
        h('button', {
          type: 'button', class: 'btn small', dataset: { userReset: u.name }, text: t('admin.user.reset'),
          onclick: async () => {
            if (!window.confirm(t('admin.user.resetConfirm', { name: u.name }))) return;
            try {
              const res = await api(`/api/admin/users/${encodeURIComponent(u.name)}/password`, { method: 'POST', json: {} });
              replace($('#admin-secret'), secretBox(t('admin.user.passwordOf', { name: u.name }), res.password, 'admin-new-password'));
            } catch (ex) { fail(ex); }
          },
        })));
  });
  replace(body, out, form,
    h('h3', { text: t('admin.users') }),
    h('div', { class: 'table-wrap' }, h('table', { id: 'admin-users' },
      h('thead', {}, h('tr', {}, ['admin.user.name', 'admin.user.role', 'admin.user.agency', 'admin.user.status', 'admin.actions'].map((k) => h('th', { scope: 'col', text: t(k) })))),
      h('tbody', {}, rows))));
}

// ---------- agencies ----------

async function renderAgencies(body) {
  await loadAgencies();
  const form = h('form', { id: 'admin-agency-form', class: 'admin-form', novalidate: true },
    h('h3', { text: t('admin.agency.add') }),
    h('label', { class: 'field' }, h('span', { text: t('admin.agency.name') }), h('input', { name: 'name', required: true, maxlength: '200' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn primary', text: t('admin.agency.create') })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('/api/admin/agencies', { method: 'POST', json: { name: form.elements.name.value.trim() } });
      await show('agencies');
    } catch (ex) { fail(ex); }
  });
  const rows = agencies.map((a) => {
    const name = h('input', { value: a.name, 'aria-label': t('admin.agency.nameOf', { id: a.id }), maxlength: '200' });
    return h('tr', { dataset: { agency: a.id } },
      h('td', { text: a.id }),
      h('td', {}, name),
      h('td', { class: 'num', text: num(a.users) }),
      h('td', {}, h('button', {
        type: 'button', class: 'btn small', text: t('admin.agency.rename'),
        onclick: async () => {
          try {
            await api(`/api/admin/agencies/${encodeURIComponent(a.id)}`, { method: 'PATCH', json: { name: name.value.trim() } });
            toast(t('admin.saved'));
            await show('agencies');
          } catch (ex) { fail(ex); }
        },
      })));
  });
  replace(body, form, h('h3', { text: t('admin.agencies') }),
    h('div', { class: 'table-wrap' }, h('table', { id: 'admin-agencies' },
      h('thead', {}, h('tr', {}, ['admin.agency.id', 'admin.agency.name', 'admin.agency.users', 'admin.actions'].map((k) => h('th', { scope: 'col', text: t(k) })))),
      h('tbody', {}, rows))));
}

// ---------- tokens ----------

async function renderTokens(body) {
  const [{ users }, { tokens }] = await Promise.all([api('/api/admin/users'), api('/api/admin/tokens')]);
  const out = h('div', { id: 'admin-secret' });
  const form = h('form', { id: 'admin-token-form', class: 'admin-form', novalidate: true },
    h('h3', { text: t('admin.token.add') }),
    h('label', { class: 'field' }, h('span', { text: t('admin.token.user') }),
      h('select', { name: 'user' }, users.filter((u) => !u.disabled).map((u) => h('option', { value: u.name, text: u.name })))),
    h('label', { class: 'field' }, h('span', { text: t('admin.token.label') }), h('input', { name: 'name', required: true, maxlength: '100', placeholder: 'QGIS' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn primary', text: t('admin.token.create') })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const res = await api('/api/admin/tokens', { method: 'POST', json: { user: form.elements.user.value, name: form.elements.name.value.trim() } });
      await show('tokens');
      replace($('#admin-secret'), secretBox(t('admin.token.value', { user: res.user }), res.token, 'admin-new-token'));
    } catch (ex) { fail(ex); }
  });
  const rows = tokens.slice().reverse().map((k) => h('tr', { dataset: { token: String(k.id) } },
    h('td', { class: 'num', text: String(k.id) }),
    h('td', { text: k.user }),
    h('td', { text: k.name }),
    h('td', {}, h('code', { text: `${k.prefix}…` })),
    h('td', { text: when(k.created_at) }),
    h('td', { text: k.last_used_at ? when(k.last_used_at) : '—' }),
    h('td', {}, k.revoked_at
      ? h('span', { class: 'badge status-rejected', text: t('admin.token.revoked') })
      : h('button', {
        type: 'button', class: 'btn small', dataset: { tokenRevoke: String(k.id) }, text: t('admin.token.revoke'),
        onclick: async () => {
          if (!window.confirm(t('admin.token.revokeConfirm', { name: k.name, user: k.user }))) return;
          try {
            await api(`/api/admin/tokens/${k.id}`, { method: 'DELETE' });
            await show('tokens');
          } catch (ex) { fail(ex); }
        },
      }))));
  replace(body, out, form, h('h3', { text: t('admin.tokens') }),
    h('div', { class: 'table-wrap' }, h('table', { id: 'admin-tokens' },
      h('thead', {}, h('tr', {}, ['admin.token.id', 'admin.token.user', 'admin.token.label', 'admin.token.prefix', 'admin.token.created', 'admin.token.used', 'admin.user.status'].map((k) => h('th', { scope: 'col', text: t(k) })))),
      h('tbody', {}, rows))));
}

// ---------- audit log ----------

/** A `datetime-local` value (the browser's time zone) as RFC 3339 UTC. */
function isoOf(local) {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

async function loadAudit(more) {
  const q = new URLSearchParams({ limit: '50' });
  for (const [k, v] of Object.entries(audit.filters)) if (v) q.set(k, v);
  if (more && audit.next != null) q.set('before', String(audit.next));
  const res = await api(`/api/audit?${q}`);
  const entries = res.entries || [];
  audit.entries = more ? audit.entries.concat(entries) : entries;
  audit.next = res.next && entries.length ? entries[entries.length - 1].id : null;
}

function auditRows() {
  return audit.entries.map((e) => h('tr', { dataset: { auditId: String(e.id) } },
    h('td', { text: when(e.at) }),
    h('td', { text: e.actor || t('admin.audit.nobody') }),
    h('td', {}, h('code', { text: e.action })),
    h('td', { text: e.layer || '' }),
    h('td', { text: e.from_version != null || e.to_version != null ? `${e.from_version ?? '–'} → ${e.to_version ?? '–'}` : '' }),
    h('td', { text: e.client || '' }),
    h('td', { class: 'detail', text: e.detail == null ? '' : JSON.stringify(e.detail) })));
}

async function renderAudit(body) {
  const f = audit.filters;
  const form = h('form', { id: 'admin-audit-form', class: 'admin-form filters', novalidate: true },
    h('label', { class: 'field' }, h('span', { text: t('admin.audit.actor') }), h('input', { name: 'actor', value: f.actor || '', autocapitalize: 'off', spellcheck: 'false' })),
    h('label', { class: 'field' }, h('span', { text: t('admin.audit.action') }), h('input', { name: 'action', value: f.action || '', list: 'audit-actions', autocapitalize: 'off', spellcheck: 'false' })),
    h('datalist', { id: 'audit-actions' }, ['login', 'login_failed', 'logout', 'upload', 'publish', 'rollback', 'delete', 'user_add', 'user_disable', 'user_enable', 'user_passwd', 'user_role', 'agency_add', 'agency_rename', 'token_create', 'token_revoke'].map((a) => h('option', { value: a }))),
    h('label', { class: 'field' }, h('span', { text: t('admin.audit.layer') }), h('input', { name: 'layer', value: f.layer || '', autocapitalize: 'off', spellcheck: 'false' })),
    h('label', { class: 'field' }, h('span', { text: t('admin.audit.since') }), h('input', { name: 'since', type: 'datetime-local', value: audit.local.since || '' })),
    h('label', { class: 'field' }, h('span', { text: t('admin.audit.until') }), h('input', { name: 'until', type: 'datetime-local', value: audit.local.until || '' })),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'btn primary', text: t('admin.audit.apply') }),
      h('button', { type: 'reset', class: 'btn', text: t('admin.audit.clear') })));
  const tbody = h('tbody', {}, auditRows());
  const more = h('button', { type: 'button', id: 'admin-audit-more', class: 'btn', text: t('admin.audit.more'), hidden: audit.next == null });
  const status = h('p', { class: 'muted', role: 'status', id: 'admin-audit-status', text: t('admin.audit.count', { n: num(audit.entries.length) }) });
  const refresh = () => {
    replace(tbody, auditRows());
    more.hidden = audit.next == null;
    status.textContent = t('admin.audit.count', { n: num(audit.entries.length) });
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const el = form.elements;
    audit.filters = {
      actor: el.actor.value.trim(), action: el.action.value.trim(), layer: el.layer.value.trim(),
      since: isoOf(el.since.value), until: isoOf(el.until.value),
    };
    audit.local = { since: el.since.value, until: el.until.value };
    try { await loadAudit(false); refresh(); } catch (ex) { fail(ex); }
  });
  form.addEventListener('reset', async () => {
    audit.filters = {};
    audit.local = {};
    try { await loadAudit(false); refresh(); } catch (ex) { fail(ex); }
  });
  more.addEventListener('click', async () => {
    try { await loadAudit(true); refresh(); } catch (ex) { fail(ex); }
  });
  await loadAudit(false);
  replace(body, form, status,
    h('div', { class: 'table-wrap' }, h('table', { id: 'admin-audit' },
      h('thead', {}, h('tr', {}, ['admin.audit.at', 'admin.audit.actor', 'admin.audit.action', 'admin.audit.layer', 'admin.audit.versions', 'admin.audit.client', 'admin.audit.detail'].map((k) => h('th', { scope: 'col', text: t(k) })))),
      tbody)),
    h('div', { class: 'actions' }, more));
  refresh();
}

// ---------- backups ----------

function bytes(n) {
  if (n == null) return '';
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = Number(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${i ? v.toFixed(1) : v} ${units[i]}`;
}

function age(seconds) {
  if (seconds == null) return '';
  if (seconds < 3600) return t('admin.backup.minutes', { n: num(Math.round(seconds / 60)) });
  if (seconds < 172800) return t('admin.backup.hours', { n: num(Math.round(seconds / 3600)) });
  return t('admin.backup.days', { n: num(Math.round(seconds / 86400)) });
}

async function renderBackups(body) {
  let res;
  try {
    res = await api('/api/admin/backups');
  } catch (e) {
    if (e.status === 404) {
      replace(body, h('p', { id: 'admin-backups-missing', class: 'notice', text: t('admin.backup.missing') }));
      return;
    }
    throw e;
  }
  const take = h('button', {
    type: 'button', id: 'admin-backup-now', class: 'btn primary', text: t('admin.backup.now'),
    onclick: async () => {
      take.disabled = true;
      try {
        await api('/api/admin/backups', { method: 'POST' });
        toast(t('admin.backup.done'));
        await show('backups');
      } catch (ex) { fail(ex); take.disabled = false; }
    },
  });
  const list = res.backups || [];
  const last = res.last_success
    ? t('admin.backup.last', { when: when(res.last_success), age: age(res.age_seconds) })
    : t('admin.backup.never');
  replace(body,
    h('p', { id: 'admin-backup-last', class: res.last_success ? '' : 'notice', text: last }),
    h('div', { class: 'actions' }, take),
    h('div', { class: 'table-wrap' }, h('table', { id: 'admin-backups' },
      h('thead', {}, h('tr', {}, ['admin.backup.name', 'admin.backup.created', 'admin.backup.size', 'admin.backup.verified'].map((k) => h('th', { scope: 'col', text: t(k) })))),
      h('tbody', {}, list.map((b) => h('tr', {},
        h('td', {}, h('a', { href: `/api/admin/backups/${encodeURIComponent(b.name)}`, download: b.name, text: b.name })),
        h('td', { text: when(b.created_at) }),
        h('td', { class: 'num', text: bytes(b.bytes) }),
        h('td', { text: b.verified ? '✓' : '✗' })))))));
}

// ---------- the panel ----------

const RENDER = { users: renderUsers, agencies: renderAgencies, tokens: renderTokens, audit: renderAudit, backups: renderBackups };

function renderTabs() {
  const tabs = tabsFor();
  if (!tabs.includes(tab)) [tab] = tabs;
  // One tab (a leader's audit log) needs no tab bar.
  $('#admin-tabs').hidden = tabs.length < 2;
  replace($('#admin-tabs'), tabs.map((name) => h('button', {
    type: 'button', role: 'tab', class: 'btn tab', id: `admin-tab-${name}`,
    'aria-selected': name === tab ? 'true' : 'false', 'aria-controls': 'admin-body',
    dataset: { adminTab: name }, text: t(`admin.tab.${name}`),
    onclick: () => show(name),
  })));
}

/** Shows tab `name` (reloading what it lists). */
export async function show(name) {
  tab = name;
  renderTabs();
  const body = $('#admin-body');
  body.dataset.tab = tab;
  body.setAttribute('aria-busy', 'true');
  try {
    await RENDER[tab](body);
  } catch (e) {
    replace(body, h('p', { class: 'notice', text: t('admin.failed', { detail: e && e.message ? e.message : String(e) }) }));
  } finally {
    body.removeAttribute('aria-busy');
  }
}

/** After a sign-in or out: the button for admins ("Admin") and leaders ("Log audit"). */
export function adminUserChanged() {
  const u = store.user;
  const button = $('#admin-open');
  const allowed = !!(u && (u.role === 'admin' || u.role === 'leader'));
  button.hidden = !allowed;
  button.textContent = t(u && u.role === 'admin' ? 'admin.open' : 'admin.openAudit');
  $('#admin-title').textContent = t(u && u.role === 'admin' ? 'admin.title' : 'admin.titleAudit');
  if (!allowed) $('#admin-panel').hidden = true;
}

export function initAdmin() {
  $('#admin-open').addEventListener('click', () => {
    openSheet('admin-panel');
    show(isAdmin() ? tab : 'audit');
  });
}

/** Relabels the open panel after a language switch. */
export function adminLanguageChanged() {
  adminUserChanged();
  if (!$('#admin-panel').hidden) show(tab);
}
