/* Parley moderation workspace: keyboard shortcuts and small comforts on top of htmx.
 * Progressive enhancement: every action is a button or form that works by mouse without this file.
 * No inline scripts or styles anywhere (the workspace's CSP has no 'unsafe-inline').
 */
(function () {
  'use strict';
  var d = document;

  function csrf() { return d.body ? d.body.getAttribute('data-csrf') || '' : ''; }

  // every htmx request carries the session's CSRF token (also set through hx-headers on <body>)
  d.addEventListener('htmx:configRequest', function (e) {
    if (csrf()) e.detail.headers['X-CSRF-Token'] = csrf();
  });

  function toast(text, bad) {
    var t = d.getElementById('toast');
    if (!t) return;
    t.textContent = text;
    t.className = 'toast' + (bad ? ' bad' : '');
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.hidden = true; }, 4000);
  }

  // problems come back as application/problem+json: show their title, go to login on 401
  d.addEventListener('htmx:responseError', function (e) {
    var xhr = e.detail.xhr, title = 'Error ' + xhr.status;
    if (xhr.status === 401) { window.location.href = '/moderate/login?next=' + encodeURIComponent(location.pathname + location.search); return; }
    try { title = JSON.parse(xhr.responseText).title || title; } catch (err) { /* not JSON */ }
    toast(title, true);
  });

  function cards() {
    return Array.prototype.slice.call(d.querySelectorAll('.cards > .card:not(.done), .card.appeal'));
  }
  function current() {
    var a = d.activeElement;
    return a && a.closest ? a.closest('.card') : null;
  }
  function move(step) {
    var list = cards();
    if (!list.length) return;
    var i = list.indexOf(current());
    var next = list[Math.max(0, Math.min(list.length - 1, i < 0 ? 0 : i + step))];
    next.focus();
    next.scrollIntoView({block: 'nearest'});
  }

  // after a card was decided, go on with the next one
  d.addEventListener('htmx:afterSettle', function () {
    var done = d.querySelector('.card.done:not([data-seen])');
    if (!done) return;
    done.setAttribute('data-seen', '1');
    var list = cards(), after = null;
    for (var i = 0; i < list.length; i++) {
      if (done.compareDocumentPosition(list[i]) & Node.DOCUMENT_POSITION_FOLLOWING) { after = list[i]; break; }
    }
    var target = after || list[list.length - 1];
    if (target) { target.focus(); target.scrollIntoView({block: 'nearest'}); }
  });

  function help() {
    var dlg = d.getElementById('help');
    if (!dlg) return;
    if (dlg.open) dlg.close(); else dlg.showModal();
  }

  d.addEventListener('click', function (e) {
    var t = e.target;
    if (t.closest && t.closest('[data-help]')) help();
    if (t.closest && t.closest('[data-close-drawer]')) { d.getElementById('drawer').innerHTML = ''; }
  });

  // selection counter of the bulk bar
  d.addEventListener('change', function (e) {
    if (e.target.classList && e.target.classList.contains('pick')) {
      var out = d.querySelector('[data-selected]');
      if (out) out.textContent = d.querySelectorAll('.pick:checked').length;
    }
  });

  d.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var tag = (e.target.tagName || '').toLowerCase();
    var typing = tag === 'input' || tag === 'textarea' || tag === 'select' || e.target.isContentEditable;
    if (typing) {
      // Enter in the reason picker of a reject form submits it
      if (tag === 'select' && e.key === 'Enter' && e.target.form) { e.preventDefault(); e.target.form.requestSubmit(); }
      if (e.key === 'Escape') e.target.blur();
      return;
    }
    var card = current();
    switch (e.key) {
      case 'j': move(1); break;
      case 'k': move(-1); break;
      case '?': help(); break;
      case 'u':
        var undo = d.querySelector('header.top [hx-post="/moderate/undo"]');
        if (undo) undo.click();
        break;
      case 'a':
        if (!card) { move(0); card = current(); }
        var approve = card && card.querySelector('[data-action="approve"]');
        if (approve) approve.click();
        break;
      case 'r':
        if (!card) { move(0); card = current(); }
        var rej = card && card.querySelector('details[data-action="reject"]');
        if (rej) { rej.open = true; var sel = rej.querySelector('select'); if (sel) sel.focus(); }
        break;
      case 'x':
        var pick = card && card.querySelector('.pick');
        if (pick) { pick.checked = !pick.checked; pick.dispatchEvent(new Event('change', {bubbles: true})); }
        break;
      case 'o':
        var who = card && card.querySelector('[data-author]');
        if (who) who.click();
        break;
      default: return;
    }
    e.preventDefault();
  });
})();
