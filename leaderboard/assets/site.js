// The site's only script: sorts and filters tables (the experiments table across every experiment,
// from experiments/all.json), and draws charts with uPlot (shipped with the site). Every page
// reads fine without it; the charts' data come from the JSON files beside the pages.
(function () {
  'use strict';
  var charts = (window.leaderboardCharts = []);
  var fromDisk = location.protocol === 'file:';
  var DISK_NOTE = 'This page was opened from disk: browsers do not let a file:// page load the data files the charts and the search read. Serve the folder instead (npm run leaderboard -- preview <site dir>, or python3 -m http.server in it) and open the http://localhost address it prints.';

  if (fromDisk) {
    var main = document.querySelector('main');
    var note = document.createElement('p');
    note.className = 'disk-note';
    note.setAttribute('role', 'note');
    note.textContent = DISK_NOTE;
    if (main) main.insertBefore(note, main.firstChild);
  }

  function fetchJson(url) {
    if (fromDisk) return Promise.reject(new Error('opened from disk: serve the folder over http to see it'));
    return fetch(url).then(function (r) {
      if (!r.ok) throw new Error(url + ': ' + r.status + ' ' + r.statusText);
      return r.json();
    });
  }
  // Unicode's bidirectional controls reorder what a reader sees (a title that flips the text
  // after it): shown as <U+202E>, as the pages built by html.ts show them
  function visible(text) {
    return String(text).replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, function (c) {
      return '<U+' + ('000' + c.charCodeAt(0).toString(16).toUpperCase()).slice(-4) + '>';
    });
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) if (attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = visible(text);
    return e;
  }
  function bpb(v) { return v === null || v === undefined ? '—' : v.toFixed(4); }
  function delta(v) { return v === null || v === undefined ? '—' : (v > 0 ? '+' : v < 0 ? '−' : '±') + Math.abs(v).toFixed(4); }
  function time(unix) { return new Date(unix * 1000).toISOString().slice(0, 16).replace('T', ' ') + ' UTC'; }

  // ---- plain sortable tables (contributors): click a header to sort its rows
  function cellKey(row, col) {
    var cell = row.cells[col];
    if (!cell) return '';
    return cell.hasAttribute('data-v') ? cell.getAttribute('data-v') : cell.textContent.trim();
  }
  function compare(x, y, type, dir) {
    if (x === '' || x === null || y === '' || y === null) return x === y ? 0 : x === '' || x === null ? 1 : -1;
    if (type === 'num') return dir * (parseFloat(x) - parseFloat(y));
    return dir * String(x).localeCompare(String(y));
  }
  function headers(table, onSort) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = th.querySelector('button.sort');
      if (!button) return;
      button.addEventListener('click', function () {
        var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        onSort(col, th.getAttribute('data-type'), dir);
      });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    if (table.classList.contains('experiments') && document.querySelector('form.filter[data-all]')) return;
    headers(table, function (col, type, dir) {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) { return compare(cellKey(a, col), cellKey(b, col), type, dir); });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });

  // ---- the experiments table: filter and sort every experiment, not only this page's rows
  Array.prototype.forEach.call(document.querySelectorAll('form.filter[data-all]'), function (form) {
    var table = document.querySelector('table.experiments');
    if (!table) return;
    var body = table.tBodies[0];
    var original = Array.prototype.slice.call(body.rows);
    var root = form.getAttribute('data-root');
    var SHOW = 250;
    var all = null, loading = null, sort = null;
    // the all.json columns each table column sorts by (see experiments-table.ts)
    var KEYS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    function load() {
      if (!loading) loading = fetchJson(form.getAttribute('data-all')).then(function (d) { all = d; return d; });
      return loading;
    }
    function row(r) {
      var status = all.statuses[r[8]], cls = all.classes[r[5]] || '';
      var tr = el('tr', { 'data-status': status });
      var td = el('td', { 'data-v': r[1] === null ? -1 : r[1] });
      td.appendChild(el('a', { href: root + all.url.replace('{id}', r[0]) }, r[1] === null ? 'main' : '#' + r[1]));
      tr.appendChild(td);
      tr.appendChild(el('td', { class: 'title' }, r[2] || ''));
      tr.appendChild(el('td', {}, r[3] || ''));
      tr.appendChild(el('td', {}, r[4] || ''));
      tr.appendChild(el('td', {}, cls));
      tr.appendChild(el('td', { class: 'num', 'data-v': r[6] === null ? '' : r[6] }, bpb(r[6])));
      tr.appendChild(el('td', { class: 'num', 'data-v': r[7] === null ? '' : r[7] }, delta(r[7])));
      var st = el('td');
      st.appendChild(el('span', { class: 'status ' + status }, status));
      tr.appendChild(st);
      tr.appendChild(el('td', { class: 'verify', 'data-v': r[9] ? (r[9][0] ? 'agreed' : 'disagreed') : '' }, r[9] ? (r[9][0] ? 'agreed' : 'disagreed') + ' (' + bpb(r[9][1]) + ')' : '—'));
      tr.appendChild(el('td', { class: 'time', 'data-v': r[10] }, time(r[10])));
      return tr;
    }
    function apply() {
      var q = form.elements.q.value.trim().toLowerCase();
      var status = form.elements.status.value, cls = form.elements.cls.value;
      if (!q && !status && !cls && !sort) {
        body.textContent = '';
        original.forEach(function (r) { body.appendChild(r); });
        form.elements.shown.value = '';
        return;
      }
      form.elements.shown.value = 'searching all experiments…';
      load().then(function () {
        var s = all.statuses.indexOf(status), c = all.classes.indexOf(cls);
        var rows = all.rows.filter(function (r) {
          if (status && r[8] !== s) return false;
          if (cls && r[5] !== c) return false;
          if (!q) return true;
          return (('#' + r[1] + ' ' + (r[2] || '') + ' ' + (r[3] || '') + ' ' + (r[4] || '') + ' ' + (all.classes[r[5]] || '')).toLowerCase().indexOf(q) !== -1);
        });
        if (sort) {
          var k = KEYS[sort.col];
          rows.sort(function (a, b) {
            // val_bpb compares only within a hardware class: sort by class first
            if (k === 6 && a[5] !== b[5]) return a[5] - b[5];
            var x = a[k], y = b[k];
            if (k === 5) { x = all.classes[x]; y = all.classes[y]; }
            if (k === 8) { x = all.statuses[x]; y = all.statuses[y]; }
            if (k === 9) { x = x ? (x[0] ? 'agreed' : 'disagreed') : null; y = y ? (y[0] ? 'agreed' : 'disagreed') : null; }
            return compare(x, y, sort.type, sort.dir) || b[0] - a[0];
          });
        } else rows.reverse(); // newest first
        body.textContent = '';
        rows.slice(0, SHOW).forEach(function (r) { body.appendChild(row(r)); });
        form.elements.shown.value = rows.length + ' of ' + all.rows.length + ' experiments match' + (rows.length > SHOW ? '; the first ' + SHOW + ' are shown' : '');
      }).catch(function (e) {
        form.elements.shown.value = 'could not load the experiments (' + e.message + ')';
      });
    }
    headers(table, function (col, type, dir) {
      sort = { col: col, type: type, dir: dir };
      apply();
    });
    form.addEventListener('input', apply);
    form.addEventListener('change', apply);
  });

  function chartError(figure, e) {
    var box = figure.querySelector('.chart');
    box.textContent = 'Could not load the chart data (' + e.message + ').';
    box.classList.add('chart-error');
    figure.setAttribute('data-rendered-points', 'error');
  }

  if (typeof uPlot === 'undefined') return;
  var css = getComputedStyle(document.documentElement);
  function color(name) { return css.getPropertyValue(name).trim(); }
  function width(el) { return Math.max(280, el.clientWidth || 800); }

  // ---- progress chart: running best as a staircase, merged improvements labelled, the rest
  // faint; pointing at a dot shows its PR, title and score, clicking it opens the experiment
  function progressChart(figure, data) {
    var n = data.t.length;
    var merged = new Array(n), other = new Array(n), failed = new Array(n);
    // The scale is set by the running best (baselines and merges: what the App accepted) and
    // reaches out to the other scores by at most three times its span (0.5 at least): a runner's
    // claim of 1e308 (or of 1e-300) would otherwise flatten every other point onto one line. A
    // score beyond that sits on the edge; its tip still says what it is.
    var blo = Infinity, bhi = -Infinity;
    for (var i = 0; i < n; i++) {
      var b = data.best[i];
      if (b !== null) { blo = Math.min(blo, b); bhi = Math.max(bhi, b); }
    }
    var floor = 0, ceil = 8; // a uniform model scores 8.0
    if (blo !== Infinity) {
      var reach = Math.max(3 * (bhi - blo), 0.5);
      floor = Math.max(0, blo - reach);
      ceil = bhi + reach;
    }
    function clamp(v) { return v === null ? null : Math.min(ceil, Math.max(floor, v)); }
    var lo = blo, hi = bhi;
    for (var i2 = 0; i2 < n; i2++) {
      var v = clamp(data.bpb[i2]);
      if (v !== null && data.kind[i2] !== 'baseline') { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
    if (lo === Infinity) { lo = 0; hi = 8; }
    var pad = Math.max((hi - lo) * 0.08, 0.01);
    var top = hi + pad; // failed runs have no score: they sit on this line
    for (var j = 0; j < n; j++) {
      var k = data.kind[j];
      merged[j] = k === 'merged' ? clamp(data.bpb[j]) : null;
      other[j] = k === 'discarded' || k === 'pending' ? clamp(data.bpb[j]) : null;
      failed[j] = k === 'failed' || k === 'rejected' ? top : null;
    }
    function dots(label, stroke, fill, size) {
      return { label: label, stroke: stroke, fill: fill, paths: function () { return null; }, points: { show: true, space: 0, size: size, stroke: stroke, fill: fill } };
    }
    var box = figure.querySelector('.chart');
    var tip = el('div', { class: 'tip', role: 'status' });
    tip.hidden = true;
    var hover = -1;
    var url = figure.getAttribute('data-experiment');
    var opts = {
      width: width(figure), height: 320,
      scales: { x: { time: true }, y: { range: [lo - pad, top + pad / 2] } },
      axes: [{}, { label: 'val_bpb', size: 60 }],
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      series: [
        {},
        { label: 'running best', stroke: color('--accent'), width: 2, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } },
        dots('merged', color('--merged'), color('--merged'), 9),
        dots('discarded / pending', 'rgba(100,110,120,0.35)', 'rgba(100,110,120,0.25)', 5),
        dots('failed (no score)', 'rgba(207,34,46,0.4)', 'rgba(207,34,46,0.2)', 5),
      ],
      hooks: {
        draw: [function (u) {
          // label each record with its PR, skipping a label that would overlap one already drawn
          var ctx = u.ctx, r = uPlot.pxRatio, drawn = [];
          ctx.save();
          ctx.fillStyle = color('--merged');
          ctx.font = Math.round(11 * r) + 'px system-ui, sans-serif';
          ctx.textAlign = 'left';
          for (var i = 0; i < n; i++) {
            if (merged[i] === null || data.pr[i] === null) continue;
            var text = '#' + data.pr[i];
            var x = u.valToPos(data.t[i], 'x', true) + 6 * r, y = u.valToPos(merged[i], 'y', true) - 6 * r;
            var w = ctx.measureText(text).width, h = 12 * r;
            var clash = drawn.some(function (d) { return x < d[0] + d[2] + 3 * r && d[0] < x + w + 3 * r && Math.abs(d[1] - y) < h; });
            if (clash) continue;
            drawn.push([x, y, w]);
            ctx.fillText(text, x, y);
          }
          ctx.restore();
        }],
        setCursor: [function (u) {
          // the nearest dot within 10 px of the pointer, among those near its x
          var left = u.cursor.left, topPx = u.cursor.top;
          hover = -1;
          if (left === undefined || left < 0) { tip.hidden = true; return; }
          var idx = u.cursor.idx, best = 100;
          if (idx === null || idx === undefined) { tip.hidden = true; return; }
          for (var d = -60; d <= 60; d++) {
            var p = idx + d;
            if (p < 0 || p >= n) continue;
            for (var s = 2; s <= 4; s++) {
              var val = u.data[s][p];
              if (val === null) continue;
              var dx = u.valToPos(data.t[p], 'x') - left, dy = u.valToPos(val, 'y') - topPx;
              var dist = dx * dx + dy * dy;
              if (dist < best) { best = dist; hover = p; }
            }
          }
          if (hover < 0 || data.id[hover] === null) { tip.hidden = true; hover = -1; u.over.style.cursor = ''; return; }
          var kind = data.kind[hover];
          tip.textContent = visible((data.pr[hover] === null ? 'main' : '#' + data.pr[hover]) + (data.title && data.title[hover] ? ' ' + data.title[hover] : '') + ' · ' + kind + ' · ' + (data.bpb[hover] === null ? 'no score' : 'val_bpb ' + bpb(data.bpb[hover])) + ' · ' + time(data.t[hover]));
          tip.hidden = false;
          tip.style.left = Math.min(left + 12, u.over.clientWidth - 180) + 'px';
          tip.style.top = Math.max(0, topPx - 34) + 'px';
          u.over.style.cursor = 'pointer';
        }],
      },
    };
    var plot = new uPlot(opts, [data.t, data.best, merged, other, failed], box);
    plot.over.appendChild(tip);
    plot.over.addEventListener('click', function () {
      if (hover >= 0 && url) location.href = url.replace('{id}', data.id[hover]);
    });
    var points = 0;
    for (var s = 2; s <= 4; s++) for (var p = 0; p < n; p++) if (plot.data[s][p] !== null) points++;
    figure.setAttribute('data-rendered-points', String(points));
    charts.push({ kind: 'progress', hardware_class: data.hardware_class, plot: plot, points: points, hoverAt: function (i) { return { left: plot.valToPos(data.t[i], 'x'), top: plot.valToPos(plot.data[2][i] !== null ? plot.data[2][i] : plot.data[3][i] !== null ? plot.data[3][i] : plot.data[4][i], 'y') }; }, data: data });
  }

  Array.prototype.forEach.call(document.querySelectorAll('figure.progress[data-src]'), function (figure) {
    fetchJson(figure.getAttribute('data-src'))
      .then(function (data) { progressChart(figure, data); })
      .catch(function (e) { chartError(figure, e); });
  });

  // ---- loss curve of one experiment, beside the record it tried to beat (files: curve.ts)
  function expand(c) {
    var s = 0, step = [], y = [];
    for (var i = 0; i < c.d_step.length; i++) { s += c.d_step[i]; step.push(s); y.push(c.m_bpb[i] / 1000); }
    return [step, y];
  }
  Array.prototype.forEach.call(document.querySelectorAll('figure.loss[data-src]'), function (figure) {
    var compare = figure.getAttribute('data-compare');
    Promise.all([fetchJson(figure.getAttribute('data-src')), compare ? fetchJson(compare).catch(function () { return null; }) : null])
      .then(function (got) {
        var own = expand(got[0]);
        var series = [{ label: 'step' }, { label: figure.getAttribute('data-label') || 'this run', stroke: color('--accent'), width: 1.5 }];
        var data = [own[0], own[1]];
        if (got[1]) {
          data = uPlot.join([own, expand(got[1])]);
          series.push({ label: figure.getAttribute('data-compare-label') || 'record', stroke: color('--merged'), width: 1.5, dash: [6, 4], spanGaps: true });
        }
        series[1].spanGaps = true;
        var plot = new uPlot({
          width: width(figure), height: 260,
          scales: { x: { time: false } },
          axes: [{ label: 'step' }, { label: 'train loss (bits/byte)', size: 60 }],
          series: series,
        }, data, figure.querySelector('.chart'));
        figure.setAttribute('data-rendered-points', String(own[0].length));
        charts.push({ kind: 'loss', plot: plot, points: own[0].length, compared: Boolean(got[1]) });
      })
      .catch(function (e) { chartError(figure, e); });
  });
})();
