// The session: who is signed in, the sign-in dialog and signing out, and
// hooking up the OPD staff tools (manage.js).

import { h, api } from '../dom.js';
import { t } from '../i18n.js';
import { initManage } from '../manage.js';
import { store } from './store.js';
import { map } from './map.js';
import { $, toast, showError, openSheet } from './ui.js';
import { LayerView, setActive, reloadLayers } from './layers.js';
import { openPopup } from './popup.js';
import { reportsUserChanged } from './reports.js';
import { followChanges } from './live.js';
import { adminUserChanged } from './admin.js';

export function renderUser() {
  const u = store.user;
  const who = $('#whoami');
  who.replaceChildren();
  if (u) {
    who.append(h('strong', { text: u.name }), ` (${t(`role.${u.role}`)}${u.agency ? ` · ${u.agency}` : ''})`);
  }
  $('#login-open').hidden = !!u;
  $('#logout').hidden = !u;
  $('#manage-open').hidden = !(u && (u.role === 'opd_staff' || u.role === 'admin'));
  $('#overview-open').hidden = !(u && (u.role === 'leader' || u.role === 'admin'));
  $('#dashboard-open').hidden = $('#overview-open').hidden;
  reportsUserChanged();
  adminUserChanged();
  followChanges();
  if (!u) {
    $('#manage-panel').hidden = true;
    $('#overview-panel').hidden = true;
    $('#dashboard-panel').hidden = true;
  }
}

/**
 * On a server run with --demo: the demo accounts (name, role, password)
 * in the sign-in dialog, each with a button that fills the form.
 */
export async function showDemoAccounts() {
  if (!store.config || !store.config.demo) return;
  const form = $('#login-form');
  let accounts = [];
  try {
    accounts = (await api('/api/demo-accounts')).accounts || [];
  } catch { return; }
  if (!accounts.length) return;
  const list = $('#login-demo-list');
  list.replaceChildren(...accounts.map((a) => h('li', { dataset: { demoAccount: a.name } },
    h('strong', { text: a.name }), ' ',
    h('span', { class: 'muted', text: `${t(`role.${a.role}`)}${a.agency ? ` · ${a.agency}` : ''}` }), ' ',
    h('code', { text: a.password }), ' ',
    h('button', {
      type: 'button', class: 'btn small', text: t('login.demoFill'),
      'aria-label': t('login.demoFillLabel', { name: a.name }),
      onclick: () => {
        form.elements.name.value = a.name;
        form.elements.password.value = a.password;
        form.elements.password.focus();
      },
    }))));
  $('#login-demo').hidden = false;
}

export function initLogin() {
  const dialog = $('#login-dialog');
  const form = $('#login-form');
  const err = $('#login-error');
  $('#login-open').addEventListener('click', () => {
    err.textContent = '';
    dialog.showModal();
    form.elements.name.focus();
  });
  $('#login-cancel').addEventListener('click', () => dialog.close());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const name = form.elements.name.value.trim();
    const password = form.elements.password.value;
    const otp = form.elements.otp.value.replace(/\s+/g, '');
    if (!name || !password) { err.textContent = t('login.failed'); return; }
    try {
      const res = await api('/api/session', { method: 'POST', json: otp ? { name, password, otp } : { name, password } });
      store.user = res.user || null;
      form.reset();
      dialog.close();
      renderUser();
      await reloadLayers();
      store.manage.userChanged();
      $('#logout').focus();
    } catch (ex) {
      const type = ex.body && ex.body.type;
      err.textContent = ex.status === 429 ? t('login.throttled')
        : type === 'urn:bsc:problem:second-factor-required' ? t('login.totpRequired')
        : ex.status === 401 || ex.status === 400 || ex.status === 403 ? t('login.failed') : ex.message;
    }
  });
  $('#logout').addEventListener('click', async () => {
    try { await api('/api/session', { method: 'DELETE' }); } catch (e) { showError(t('logout'), e); }
    store.user = null;
    renderUser();
    store.manage.userChanged();
    await reloadLayers();
    $('#login-open').focus();
  });
}

/** The OPD staff panel: its tools, and the button that opens it. */
export function initStaffTools() {
  store.manage = initManage({
    state: store, map, api, toast, t, reloadLayers, setActive, LayerView, openSheet,
    openFeaturePopup: openPopup,
  });
  $('#manage-open').addEventListener('click', () => { openSheet('manage-panel'); store.manage.open(); });
}
