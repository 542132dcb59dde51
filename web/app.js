// facteur admin page: plain JavaScript, no build step, nothing from
// other sites. Talks to the JSON API under /api/; every text from the
// server is put into the page with textContent, never as HTML.
'use strict';

const state = { session: null };

function $(id) { return document.getElementById(id); }

function message(text, ok) {
  const m = $('message');
  m.textContent = text;
  m.className = ok ? 'ok' : '';
  m.hidden = !text;
}

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (state.session && method !== 'GET') {
    opts.headers['X-CSRF-Token'] = state.session.csrf;
  }
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    if (res.status === 401 && path !== '/api/login') {
      state.session = null;
      show('login');
    }
    throw new Error((data && data.error) || ('request failed: ' + res.status));
  }
  return data;
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function button(text, cls, onclick) {
  const b = el('button', text, cls);
  b.type = 'button';
  b.addEventListener('click', onclick);
  return b;
}

function row(cells, actions) {
  const tr = document.createElement('tr');
  for (const c of cells) tr.appendChild(el('td', c));
  const td = el('td', null, 'actions');
  for (const a of actions || []) td.appendChild(a);
  tr.appendChild(td);
  return tr;
}

function human(bytes) {
  if (bytes < 0) return '-';
  if (bytes === 0) return '0';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (bytes >= 1024 && i < u.length - 1) { bytes /= 1024; i++; }
  return bytes.toFixed(i ? 1 : 0) + ' ' + u[i];
}

const pages = ['login', 'dashboard', 'domains', 'users', 'aliases', 'queue',
  'admins', 'password'];

function show(name) {
  for (const p of pages) $('page-' + p).hidden = p !== name;
  $('nav').hidden = !state.session;
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.getAttribute('href') === '#' + name);
    if (a.hasAttribute('data-admin')) a.hidden = !(state.session && state.session.admin);
  }
  if (name !== 'login' && loaders[name]) {
    loaders[name]().catch((e) => message(e.message));
  }
}

function route() {
  message('');
  if (!state.session) { show('login'); return; }
  let name = location.hash.replace('#', '') || (state.session.admin ? 'dashboard' : 'password');
  if (!pages.includes(name) || name === 'login') name = 'dashboard';
  if (!state.session.admin && name !== 'password') name = 'password';
  show(name);
}

const loaders = {
  async dashboard() {
    const d = await api('GET', '/api/dashboard');
    const dl = $('dash-stats');
    dl.replaceChildren();
    const items = [['Host', d.hostname], ['Version', d.version],
      ['Uptime', Math.floor(d.uptime / 3600) + ' h ' + Math.floor(d.uptime % 3600 / 60) + ' min'],
      ['Domains', d.domains], ['Users', d.users], ['Aliases', d.aliases],
      ['Queued', d.queue], ['Delivered', d.delivered], ['Rejected', d.rejected]];
    for (const [k, v] of items) {
      const div = el('div');
      div.appendChild(el('dt', k));
      div.appendChild(el('dd', v));
      dl.appendChild(div);
    }
    const ul = $('dash-events');
    ul.replaceChildren();
    for (const e of d.events) {
      ul.appendChild(el('li', new Date(e.when * 1000).toLocaleString() + ' ' + e.kind + ': ' + e.text));
    }
    if (!d.events.length) ul.appendChild(el('li', 'nothing yet'));
  },

  async domains() {
    const list = await api('GET', '/api/domains');
    const tb = $('domain-list');
    tb.replaceChildren();
    for (const d of list) {
      tb.appendChild(row([d.name, d.users], [
        button('DNS', 'secondary', () => showDns(d.name).catch((e) => message(e.message))),
        button('Delete', 'danger', async () => {
          const typed = prompt('Deleting ' + d.name + ' also deletes its ' + d.users +
            ' users and its aliases (mail stays on disk). Type the domain name to confirm:');
          if (typed === null) return;
          try {
            await api('DELETE', '/api/domains?name=' + encodeURIComponent(d.name) +
              '&confirm=' + encodeURIComponent(typed));
            message('Deleted ' + d.name, true);
            await loaders.domains();
          } catch (e) { message(e.message); }
        })]));
    }
  },

  async users() {
    const list = await api('GET', '/api/users');
    const tb = $('user-list');
    tb.replaceChildren();
    for (const u of list) {
      tb.appendChild(row([u.email, human(u.used), u.quota ? human(u.quota) : 'none'], [
        button('Password', 'secondary', async () => {
          const pw = prompt('New password for ' + u.email + ' (8+ characters):');
          if (pw === null) return;
          try {
            await api('POST', '/api/users/password', { email: u.email, password: pw });
            message('Password changed for ' + u.email, true);
          } catch (e) { message(e.message); }
        }),
        button('Quota', 'secondary', async () => {
          const q = prompt('Quota for ' + u.email + ' (e.g. 5G, 0 = none):', u.quota ? String(u.quota) : '0');
          if (q === null) return;
          try {
            await api('POST', '/api/users/quota', { email: u.email, quota: q });
            await loaders.users();
          } catch (e) { message(e.message); }
        }),
        button('Delete', 'danger', async () => {
          if (!confirm('Delete ' + u.email + '? The Maildir stays on disk.')) return;
          try {
            await api('DELETE', '/api/users?email=' + encodeURIComponent(u.email));
            message('Deleted ' + u.email, true);
            await loaders.users();
          } catch (e) { message(e.message); }
        })]));
    }
  },

  async aliases() {
    const list = await api('GET', '/api/aliases');
    const tb = $('alias-list');
    tb.replaceChildren();
    for (const a of list) {
      tb.appendChild(row([a.source, a.destination], [
        button('Delete', 'danger', async () => {
          if (!confirm('Delete ' + a.source + ' -> ' + a.destination + '?')) return;
          try {
            await api('DELETE', '/api/aliases?source=' + encodeURIComponent(a.source) +
              '&destination=' + encodeURIComponent(a.destination));
            await loaders.aliases();
          } catch (e) { message(e.message); }
        })]));
    }
  },

  async queue() {
    const list = await api('GET', '/api/queue');
    const tb = $('queue-list');
    tb.replaceChildren();
    for (const q of list) {
      const rc = q.rcpts.map((r) => r.addr + ' (' + r.state + (r.diag ? ': ' + r.diag : '') + ')').join(', ');
      tb.appendChild(row([q.id, q.sender || '<>', rc], [
        button('Retry', 'secondary', async () => {
          try { await api('POST', '/api/queue/retry', { id: q.id }); message('Retry scheduled', true); }
          catch (e) { message(e.message); }
        }),
        button('Delete', 'danger', async () => {
          if (!confirm('Delete queued message ' + q.id + '? It will not be delivered.')) return;
          try { await api('DELETE', '/api/queue?id=' + encodeURIComponent(q.id)); await loaders.queue(); }
          catch (e) { message(e.message); }
        })]));
    }
    if (!list.length) tb.appendChild(row(['empty', '', ''], []));
  },

  async admins() {
    const list = await api('GET', '/api/admins');
    const tb = $('admin-list');
    tb.replaceChildren();
    for (const a of list) {
      tb.appendChild(row([a.name], a.name === state.session.name ? [] : [
        button('Delete', 'danger', async () => {
          if (!confirm('Delete admin ' + a.name + '?')) return;
          try { await api('DELETE', '/api/admins?name=' + encodeURIComponent(a.name)); await loaders.admins(); }
          catch (e) { message(e.message); }
        })]));
    }
  },

  async password() {
    const admin = state.session.admin;
    $('pw-email').value = admin ? '' : state.session.name;
    $('pw-email').readOnly = !admin;
    $('pw-current-label').hidden = admin;
  },
};

