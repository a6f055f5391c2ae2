// The OPD staff panel: my layers with their versions, upload with
// drag-and-drop and progress, the validation report, preview on the map,
// publish and roll back; the style editor (web/js/styleedit.js); "Ubah
// data" opens the draft editor (js/editor.js).

import { h, replace, pageLang } from './dom.js';
import { title, num, when, lang } from './i18n.js';
import { openStyleEditor, relabelStyleEditor } from './js/styleedit.js';
import { createEditor } from './js/editor.js';

// The upload form's fields of what a layer is about (see web/js/about.js).
const ABOUT_FIELDS = ['description_id', 'description_en', 'source', 'licence', 'contact_unit', 'contact_email', 'update_frequency', 'keywords', 'data_date'];

export function initManage(ctx) {
  const { state, api, toast, t } = ctx;
  const $ = (sel) => document.querySelector(sel);
  const form = $('#upload-form');
  const progress = $('#upload-progress');
  const message = $('#upload-message');
  const report = $('#upload-report');
  const publishBtn = $('#publish-btn');
  const previewClear = $('#preview-clear');
  let managed = []; // from /api/manage/layers
  let selected = null; // layer id whose versions are shown
  let versions = [];
  let staged = null; // {layer, version} just uploaded
  let preview = null; // LayerView of a draft
  let lastReport = null;

  const canWrite = () => !!(state.user && (state.user.role === 'opd_staff' || state.user.role === 'admin'));

  function statusBadge(s) {
    return h('span', { class: `badge status-${s}`, text: t(`status.${s}`) });
  }

  async function loadManaged() {
    if (!canWrite()) { managed = []; return; }
    const data = await api('/api/manage/layers');
    managed = (data.layers || []).filter((l) => !l.deleted_at);
  }

  function renderMyLayers() {
    const box = $('#my-layers');
    if (!managed.length) {
      replace(box, h('p', { class: 'empty', text: t('manage.none') }));
      return;
    }
    const head = h('thead', {}, h('tr', {},
      ['manage.layer', 'manage.current', 'manage.latest', 'manage.updated', ''].map((k) => h('th', { scope: 'col', text: k ? t(k) : '' }))));
    const rows = managed.map((l) => h('tr', { dataset: { manageLayer: l.id }, class: l.id === selected ? 'selected' : null },
      h('td', {}, h('span', { class: 'layer-title', text: title(l) }), h('br'), h('code', { text: l.id }), ' ',
        h('span', { class: `badge ${l.visibility}`, text: t(`visibility.${l.visibility}`) })),
      h('td', { class: 'num', text: l.current_version == null ? '—' : `v${l.current_version}` }),
      h('td', {}, l.latest_version == null ? '—' : `v${l.latest_version} `, l.latest_status ? statusBadge(l.latest_status) : null),
      h('td', { text: when(l.updated_at) }),
      h('td', { class: 'row-buttons' },
        h('button', { type: 'button', class: 'btn small', text: t('manage.versions'), onclick: () => select(l.id) }),
        l.current_version != null
          ? h('button', { type: 'button', class: 'btn small', dataset: { styleEdit: l.id }, text: t('style.edit'), onclick: () => editStyle(l.id) })
          : null,
        l.current_version != null || l.latest_status === 'draft'
          ? h('button', { type: 'button', class: 'btn small', dataset: { editLayer: l.id }, text: t('manage.edit'), onclick: () => editor.open(l) })
          : null)));
    replace(box, h('div', { class: 'table-wrap' }, h('table', { class: 'manage-table' }, head, h('tbody', {}, rows))));
  }

  async function select(id) {
    selected = id;
    renderMyLayers();
    try {
      const data = await api(`/api/layers/${encodeURIComponent(id)}/versions`);
      versions = data.versions || [];
    } catch (e) {
      versions = [];
      toast(t('error.generic', { detail: e.message }), 'error');
    }
    renderDetail();
    renderTargets();
  }

  function renderDetail() {
    const box = $('#layer-detail');
    const l = managed.find((m) => m.id === selected);
    if (!l) { box.replaceChildren(); return; }
    const rows = versions.slice().sort((a, b) => b.version - a.version).map((v) => h('li', { dataset: { version: String(v.version) } },
      h('strong', { text: `v${v.version}` }), ' ', statusBadge(v.status),
      v.current ? h('span', { class: 'badge current', text: t('manage.current') }) : null, ' ',
      h('span', { class: 'muted', text: [t('features', { n: num(v.feature_count) }), v.source_name, v.created_by ? t('manage.by', { who: v.created_by }) : '', when(v.created_at)].filter(Boolean).join(' · ') }),
      h('span', { class: 'row-actions' },
        v.status !== 'rejected'
          ? h('button', { type: 'button', class: 'btn small', text: t('manage.preview'), onclick: () => showPreview(l.id, v.version) })
          : null,
        v.status === 'draft'
          ? h('button', { type: 'button', class: 'btn small primary', text: t('manage.publish'), onclick: () => publish(l.id, v.version) })
          : null),
      v.status !== 'rejected' ? nameField(l.id, v) : null));
    const older = versions.filter((v) => v.status === 'published' && !v.current);
    const select = h('select', { id: 'rollback-version', name: 'rollback' },
      older.length
        ? older.sort((a, b) => b.version - a.version).map((v) => h('option', { value: String(v.version), text: `v${v.version} · ${when(v.published_at || v.created_at)}` }))
        : h('option', { value: '', text: t('manage.rollback.none') }));
    const rollback = h('button', { type: 'button', id: 'rollback-btn', class: 'btn', disabled: !older.length, text: t('manage.rollback') });
    rollback.addEventListener('click', () => { if (select.value) rollbackTo(l.id, Number(select.value)); });
    replace(box,
      h('h3', { text: t('manage.detail', { layer: title(l) }) }),
      h('ul', { class: 'versions' }, rows),
      h('div', { class: 'rollback' },
        h('label', { for: 'rollback-version', text: t('manage.rollback.label') }), select, rollback));
  }

  // The version's name field, and a select of its fields to change it.
  function nameField(layer, v) {
    const box = h('div', { class: 'name-field', dataset: { nameField: String(v.version) } });
    const show = () => replace(box,
      h('span', { class: 'muted', text: v.name_field ? t('manage.namefield', { field: v.name_field }) : t('manage.namefield.none') }), ' ',
      h('button', { type: 'button', class: 'btn small', text: t('manage.namefield.change'), onclick: edit }));
    async function edit() {
      let fields = [];
      try {
        const detail = await api(`/api/layers/${encodeURIComponent(layer)}/versions/${v.version}`);
        fields = ((detail.report && detail.report.schema) || []).map((f) => f.name);
      } catch (e) {
        toast(t('error.generic', { detail: e.message }), 'error');
        return;
      }
      const id = `name-field-${v.version}`;
      const select = h('select', { id, name: 'name_field' },
        h('option', { value: '', text: t('manage.namefield.empty') }),
        fields.map((f) => h('option', { value: f, text: f })));
      select.value = v.name_field || '';
      const save = h('button', { type: 'button', class: 'btn small primary', text: t('manage.namefield.save') });
      save.addEventListener('click', async () => {
        const field = select.value || null;
        save.disabled = true;
        try {
          const updated = await api(`/api/layers/${encodeURIComponent(layer)}/versions/${v.version}`,
            { method: 'PATCH', json: { name_field: field } });
          v.name_field = updated.name_field;
          toast(field ? t('manage.namefield.done', { v: v.version, field }) : t('manage.namefield.cleared', { v: v.version }));
          show();
        } catch (e) {
          toast(t('error.generic', { detail: e.message }), 'error');
          save.disabled = false;
        }
      });
      replace(box,
        h('label', { for: id, text: t('manage.namefield.label', { v: v.version }) }), ' ', select, ' ', save, ' ',
        h('button', { type: 'button', class: 'btn small', text: t('manage.namefield.cancel'), onclick: show }));
      select.focus();
    }
    show();
    return box;
  }

  // The style editor of layer `id` (web/js/styleedit.js): the saved draft
  // shows in the layer's versions with its publish button.
  async function editStyle(id) {
    await select(id);
    await openStyleEditor(ctx, id, $('#style-editor'), async (version) => {
      await select(id);
      message.textContent = t('style.saved', { layer: id, v: version });
    });
  }

  function renderTargets() {
    const target = form.elements.target;
    const keep = target.value;
    replace(target,
      h('option', { value: '', text: t('upload.target.new') }),
      managed.map((l) => h('option', { value: l.id, text: t('upload.target.version', { layer: title(l) }) })));
    target.value = managed.some((l) => l.id === keep) ? keep : '';
    form.querySelector('.new-only').hidden = !!target.value;
    const cat = form.elements.category;
    const keepCat = cat.value;
    replace(cat, state.categories.map((c) => h('option', { value: c.id, text: title(c) })));
    if (keepCat) cat.value = keepCat;
  }

  async function refresh() {
    try {
      await loadManaged();
    } catch (e) {
      toast(t('error.generic', { detail: e.message }), 'error');
    }
    renderMyLayers();
    renderTargets();
    if (selected && managed.some((m) => m.id === selected)) await select(selected);
    else $('#layer-detail').replaceChildren();
  }

  // ----- preview -----

  async function showPreview(layer, version) {
    clearPreview();
    preview = new ctx.LayerView(layer, { version });
    previewClear.hidden = false;
    message.textContent = t('preview.on', { layer, v: version });
    try {
      await preview.refresh();
      const b = preview.group.getBounds();
      if (b.isValid()) ctx.map.fitBounds(b, { maxZoom: 16, padding: [20, 20] });
    } catch (e) {
      toast(t('error.generic', { detail: e.message }), 'error');
    }
  }

  function clearPreview() {
    if (preview) preview.remove();
    preview = null;
    previewClear.hidden = true;
  }
  previewClear.addEventListener('click', () => { clearPreview(); message.textContent = ''; });

  // ----- publish and rollback -----

  async function publish(layer, version) {
    try {
      await api(`/api/layers/${encodeURIComponent(layer)}/publish?version=${version}`, { method: 'POST' });
      clearPreview();
      toast(t('manage.published', { layer, v: version }));
      message.textContent = t('manage.published', { layer, v: version });
      if (staged && staged.layer === layer && staged.version === version) {
        staged = null;
        publishBtn.disabled = true;
        publishBtn.textContent = t('manage.publish');
      }
      await ctx.reloadLayers();
      await ctx.setActive(layer, true);
      await refresh();
    } catch (e) {
      toast(t('error.generic', { detail: e.message }), 'error');
    }
  }

  async function rollbackTo(layer, version) {
    try {
      await api(`/api/layers/${encodeURIComponent(layer)}/rollback?to=${version}`, { method: 'POST' });
      toast(t('manage.rollback.done', { layer, v: version }));
      await ctx.reloadLayers();
      await refresh();
    } catch (e) {
      toast(t('error.generic', { detail: e.message }), 'error');
    }
  }

  publishBtn.addEventListener('click', () => { if (staged) publish(staged.layer, staged.version); });

  // ----- the draft editor -----

  const editor = createEditor({
    ...ctx,
    published: async (layer, version) => {
      ctx.openSheet('manage-panel');
      selected = layer;
      await publish(layer, version);
    },
    closed: () => refresh(),
  });

  // ----- upload -----

  const drop = $('#drop-zone');
  const fileInput = form.elements.file;
  const showName = () => {
    const f = fileInput.files && fileInput.files[0];
    $('#file-name').textContent = f ? `${f.name} (${num(Math.ceil(f.size / 1024))} KB)` : '';
  };
  fileInput.addEventListener('change', showName);
  for (const ev of ['dragenter', 'dragover']) {
    drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
  }
  for (const ev of ['dragleave', 'drop']) {
    drop.addEventListener(ev, () => drop.classList.remove('over'));
  }
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    const files = e.dataTransfer && e.dataTransfer.files;
    if (files && files.length) {
      const dt = new DataTransfer();
      dt.items.add(files[0]);
      fileInput.files = dt.files;
      showName();
    }
  });
  form.elements.target.addEventListener('change', () => {
    form.querySelector('.new-only').hidden = !!form.elements.target.value;
    fillAbout(form.elements.target.value);
  });

  // The about fields start from what the chosen layer says now.
  async function fillAbout(id) {
    let a = {};
    if (id) {
      try { a = (await api(`/api/layers/${encodeURIComponent(id)}`)).about || {}; } catch { a = {}; }
    }
    for (const k of ABOUT_FIELDS) {
      const v = a[k];
      form.elements[k].value = Array.isArray(v) ? v.join(', ') : (v || '');
    }
  }

  function renderReport(r, status) {
    lastReport = { r, status };
    if (!r) { report.replaceChildren(); return; }
    const facts = [
      ['report.format', r.format],
      ['report.crs', r.source_crs],
      ['report.read', num(r.read)],
      ['report.valid', num(r.features)],
      ['report.types', Object.entries(r.geometry_types || {}).map(([k, n]) => `${k}: ${num(n)}`).join(', ')],
      ['report.bbox', r.bbox ? r.bbox.map((v) => Number(v).toFixed(5)).join(', ') : ''],
      ['report.namefield', r.name_field || (r.schema ? t('report.namefield.none') : null)],
    ].filter(([, v]) => v != null && v !== '');
    const parts = [h('h3', { text: t('report.title') }),
      h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', { text: t(k) }), h('dd', { text: String(v) })]))];
    // Features counted from 1, named by id and name; the message in the
    // page's language (reports stored before both languages were kept
    // have English only, and 0-based indexes in `feature`).
    const problem = (p, cls) => {
      const n = p.number != null ? p.number : (p.feature != null ? p.feature + 1 : null);
      const label = [p.fid != null ? `id ${p.fid}` : null, p.name || null].filter(Boolean).join(', ');
      const head = n != null ? `${t('report.feature', { i: num(n) })}${label ? ` (${label})` : ''}: ` : null;
      const text = lang() === 'id' && p.message_id ? p.message_id : p.message;
      return h('li', { class: cls }, head ? h('strong', { text: head }) : null, text);
    };
    if (r.error_count) {
      parts.push(h('h4', { class: 'errors', text: t('report.errors', { n: num(r.error_count) }) }),
        h('ul', { class: 'problems' }, (r.errors || []).map((p) => problem(p, 'report-error')),
          r.error_count > (r.errors || []).length ? h('li', { text: t('report.more', { n: num(r.error_count - r.errors.length) }) }) : null));
    }
    if (r.warning_count) {
      parts.push(h('h4', { class: 'warnings', text: t('report.warnings', { n: num(r.warning_count) }) }),
        h('ul', { class: 'problems' }, (r.warnings || []).map((p) => problem(p, 'report-warning')),
          r.warning_count > (r.warnings || []).length ? h('li', { text: t('report.more', { n: num(r.warning_count - r.warnings.length) }) }) : null));
    }
    if ((r.schema || []).length) {
      parts.push(h('h4', { text: t('report.schema') }), h('div', { class: 'table-wrap' }, h('table', { class: 'schema' },
        h('thead', {}, h('tr', {}, ['report.field', 'report.type', 'report.count'].map((k) => h('th', { scope: 'col', text: t(k) })))),
        h('tbody', {}, r.schema.map((f) => h('tr', {}, h('td', { text: f.name }), h('td', { text: f.type }), h('td', { class: 'num', text: num(f.count) })))))));
    }
    report.dataset.status = status;
    replace(report, parts);
  }

  function send(url, body) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', url);
      xhr.responseType = 'text';
      xhr.setRequestHeader('accept', 'application/json');
      xhr.setRequestHeader('accept-language', pageLang());
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) progress.value = Math.round((e.loaded / e.total) * 100);
      });
      xhr.upload.addEventListener('load', () => { progress.value = 100; message.textContent = t('upload.checking'); });
      xhr.addEventListener('load', () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch { data = null; }
        resolve({ status: xhr.status, data });
      });
      xhr.addEventListener('error', () => reject(new Error('network error')));
      xhr.addEventListener('abort', () => reject(new Error('aborted')));
      xhr.send(body);
    });
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const file = fileInput.files && fileInput.files[0];
    if (!file) { message.textContent = t('upload.nofile'); return; }
    const target = form.elements.target.value;
    const fd = new FormData();
    let url = '/api/layers';
    if (target) {
      url = `/api/layers/${encodeURIComponent(target)}/versions`;
    } else {
      for (const k of ['id', 'category', 'title_id', 'title_en', 'visibility']) {
        const v = String(form.elements[k].value || '').trim();
        if (v) fd.append(k, v);
      }
    }
    // What the layer is about: sent only when something is filled in
    // (nothing keeps what the layer says).
    const about = {};
    for (const k of ABOUT_FIELDS) {
      const v = String(form.elements[k].value || '').trim();
      if (v) about[k] = v;
    }
    if (Object.keys(about).length) {
      for (const [k, v] of Object.entries(about)) fd.append(k, v);
    }
    fd.append('file', file, file.name);
    progress.value = 0;
    staged = null;
    publishBtn.disabled = true;
    publishBtn.textContent = t('manage.publish');
    renderReport(null);
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      const { status, data } = await send(url, fd);
      if (status === 201 && data) {
        staged = { layer: data.layer, version: data.version };
        renderReport(data.report, 'draft');
        message.textContent = t('upload.ok', { layer: data.layer, v: data.version });
        publishBtn.disabled = false;
        publishBtn.textContent = t('manage.publish.version', { v: data.version });
        publishBtn.dataset.layer = data.layer;
        publishBtn.dataset.version = String(data.version);
        await refresh();
        await select(data.layer);
        await showPreview(data.layer, data.version);
        message.textContent = t('upload.ok', { layer: data.layer, v: data.version });
      } else if (status === 422 && data && data.report) {
        renderReport(data.report, 'rejected');
        message.textContent = t('upload.rejected', { n: num(data.report.error_count) });
        await refresh();
      } else {
        message.textContent = t('upload.failed', { detail: (data && (data.detail || data.title)) || `HTTP ${status}` });
      }
    } catch (ex) {
      message.textContent = t('upload.failed', { detail: ex.message });
    } finally {
      submit.disabled = false;
    }
  });

  return {
    /** Whether the signed-in user may change layer `id` (attach photos). */
    canManage(id) {
      return canWrite() && managed.some((m) => m.id === id);
    },
    open() {
      refresh();
    },
    async userChanged() {
      if (!canWrite()) {
        editor.close(false);
        managed = [];
        selected = null;
        staged = null;
        clearPreview();
        renderReport(null);
        $('#layer-detail').replaceChildren();
        $('#style-editor').replaceChildren();
        $('#style-editor').hidden = true;
        renderMyLayers();
        return;
      }
      await loadManaged().catch(() => {});
      renderMyLayers();
      renderTargets();
    },
    catalogChanged() {
      if (!form.elements.category.options.length) renderTargets();
    },
    languageChanged() {
      editor.languageChanged();
      renderMyLayers();
      renderTargets();
      if (selected) renderDetail();
      if (lastReport) renderReport(lastReport.r, lastReport.status);
      relabelStyleEditor();
      if (staged) publishBtn.textContent = t('manage.publish.version', { v: staged.version });
    },
  };
}
