// Parley comment widget: dependency-free, served as /embed.js (see parley/embed/bundle.py, which
// puts the CSS, the message catalogues and the version in place of the __NAMES__ below and strips
// these comments). It runs in the host page, renders into a shadow root, never uses eval, inline
// styles or cookies, and talks to the API with a bearer token (docs/decisions/0004-widget-auth.md).
// Only `//` comments on lines of their own, and no multi-line strings: the bundler is line-based.
(function (w, d) {
  'use strict';
  if (w.Parley && w.Parley.version) return;
  var CSS = __CSS__, MSGS = __MESSAGES__, VERSION = __VERSION__;
  var me = d.currentScript, DEF = (me && me.dataset) || {};
  var m = me && /^(.*)\/embed(\.\w+)?\.js(\?.*)?$/.exec(me.src);
  var BASE = m ? m[1] : me && me.src ? new URL(me.src).origin : location.origin;
  var KEY = 'parley:' + BASE, ALL = [], SRC = {}, REASONS = ['spam', 'insult', 'hate', 'disinformation', 'impersonation', 'illegal', 'privacy', 'other'];
  var TAGS = /^(P|BR|STRONG|EM|DEL|S|CODE|PRE|BLOCKQUOTE|UL|OL|LI|A)$/, ids = 0, sheet, tt, mem = null;
  var UNITS = [['year', 31536e3], ['month', 2592e3], ['week', 6048e2], ['day', 864e2], ['hour', 36e2], ['minute', 60], ['second', 1]];
  try {
    tt = w.trustedTypes && w.trustedTypes.createPolicy('parley', {createHTML: function (s) { return s; }});
  } catch (e) {}
  var AUTH = readAuth();

  // --- small helpers ------------------------------------------------------------------------
  function readAuth() {
    try { return JSON.parse(w.localStorage.getItem(KEY)) || mem; } catch (e) { return mem; }
  }
  function setAuth(a) {
    AUTH = mem = a;
    try {
      if (a) w.localStorage.setItem(KEY, JSON.stringify(a)); else w.localStorage.removeItem(KEY);
    } catch (e) {}
  }
  function h(tag, p, kids) {
    var e = d.createElement(tag), k, v;
    for (k in p) {
      v = p[k];
      if (v == null || v === false) continue;
      if (k.slice(0, 2) == 'on') e.addEventListener(k.slice(2), v);
      else if (k == 'text') e.textContent = v;
      else if (k == 'value') e.value = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    [].concat(kids == null ? [] : kids).forEach(function (c) {
      if (c != null && c !== false && c !== '') e.append(c.nodeType ? c : String(c));
    });
    return e;
  }
  function uid() { return 'p' + (++ids); }
  function enc(s) { return encodeURIComponent(s); }
  function qs(p) {
    var u = new URLSearchParams(), k;
    for (k in p) if (p[k] != null && p[k] !== '') u.set(k, p[k]);
    u = u.toString();
    return u ? '?' + u : '';
  }
  // ``path`` under /api/v1, or an absolute URL the API handed out (a statement's appeal_url)
  function api(method, path, body, query, auth) {
    var headers = {Accept: 'application/json'};
    if (body) headers['Content-Type'] = 'application/json';
    if (auth) headers.Authorization = 'Bearer ' + auth.t;
    return fetch((path[0] == '/' ? BASE + '/api/v1' : '') + path + qs(query), {
      method: method, headers: headers, body: body ? JSON.stringify(body) : null, credentials: 'omit', mode: 'cors',
      cache: 'no-cache'  // revalidate (ETag → 304): a reload shows what the server has now
    }).then(function (r) {
      if (r.status == 204) return null;
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (r.ok) return j;
        var e = new Error(j.detail || j.title || r.statusText);
        e.status = r.status;
        e.code = j.code;
        throw e;
      });
    });
  }
  // Sanitized HTML from the server, sanitized once more here against the same allowlist: a second
  // line of defence that never lets a script or an event handler into the host page. Parsing into a
  // <template> is inert (nothing loads, nothing runs).
  function clean(html) {
    var t = d.createElement('template');
    t.innerHTML = tt ? tt.createHTML(html) : html;
    (function walk(n) {
      [].slice.call(n.childNodes).forEach(function (c) {
        if (c.nodeType == 3) return;
        if (c.nodeType != 1 || !TAGS.test(c.tagName)) return c.replaceWith(c.nodeType == 1 ? c.textContent : '');
        [].slice.call(c.attributes).forEach(function (a) {
          var keep = c.tagName == 'A' ? a.name == 'href' && /^(https?:|mailto:)/i.test(a.value) : c.tagName == 'OL' && a.name == 'start';
          if (!keep) c.removeAttribute(a.name);
        });
        if (c.tagName == 'A') {
          c.rel = 'nofollow ugc noopener noreferrer';
          c.target = '_blank';
        }
        walk(c);
      });
    })(t.content);
    return t.content;
  }
  function canonical() {
    var l = d.querySelector('link[rel=canonical]');
    return l ? l.href : location.href.split('#')[0];
  }

  // --- one widget ----------------------------------------------------------------------------
  function mount(el, o) {
    if (typeof el == 'string') el = d.querySelector(el);
    if (!el) return null;
    o = o || {};
    if (el._parley) el._parley.destroy();
    function get(k) {
      var K = 'parley' + k[0].toUpperCase() + k.slice(1);
      return o[k] != null ? o[k] : el.dataset[K] != null ? el.dataset[K] : DEF[K];
    }
    var key = get('thread'), site = get('site');
    var lang = (get('lang') || get('language') || d.documentElement.lang || navigator.language || 'en').slice(0, 2).toLowerCase();
    if (!MSGS[lang]) lang = 'en';
    var L = MSGS[lang], nf = new Intl.NumberFormat(lang), pr = new Intl.PluralRules(lang);
    var rtf = new Intl.RelativeTimeFormat(lang, {numeric: 'auto'});
    var df = new Intl.DateTimeFormat(lang, {dateStyle: 'medium', timeStyle: 'short'});
    var S = {sort: get('sort') || 'best', items: {}, seen: {}, fresh: [], cursor: null, es: null}, E = {};
    var root = el.shadowRoot || el.attachShadow({mode: 'open'});
    var live = h('div', {class: 'sr', role: 'status', 'aria-live': 'polite'});
    var pw = h('section', {class: 'pw ld', lang: lang, 'aria-label': L.region}, [h('p', {class: 'mu', text: L.loading}), live]);
    if (root.adoptedStyleSheets && w.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
      if (!sheet) {
        sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
      }
      root.adoptedStyleSheets = [sheet];
      root.replaceChildren(pw);
    } else {
      root.replaceChildren(h('style', {text: CSS}), pw);
    }
    var theme = get('theme') || 'auto', mq = w.matchMedia && w.matchMedia('(prefers-color-scheme: dark)');
    function paint() { pw.classList.toggle('dark', theme == 'dark' || (theme == 'auto' && !!mq && mq.matches)); }
    paint();
    if (mq && mq.addEventListener) mq.addEventListener('change', paint);

    function t(k, v) {
      var s = L[k];
      if (Array.isArray(s)) s = s[pr.select(v.n) == 'one' ? 0 : 1];
      return v ? s.replace(/\{(\w+)\}/g, function (_, x) { return x == 'n' ? nf.format(v.n) : v[x]; }) : s;
    }
    function rel(iso) {
      var s = Math.min(0, (Date.parse(iso) - Date.now()) / 1e3), i = 0;
      while (i < 6 && Math.abs(s) < UNITS[i][1]) i++;
      return rtf.format(Math.round(s / UNITS[i][1]), UNITS[i][0]);
    }
    function say(msg) {
      live.textContent = '';
      setTimeout(function () { live.textContent = msg; }, 50);
    }
    function query(extra) {
      var p = {lang: lang, site: site}, k;
      for (k in extra) p[k] = extra[k];
      return p;
    }
    // Every call carries the token. A token the server no longer knows is dropped; reads retry without it.
    function call(method, path, body, extra) {
      var a = AUTH;
      return api(method, path, body, query(extra), a).catch(function (e) {
        if (e.status != 401 || !a) throw e;
        setAuth(null);
        refreshAll(false);
        if (method != 'GET') throw e;
        return api(method, path, body, query(extra), null);
      });
    }
    function field(name, label, attrs) {
      var id = uid(), tag = attrs.tag || 'input';
      attrs.tag = null;
      attrs.id = id;
      attrs.name = name;
      return h('div', null, [h('label', {for: id, text: label}), h(tag, attrs)]);
    }
    function busy(f, on) {
      [].forEach.call(f.querySelectorAll('button,input,textarea,select'), function (x) { x.disabled = on; });
    }
    function buttons(label, cancel) {
      return h('div', {class: 'acts2'}, [h('button', {class: 'pri', type: 'submit'}, label), cancel && h('button', {type: 'button', class: 'sec', onclick: cancel}, L.cancel)]);
    }
    function fail(err, e) {
      err.textContent = e.message || L.error;
    }
    function count() {
      E.count.textContent = t('count', {n: Math.max(0, S.thread.comment_count)});
    }
    function seen(id) {
      var fresh = !S.seen[id];
      S.seen[id] = 1;
      return fresh;
    }
    function editable(c) {
      return c.mine && !c.deleted && Date.parse(c.created_at) + S.site.edit_window_seconds * 1e3 > Date.now();
    }
    function flash(it) {
      it.li.classList.add('hl');
      setTimeout(function () { it.li.classList.remove('hl'); }, 2500);
    }
    function focusItem(it) {
      it.li.scrollIntoView({block: 'center'});
      it.li.focus({preventScroll: true});
      flash(it);
    }

    // --- loading and layout ------------------------------------------------------------------
    var started = false, io = null, timer = 0;
    function start() {
      if (started) return;
      started = true;
      if (io) io.disconnect();
      S.sso = get('sso');
      (S.sso && (!AUTH || AUTH.s != S.sso.slice(-16)) ? login(S.sso).catch(function () {}) : Promise.resolve()).then(function () { load(false); });
    }
    // The first page comes with the signed-in reader's standing (sanctions) and unread count.
    function load(more) {
      var a = !more && AUTH;
      function mine(p, q) { return a && call('GET', '/me/' + p, null, q).catch(function () {}); }
      return Promise.all([call('GET', '/threads/' + enc(key) + '/comments', null, {sort: S.sort, limit: 20, replies: 5, cursor: more ? S.cursor : null}), mine('sanctions'), mine('notifications', {limit: 1})]).then(function (x) {
        var r = x[0];
        if (!more) {
          S.me = x[1];
          S.unread = x[2] ? x[2].unread_count : 0;
          build(r);
        }
        fill(r, !more);
      }, function (e) {
        if (more) return say(e.message || L.error);
        pw.replaceChildren(h('p', {class: 'err', role: 'alert', text: L.failed}), h('button', {type: 'button', class: 'sec', onclick: function () { started = false; start(); }}, L.retry), live);
      });
    }
    function build(r) {
      S.site = r.site;
      S.thread = r.thread;
      S.items = {};
      S.fresh = [];
      S.open = r.thread.status != 'closed';
      var cta = r.site.cta, sel = h('select', {id: uid(), onchange: function () { S.sort = sel.value; reloadList(); }}, ['best', 'top', 'newest', 'oldest'].map(function (s) {
        return h('option', {value: s, selected: s == S.sort}, L['sort_' + s]);
      }));
      E.count = h('h2', {id: uid()});
      E.list = h('ol', {class: 'list'});
      E.empty = h('p', {class: 'mu', text: L.empty});
      E.more = h('button', {type: 'button', class: 'sec', hidden: true, onclick: function () {
        E.more.disabled = true;
        load(true).finally(function () { E.more.disabled = false; });
      }}, L.more);
      E.fresh = h('button', {type: 'button', class: 'fresh', hidden: true, onclick: showFresh});
      E.who = h('div', {class: 'who'});
      E.menu = h('div', {id: uid(), class: 'f', hidden: true, onkeydown: function (e) {
        if (e.key == 'Escape') {
          menu();
          E.mb.focus();
        }
      }});
      E.auth = h('div');
      E.top = h('div');
      pw.replaceChildren(
        cta && (cta.title || cta.text) ? h('aside', {class: 'cta'}, [
          cta.title && h('h3', {text: cta.title}),
          cta.text && h('p', {text: cta.text}),
          cta.link && /^https?:/.test(cta.link) && h('a', {class: 'btn pri', href: cta.link, target: '_blank', rel: 'noopener'}, cta.button || cta.link)
        ]) : '',
        h('div', {class: 'hd'}, [E.count, h('div', null, [h('label', {for: sel.id, text: L.sort}), sel])]),
        E.who, E.menu, E.auth, E.top, E.fresh, E.empty, E.list, E.more, live);
      pw.setAttribute('aria-labelledby', E.count.id);
      pw.classList.remove('ld');
      count();
      who();
      top();
      if (!timer) timer = setInterval(tick, 6e4);
      connect();
    }
    function fill(r, first) {
      r.comments.forEach(function (c) {
        var it = place(c);
        (c.replies || []).forEach(function (x) { place(x); });
        if (it) moreReplies(it, c.replies_cursor);
      });
      if (first) (r.own_pending || []).forEach(function (c) { place(c, true); });
      S.cursor = r.next_cursor;
      E.more.hidden = !S.cursor;
      E.empty.hidden = !!E.list.firstChild;
      if (first && !S.marked) {
        S.marked = 1;
        if (w.performance && performance.mark) performance.mark('parley:rendered');
        var hm = /^#comment-(\d+)$/.exec(location.hash);
        if (hm) reveal(+hm[1]);
      }
    }
    function reloadList() {
      S.items = {};
      S.cursor = null;
      E.list.replaceChildren();
      return load(true);
    }
    function reload() {
      if (S.es) S.es.close();
      S.es = null;
      return load(false);
    }
    function tick() {
      [].forEach.call(root.querySelectorAll('time'), function (x) { x.textContent = rel(x.dateTime); });
    }

    // --- comments ----------------------------------------------------------------------------
    // Replies indent up to the site's reply_depth; deeper ones continue flat in the deepest list,
    // starting with "@name" of the comment they answer.
    function place(c, top) {
      if (S.items[c.id]) return S.items[c.id];
      var p = c.parent_id && S.items[c.parent_id], it = {c: c, shown: 0, li: h('li', {class: 'c', id: 'comment-' + c.id, tabindex: '-1'})}, box;
      if (!p) {
        if (c.parent_id && !top) return null;
        it.root = it;
        box = E.list;
      } else {
        it.root = p.root;
        if (c.status == 'published') it.root.shown++;
        if (c.depth <= S.site.reply_depth) {
          if (!p.kids) p.li.insertBefore(p.kids = h('ol', {class: 'kids'}), p.mb || null);
          box = p.kids;
        } else {
          box = p.li.parentNode;
          it.at = p.c.author && p.c.author.name;
        }
      }
      draw(it);
      if (top) box.prepend(it.li); else box.append(it.li);
      S.items[c.id] = it;
      if (c.status == 'published') seen(c.id);
      E.empty.hidden = true;
      return it;
    }
    function draw(it) {
      var c = it.c, a = c.author, kids = [], pend = c.status == 'held' || c.status == 'rejected';
      if (c.deleted) {
        kids.push(h('p', {class: 'rm', text: L.removed}));
      } else {
        kids.push(h('p', {class: 'by'}, [
          a.name ? h('span', {class: 'n', text: a.name}) : h('span', {class: 'n mu', text: L.erased}),
          a.verified && h('span', {class: 'bg vf', text: '✓ ' + L.verified}),
          (a.role == 'moderator' || a.role == 'admin') && h('span', {class: 'bg vf', text: L['role_' + a.role]}),
          a.guest && a.name && h('span', {class: 'bg', text: L.guest}),
          c.featured && h('span', {class: 'bg', text: L.featured}),
          ' ' + L.says,
          h('a', {class: 't', href: '#comment-' + c.id}, h('time', {datetime: c.created_at, title: df.format(new Date(c.created_at))}, rel(c.created_at))),
          c.edited_at && h('span', {class: 't', text: '· ' + L.edited})
        ]));
        if (pend) kids.push(notice([
          h('strong', {text: L[c.status]}),
          c.reasons && c.reasons.length ? h('ul', null, c.reasons.map(function (r) { return h('li', null, [L.reason + ' ', r.detail || r.code]); })) : ''
        ], c.statement_url));
        var body = h('div', {class: 'b'}), frag = clean(c.html), fp = frag.firstChild;
        if (it.at) {
          var at = h('span', {class: 'at', text: '@' + it.at});
          if (fp && fp.tagName == 'P') fp.prepend(at); else frag.prepend(at);
        }
        body.append(frag);
        kids.push(body, actions(it));
      }
      var art = h('article', {'aria-label': a ? a.name + ' ' + L.says : L.removed}, kids);
      if (it.art) it.art.replaceWith(art); else it.li.prepend(art);
      it.art = art;
    }
    // A notice about the reader's own comment or account, with the statement of reasons and a way
    // to appeal it (DSA Art. 17, 20): the appeal's state once there is one, else a button that opens a
    // form posting to the statement's redress.appeal_url.
    function notice(kids, url) {
      var n = h('div', {class: 'note'}, kids), slot = h('div'), b;
      if (!url || !/^https?:/.test(url)) return n;
      var p = '/statements/' + url.split('/').pop();
      function show(msg) {
        var x = h('p', {role: 'status', tabindex: '-1', text: msg});
        slot.replaceChildren(x);
        return x;
      }
      function state(a) {
        return show(L['ap_' + a.status] + (a.outcome_reason ? ' ' + a.outcome_reason : ''));
      }
      function back() {
        slot.replaceChildren(b);
        b.focus();
      }
      b = h('button', {type: 'button', class: 'sec', onclick: function () {
        call('GET', p).then(function (st) {
          var dl = new Date(st.redress.deadline), err = h('p', {class: 'err', role: 'alert'});
          if (dl < new Date()) return show(L.ap_late).focus();
          var f = h('form', {class: 'f', onkeydown: function (e) { if (e.key == 'Escape') back(); }}, [
            field('text', t('ap_text', {date: df.format(dl)}), {tag: 'textarea', required: true, maxlength: 5000}),
            err, buttons(L.appeal, back)
          ]);
          f.addEventListener('submit', function (e) {
            e.preventDefault();
            busy(f, true);
            call('POST', st.redress.appeal_url, {text: f.elements.text.value.trim()}).then(function (a) { state(a).focus(); }, function (e) {
              busy(f, false);
              // appealed already, too late, or replaced by a later decision: that is the answer
              if (e.status == 409) show(e.message).focus(); else fail(err, e);
            });
          });
          slot.replaceChildren(f);
          f.elements.text.focus();
        }, function (e) { fail(show(''), e); });
      }}, L.appeal);
      n.append(h('a', {href: url, target: '_blank', rel: 'noopener'}, L.statement), slot);
      call('GET', p + '/appeal').then(state, function () { slot.replaceChildren(b); });
      return n;
    }
    // The reader's standing above the composer (no shadow bans): the restriction in force, else a
    // warning of the last 30 days, with its reason and statement. Suspended and banned readers get no
    // composer and no reply buttons.
    function standing() {
      var m = AUTH && S.me, k, s, u;
      S.ban = 0;
      if (!m) return '';
      u = Date.parse(m.suspended_until);
      k = m.status == 'banned' ? 'ban' : m.status == 'suspended' && u > Date.now() ? 'suspension' : m.always_premoderate ? 'premoderate' : 'warning';
      s = m.sanctions.filter(function (x) { return x.kind == k; })[0];
      if (k == 'warning' && (!s || s != m.sanctions[0] || Date.parse(s.created_at) < Date.now() - 2592e6)) return '';
      S.ban = k == 'ban' || k == 'suspension';
      return notice([h('strong', {text: t('s_' + k, {date: df.format(new Date(u || 0))})}), s && h('p', {text: L.reason + ' ' + s.reason})], s && s.statement_url);
    }
    function actions(it) {
      var c = it.c, pub = c.status == 'published', bar = h('div', {class: 'acts'});
      it.msg = h('p', {class: 'err', role: 'status'});
      if (pub) {
        it.up = h('button', {type: 'button', onclick: function () { vote(it, 1); }});
        it.down = h('button', {type: 'button', onclick: function () { vote(it, -1); }});
        bar.append(it.up, it.down);
        votes(it);
        if (S.open && !S.ban) bar.append(h('button', {type: 'button', onclick: function () { reply(it, this); }}, L.reply));
      }
      if (editable(c)) {
        if (!S.ban) bar.append(h('button', {type: 'button', onclick: function () { edit(it, this); }}, L.edit));
        bar.append(h('button', {type: 'button', onclick: function () { remove(it, this); }}, L.delete));
      }
      if (pub && !c.mine) bar.append(h('button', {type: 'button', onclick: function () { report(it, this); }}, L.report));
      return h('div', null, [bar, it.msg]);
    }
    function votes(it) {
      var c = it.c;
      [[it.up, 1, '▲ ', L.up, c.up], [it.down, -1, '▼ ', L.down, c.down]].forEach(function (x) {
        x[0].textContent = x[2] + nf.format(x[4]);
        x[0].setAttribute('aria-pressed', c.my_vote == x[1]);
        x[0].setAttribute('aria-label', x[3] + ' (' + nf.format(x[4]) + ')');
      });
    }
    function vote(it, v) {
      it.msg.replaceChildren();
      if (!AUTH) {
        it.msg.append(L.login_to_vote + ' ', h('button', {type: 'button', onclick: function () { authForm('login'); }}, L.login));
        return;
      }
      call('PUT', '/comments/' + it.c.id + '/vote', {value: it.c.my_vote == v ? 0 : v}).then(function (r) {
        it.c.up = r.up;
        it.c.down = r.down;
        it.c.my_vote = r.my_vote;
        votes(it);
      }, function (e) { fail(it.msg, e); });
    }
    function moreReplies(it, cursor) {
      if (it.mb) it.mb.remove();
      it.mb = null;
      if (!cursor) return;
      it.mb = h('button', {type: 'button', class: 'sec', onclick: function () {
        it.mb.disabled = true;
        call('GET', '/comments/' + it.c.id + '/replies', null, {cursor: cursor, limit: 50}).then(function (r) {
          r.comments.forEach(function (c) { place(c); });
          moreReplies(it, r.next_cursor);
        }, function (e) {
          it.mb.disabled = false;
          fail(it.msg, e);
        });
      }}, t('more_replies', {n: Math.max(1, it.c.descendant_count - it.shown)}));
      it.li.append(it.mb);
    }
    function gone(it) {
      if (it.c.status == 'published' && !it.c.deleted) S.thread.comment_count--;
      if (it.kids && it.kids.firstChild) {
        it.c.deleted = true;
        it.c.author = null;
        draw(it);
      } else {
        it.li.remove();
        delete S.items[it.c.id];
      }
      count();
    }
    function refetch(id) {
      var it = S.items[id];
      if (it) call('GET', '/comments/' + id).then(function (c) { it.c = c; draw(it); }, function (e) { if (e.status == 404) gone(it); });
    }
    function reveal(id) {
      var it = S.items[id];
      if (it) return focusItem(it);
      call('GET', '/comments/' + id).then(function (c) {
        it = place(c, true);
        if (it) focusItem(it);
      }, function () {});
    }

    // --- writing -----------------------------------------------------------------------------
    function composer(parent, editing) {
      var guest = !AUTH && !editing && S.site.guests_allowed;
      if (!AUTH && !editing && !guest) return h('p', {class: 'mu', text: L.login_to_comment});
      var err = h('p', {class: 'err', role: 'alert'}), id = uid();
      var ta = h('textarea', {id: id, name: 'body', required: true, placeholder: L.placeholder, value: editing ? SRC[editing.c.id] || shown(editing) : ''});
      var label = editing ? L.edit : parent ? t('reply_to', {name: parent.c.author ? parent.c.author.name : ''}) : L.your_comment;
      var gb = guest && h('div', {hidden: !parent}, [h('p', {class: 'mu', text: L.as_guest}), h('div', {class: 'row'}, [
        field('author_name', L.name, {required: true, autocomplete: 'nickname', maxlength: 60}),
        field('email', L.email_optional, {type: 'email', autocomplete: 'email'})
      ])]);
      var f = h('form', {class: 'f'}, [
        h('label', {for: id, text: label}), ta, gb,
        err,
        buttons(editing ? L.save : L.send, parent || editing ? function () { f.done(); } : null)
      ]);
      // the guest fields open once the reader starts writing (they follow the text box in tab order)
      f.addEventListener('focusin', function () { if (gb) gb.hidden = false; });
      ta.addEventListener('keydown', function (e) {
        if (e.key == 'Enter' && (e.ctrlKey || e.metaKey)) f.requestSubmit();
      });
      f.addEventListener('submit', function (e) {
        e.preventDefault();
        var body = ta.value.trim(), data = {body: body}, x = f.elements;
        if (!body) return ta.focus();
        if (!editing) {
          data.parent_id = parent ? parent.c.id : null;
          data.title = get('title') || d.title;
          data.url = get('url') || canonical();
          if (guest) {
            data.author_name = x.author_name.value.trim();
            if (x.email.value.trim()) data.email = x.email.value.trim();
          }
        }
        err.textContent = '';
        busy(f, true);
        (editing ? call('PATCH', '/comments/' + editing.c.id, data) : call('POST', '/threads/' + enc(key) + '/comments', data)).then(function (r) {
          var c = r.comment, it;
          c.reasons = r.reasons;
          c.statement_url = r.statement_url;
          SRC[c.id] = body;
          if (r.session) setAuth({t: r.session.token, n: r.session.name});
          if (editing) {
            if (editing.c.status == 'published' && c.status != 'published') S.thread.comment_count--;
            editing.c = c;
            draw(editing);
            it = editing;
          } else {
            it = place(c, !parent);
            if (c.status == 'published' && S.fresh.indexOf(c.id) >= 0) S.fresh.splice(S.fresh.indexOf(c.id), 1);
            else if (c.status == 'published') S.thread.comment_count++;
            ta.value = '';
            freshBar();
          }
          count();
          say(c.status == 'published' ? L.posted : L.posted_held);
          if (r.session) refreshAll(false);
          if (f.done) f.done(true);
          busy(f, false);
          if (it) focusItem(it);
        }, function (e) {
          busy(f, false);
          fail(err, e);
        });
      });
      return f;
    }
    // The text of a comment as shown, without the "@name" of a flat deep reply: what an edit starts
    // from when the Markdown source could not be fetched.
    function shown(it) {
      var text = it.art.querySelector('.b').innerText.trim(), at = it.at ? '@' + it.at : '';
      return at && text.indexOf(at) == 0 ? text.slice(at.length).trim() : text;
    }
    // Reply, edit and report forms open under the comment; closing one returns focus to its button.
    function inline(it, slot, btn, make) {
      if (it[slot]) return it[slot].done();
      var f = it[slot] = make();
      f.done = function (keep) {
        f.remove();
        it[slot] = null;
        if (slot == 'ed') it.art.hidden = false;
        if (!keep) btn.focus();
      };
      f.addEventListener('keydown', function (e) { if (e.key == 'Escape') f.done(); });
      it.li.insertBefore(f, it.art.nextSibling);
      var first = f.querySelector('textarea,select,input');
      if (first) first.focus();
    }
    function reply(it, btn) {
      inline(it, 'rf', btn, function () { return composer(it, null); });
    }
    function edit(it, btn) {
      function open() {
        inline(it, 'ed', btn, function () { return composer(null, it); });
        if (it.ed) it.art.hidden = true;
      }
      // the author's Markdown as written (links included); the shown text only if that fails
      if (it.ed || SRC[it.c.id] != null) return open();
      call('GET', '/comments/' + it.c.id).then(function (c) {
        if (c.source != null) SRC[c.id] = c.source;
        open();
      }, open);
    }
    function remove(it, btn) {
      if (!btn.dataset.sure) {
        btn.dataset.sure = 1;
        btn.textContent = L.delete_confirm;
        return;
      }
      call('DELETE', '/comments/' + it.c.id).then(function () {
        gone(it);
        say(L.deleted);
      }, function (e) { fail(it.msg, e); });
    }
    function report(it, btn) {
      inline(it, 'rp', btn, function () {
        var err = h('p', {class: 'err', role: 'alert'}), gid = uid();
        var f = h('form', {class: 'f'}, [
          h('h3', {text: L.report_title}),
          field('reason', L.report_reason, {tag: 'select', required: true}),
          field('detail', L.report_detail, {tag: 'textarea', maxlength: 4000}),
          field('contact', L.report_contact, {type: 'email', autocomplete: 'email', maxlength: 320}),
          h('label', {class: 'ck', for: gid}, [h('input', {type: 'checkbox', id: gid, name: 'good_faith'}), L.report_good_faith]),
          err,
          buttons(L.report_send, function () { f.done(); })
        ]), x = f.elements;
        x.reason.append(h('option', {value: ''}, '–'));
        REASONS.forEach(function (r) { x.reason.append(h('option', {value: r}, L['r_' + r])); });
        // a notice of illegal content must carry the good-faith statement (DSA Art. 16(2)(d))
        x.reason.addEventListener('change', function () { x.good_faith.required = x.reason.value == 'illegal'; });
        f.addEventListener('submit', function (e) {
          e.preventDefault();
          busy(f, true);
          call('POST', '/comments/' + it.c.id + '/reports', {reason: x.reason.value, detail: x.detail.value.trim(), contact: x.contact.value.trim() || null, good_faith: x.good_faith.checked}).then(function () {
            var ok = h('p', {class: 'ok', role: 'status', tabindex: '-1', text: L.report_thanks});
            f.replaceChildren(ok);
            ok.focus();
            setTimeout(function () { if (it.rp == f) f.done(true); }, 8e3);
          }, function (e) {
            busy(f, false);
            fail(err, e);
          });
        });
        return f;
      });
    }

    // --- accounts ----------------------------------------------------------------------------
    // Signed in: the name opens the account panel; a badge counts unread notifications.
    function who() {
      E.who.replaceChildren();
      E.menu.hidden = true;
      if (AUTH) {
        E.who.append(E.mb = h('button', {type: 'button', 'aria-expanded': 'false', 'aria-controls': E.menu.id, onclick: menu}, [t('signed_in', {name: AUTH.n}), E.nb = h('span', {class: 'nb'})]));
        badge(S.unread);
      } else {
        E.who.append(h('button', {type: 'button', onclick: function () { authForm('login'); }}, L.login), h('button', {type: 'button', onclick: function () { authForm('register'); }}, L.register));
      }
    }
    function badge(n) {
      S.unread = n;
      E.nb.hidden = !n;
      E.nb.replaceChildren(nf.format(n), h('span', {class: 'sr', text: ' ' + L.unread}));
    }
    // The account panel, a disclosure under the name: notifications (opening it marks them read),
    // reply mails, my data as a JSON file, deleting the account, logging out.
    function menu() {
      var m = E.menu, open = m.hidden, list = h('ul', {class: 'nl'}), err = h('p', {class: 'err', role: 'alert'});
      var hd = h('h3', {tabindex: '-1', text: L.notes}), box = h('input', {type: 'checkbox', id: uid(), onchange: function () {
        call('PUT', '/me/notification-settings', {reply_emails: box.checked}).then(function () { say(L.saved); }, function (e) { fail(err, e); });
      }});
      E.mb.setAttribute('aria-expanded', open);
      m.hidden = !open;
      if (!open) return;
      m.replaceChildren(hd, list, h('label', {class: 'ck', for: box.id}, [box, L.reply_mails]), h('div', {class: 'acts2'}, [
        h('button', {type: 'button', class: 'sec', onclick: function () {
          call('GET', '/me/export').then(function (j) {
            var a = h('a', {download: 'parley-data.json', href: URL.createObjectURL(new Blob([JSON.stringify(j, null, 2)], {type: 'application/json'}))});
            a.click();
            setTimeout(function () { URL.revokeObjectURL(a.href); }, 6e4);
          }, function (e) { fail(err, e); });
        }}, L.export),
        h('button', {type: 'button', class: 'sec', onclick: function () { erase(this, err); }}, L.erase),
        h('button', {type: 'button', class: 'sec', onclick: logout}, L.logout)
      ]), err);
      hd.focus();
      call('GET', '/me/notification-settings').then(function (p) { box.checked = p.reply_emails; }, function () {});
      call('GET', '/me/notifications', null, {limit: 20}).then(function (r) {
        var ids = [];
        r.items.forEach(function (n) {
          // a report's outcome (kept or removed) is said in words too (DSA Art. 16(5))
          var x = n.data, o = L['o_' + x.outcome], s = n.text + (o ? ' ' + o : ''), u = x.statement_url || (x.thread_key == key ? '#comment-' + x.comment_id : x.thread_url && x.thread_url + '#comment-' + x.comment_id);
          if (!n.read) ids.push(n.id);
          list.append(h('li', {class: n.read ? null : 'un'}, [u && /^(https?:|#)/.test(u) ? h('a', {href: u}, s) : s, ' ', h('time', {class: 't', datetime: n.created_at}, rel(n.created_at))]));
        });
        if (!ids.length && !r.items.length) list.append(h('li', {class: 'mu', text: L.no_notes}));
        if (ids.length) call('POST', '/me/notifications/read', {ids: ids}).then(function (x) { badge(x.unread_count); });
      }, function (e) { fail(err, e); });
    }
    // Deleting the account takes a second, explicit step that says what happens.
    function erase(b, err) {
      var c = h('div', {class: 'note'}, [h('p', {tabindex: '-1', text: L.erase_warn}), h('div', {class: 'acts2'}, [
        h('button', {type: 'button', class: 'pri', onclick: function () {
          call('DELETE', '/me').then(function () {
            setAuth(null);
            signedIn(L.erased_done);
          }, function (e) { fail(err, e); });
        }}, L.erase_confirm),
        h('button', {type: 'button', class: 'sec', onclick: function () {
          c.remove();
          b.disabled = false;
          b.focus();
        }}, L.cancel)
      ])]);
      b.disabled = true;
      b.parentNode.after(c);
      c.firstChild.focus();
    }
    function authForm(mode) {
      var reg = mode == 'register', err = h('p', {class: 'err', role: 'alert'});
      var f = h('form', {class: 'f'}, [
        h('h3', {text: L[mode]}),
        reg && field('name', L.name, {required: true, autocomplete: 'nickname', maxlength: 60}),
        field('email', L.email, {type: 'email', required: true, autocomplete: 'email'}),
        field('password', L.password, {type: 'password', required: true, autocomplete: reg ? 'new-password' : 'current-password'}),
        err,
        buttons(L[mode], function () { f.done(); })
      ]), x = f.elements;
      f.done = function () {
        E.auth.replaceChildren();
        E.who.querySelector('button').focus();
      };
      f.addEventListener('keydown', function (e) { if (e.key == 'Escape') f.done(); });
      f.addEventListener('submit', function (e) {
        e.preventDefault();
        busy(f, true);
        var data = {email: x.email.value.trim(), password: x.password.value};
        if (reg) data.name = x.name.value.trim();
        api('POST', '/auth/' + mode, data, query()).then(function (r) {
          if (!r.token) {  // 202: the account waits for the link mailed to the address
            var ok = h('p', {class: 'ok', role: 'status', tabindex: '-1', text: t('confirm_sent', {email: data.email})});
            f.replaceChildren(ok);
            return ok.focus();
          }
          setAuth({t: r.token, n: r.account.name});
          signedIn();
        }, function (e) {
          busy(f, false);
          fail(err, e);
        });
      });
      E.auth.replaceChildren(f);
      f.querySelector('input').focus();
    }
    function login(token) {
      if (/^pst_/.test(token)) return api('GET', '/me', null, query(), {t: token}).then(function (r) { setAuth({t: token, n: r.name}); });
      return api('POST', '/auth/sso', {token: token}, query()).then(function (r) {
        setAuth({t: r.token, n: r.account.name, s: token.slice(-16)});
      });
    }
    // After a login or logout every widget reloads (votes, own comments); this one then puts focus
    // where the reader continues and says what changed.
    function signedIn(msg) {
      ALL.forEach(function (x) { if (x != api2 && x.el.isConnected) x.reload(true); });
      reload().then(function () {
        var ta = E.top.querySelector('textarea');
        say(msg || (AUTH ? t('signed_in', {name: AUTH.n}) : L.signed_out));
        (ta && AUTH ? ta : E.who.querySelector('button')).focus();
      });
    }
    function logout() {
      var a = AUTH;
      setAuth(null);
      if (a) api('POST', '/auth/logout', null, query(), a).catch(function () {});
      signedIn();
    }

    // --- live updates ------------------------------------------------------------------------
    function connect() {
      if (!w.EventSource || S.es) return;
      var es = S.es = new EventSource(BASE + '/api/v1/threads/' + enc(key) + '/events' + qs(query()));
      function on(kind, fn) { es.addEventListener(kind, function (e) { fn(JSON.parse(e.data)); }); }
      on('comment.published', function (x) {
        if (S.items[x.id] || !seen(x.id)) return;
        S.fresh.push(x.id);
        S.thread.comment_count++;
        count();
        freshBar();
        say(t('fresh_said', {n: S.fresh.length}));
      });
      on('vote.changed', function (x) {
        var it = S.items[x.id];
        if (it && it.up) {
          it.c.up = x.up;
          it.c.down = x.down;
          votes(it);
        }
      });
      on('comment.updated', function (x) { refetch(x.id); });
      on('comment.removed', function (x) {
        var it = S.items[x.id];
        if (it && !it.c.mine) gone(it);
      });
      on('reset', function () {
        S.stale = 1;
        freshBar();
      });
    }
    function freshBar() {
      var n = S.fresh.length;
      E.fresh.hidden = !n && !S.stale;
      E.fresh.textContent = t('fresh', {n: n || 1});
    }
    function showFresh() {
      var list = S.fresh.splice(0);
      if (S.stale || list.length > 20) {
        S.stale = 0;
        return reload();
      }
      E.fresh.hidden = true;
      Promise.all(list.map(function (id) { return call('GET', '/comments/' + id).catch(function () { return null; }); })).then(function (cs) {
        var first = null;
        cs.forEach(function (c) {
          var it = c && place(c, !c.parent_id);
          if (it && !first) first = it;
          if (it) flash(it);
        });
        if (first) focusItem(first);
      });
    }

    function top() {
      E.top.replaceChildren(standing(), S.ban ? '' : S.open ? composer(null, null) : h('p', {class: 'note', text: L.closed}));
    }
    var api2 = {
      el: el,
      // after a login or logout: a full reload (votes, own comments), or just the login state
      reload: function (full) {
        if (!S.site) return;
        if (full) return reload();
        who();
        top();
      },
      destroy: function () {
        if (S.es) S.es.close();
        if (io) io.disconnect();
        clearInterval(timer);
        ALL.splice(ALL.indexOf(api2), 1);
        el._parley = null;
      },
      login: login
    };
    el._parley = api2;
    ALL.push(api2);
    w.addEventListener('hashchange', function () {
      var hm = /^#comment-(\d+)$/.exec(location.hash);
      if (hm && S.site) reveal(+hm[1]);
    });
    // Lazy: load when the container comes within 600px of the viewport (at once when it already is,
    // or for a deep link).
    var box = el.getBoundingClientRect();
    if (/^#comment-\d+$/.test(location.hash) || get('lazy') == 'false' || !w.IntersectionObserver || (box.top < innerHeight + 600 && box.bottom > -600)) start();
    else {
      io = new IntersectionObserver(function (en) {
        if (en.some(function (x) { return x.isIntersecting; })) start();
      }, {rootMargin: '600px 0px'});
      io.observe(el);
    }
    return api2;
  }

  function refreshAll(full) {
    ALL.forEach(function (x) { if (x.el.isConnected) x.reload(full); });
  }
  function auto() {
    var seen = [];
    [].forEach.call(d.querySelectorAll('#parley-comments,[data-parley]'), function (el) {
      if (seen.indexOf(el) < 0 && !el._parley) {
        seen.push(el);
        mount(el);
      }
    });
  }

  w.Parley = {
    version: VERSION,
    mount: mount,
    // Log in with a publisher's SSO token (a JWT), or a Parley session token; every widget reloads.
    login: function (token) {
      var x = ALL[0];
      if (!x) return Promise.reject(new Error('no widget mounted'));
      return x.login(token).then(function () { refreshAll(true); });
    },
    logout: function () {
      var a = AUTH;
      setAuth(null);
      refreshAll(true);
      return a ? api('POST', '/auth/logout', null, {}, a).catch(function () {}) : Promise.resolve();
    }
  };
  if (d.readyState == 'loading') d.addEventListener('DOMContentLoaded', auto); else auto();
})(window, document);