async function showDns(name) {
  const d = await api('GET', '/api/domains/dns?name=' + encodeURIComponent(name));
  $('dns-domain').textContent = d.domain;
  const tb = $('dns-list');
  tb.replaceChildren();
  for (const r of d.records) {
    const tr = document.createElement('tr');
    tr.appendChild(el('td', r.type));
    tr.appendChild(el('td', r.name));
    const v = el('td');
    v.appendChild(el('code', r.value));
    tr.appendChild(v);
    tr.appendChild(el('td', r.current.length ? r.current.join('; ') : '(none: ' + r.lookup + ')',
      r.ok ? 'ok-dns' : 'bad-dns'));
    tb.appendChild(tr);
  }
  $('dns-box').hidden = false;
}

function formHandler(id, fn) {
  $(id).addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    if (!form.reportValidity()) return;
    const data = Object.fromEntries(new FormData(form).entries());
    try {
      await fn(data, form);
    } catch (e) { message(e.message); }
  });
}

function init() {
  formHandler('login-form', async (d) => {
    state.session = await api('POST', '/api/login', { user: d.user.trim(), password: d.password });
    $('login-password').value = '';
    location.hash = state.session.admin ? '#dashboard' : '#password';
    route();
  });
  formHandler('domain-form', async (d, f) => {
    await api('POST', '/api/domains', { name: d.name.trim() });
    message('Added ' + d.name.trim(), true);
    f.reset();
    await loaders.domains();
  });
  formHandler('user-form', async (d, f) => {
    const body = { email: d.email.trim(), password: d.password };
    if (d.quota.trim()) body.quota = d.quota.trim();
    await api('POST', '/api/users', body);
    message('Added ' + body.email, true);
    f.reset();
    await loaders.users();
  });
  formHandler('alias-form', async (d, f) => {
    await api('POST', '/api/aliases', { source: d.source.trim(), destinations: d.destinations });
    message('Added alias ' + d.source.trim(), true);
    f.reset();
    await loaders.aliases();
  });
  formHandler('admin-form', async (d, f) => {
    await api('POST', '/api/admins', { name: d.name.trim(), password: d.password });
    f.reset();
    await loaders.admins();
  });
  formHandler('password-form', async (d, f) => {
    const body = { email: d.email.trim(), password: d.password };
    if (!state.session.admin) body.current = d.current;
    await api('POST', '/api/users/password', body);
    message('Password changed', true);
    f.reset();
    await loaders.password();
  });
  $('logout').addEventListener('click', async () => {
    try { await api('POST', '/api/logout', {}); } catch (e) { /* gone already */ }
    state.session = null;
    location.hash = '';
    show('login');
  });
  window.addEventListener('hashchange', route);
  api('GET', '/api/session').then((s) => { state.session = s; route(); })
    .catch(() => { state.session = null; show('login'); });
}

document.addEventListener('DOMContentLoaded', init);
