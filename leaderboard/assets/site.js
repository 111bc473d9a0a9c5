// The site's only script: sorts and filters tables, and draws charts with uPlot (shipped with the
// site). Every page reads fine without it; the charts' data come from the JSON API files.
(function () {
  'use strict';
  var charts = (window.leaderboardCharts = []);

  // ---- tables: click a header to sort by that column (numbers by value, empty cells last)
  function cellKey(row, col) {
    var cell = row.cells[col];
    if (!cell) return '';
    return cell.hasAttribute('data-v') ? cell.getAttribute('data-v') : cell.textContent.trim();
  }
  function sortTable(table, col, type, dir) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellKey(a, col), y = cellKey(b, col);
      if (x === '' || y === '') return x === y ? 0 : x === '' ? 1 : -1;
      if (type === 'num') return dir * (parseFloat(x) - parseFloat(y));
      return dir * x.localeCompare(y);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = th.querySelector('button.sort');
      if (!button) return;
      button.addEventListener('click', function () {
        var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        sortTable(table, col, th.getAttribute('data-type'), dir);
      });
    });
  });

  // ---- filter: free text over the row, and the status column
  Array.prototype.forEach.call(document.querySelectorAll('form.filter'), function (form) {
    var next = form.nextElementSibling;
    while (next && next.tagName !== 'TABLE' && !next.querySelector('table')) next = next.nextElementSibling;
    if (!next) return;
    var table = next.tagName === 'TABLE' ? next : next.querySelector('table');
    function apply() {
      var q = form.elements.q.value.trim().toLowerCase();
      var status = form.elements.status.value;
      var rows = table.tBodies[0].rows, shown = 0;
      for (var i = 0; i < rows.length; i++) {
        var r = rows[i];
        var ok = (!status || r.getAttribute('data-status') === status) && (!q || r.textContent.toLowerCase().indexOf(q) !== -1);
        r.hidden = !ok;
        if (ok) shown++;
      }
      form.elements.shown.value = shown + ' of ' + rows.length + ' on this page';
    }
    form.addEventListener('input', apply);
    form.addEventListener('change', apply);
  });

  if (typeof uPlot === 'undefined') return;
  var css = getComputedStyle(document.documentElement);
  function color(name) { return css.getPropertyValue(name).trim(); }
  function width(el) { return Math.max(320, el.clientWidth || 800); }

  // ---- progress chart: running best as a staircase, merged improvements labelled, the rest faint
  function progressChart(figure, data) {
    var n = data.t.length;
    var merged = new Array(n), other = new Array(n), failed = new Array(n);
    var lo = Infinity, hi = -Infinity;
    for (var i = 0; i < n; i++) {
      var v = data.bpb[i], b = data.best[i];
      if (v !== null && data.kind[i] !== 'baseline') { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      if (b !== null) { lo = Math.min(lo, b); hi = Math.max(hi, b); }
    }
    if (lo === Infinity) { lo = 0; hi = 8; }
    var pad = Math.max((hi - lo) * 0.08, 0.01);
    var top = hi + pad; // failed runs have no score: they sit on this line
    for (var j = 0; j < n; j++) {
      var k = data.kind[j];
      merged[j] = k === 'merged' ? data.bpb[j] : null;
      other[j] = k === 'discarded' || k === 'pending' ? data.bpb[j] : null;
      failed[j] = k === 'failed' || k === 'rejected' ? top : null;
    }
    function dots(label, stroke, fill, size) {
      return { label: label, stroke: stroke, fill: fill, paths: function () { return null; }, points: { show: true, space: 0, size: size, stroke: stroke, fill: fill } };
    }
    var opts = {
      width: width(figure), height: 320,
      scales: { x: { time: true }, y: { range: [lo - pad, top + pad / 2] } },
      axes: [{}, { label: 'val_bpb', size: 60 }],
      series: [
        {},
        { label: 'running best', stroke: color('--accent'), width: 2, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } },
        dots('merged', color('--merged'), color('--merged'), 9),
        dots('discarded / pending', 'rgba(100,110,120,0.35)', 'rgba(100,110,120,0.25)', 5),
        dots('failed (no score)', 'rgba(207,34,46,0.4)', 'rgba(207,34,46,0.2)', 5),
      ],
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          ctx.save();
          ctx.fillStyle = color('--merged');
          ctx.font = Math.round(11 * uPlot.pxRatio) + 'px system-ui, sans-serif';
          ctx.textAlign = 'left';
          for (var i = 0; i < n; i++) {
            if (merged[i] === null || data.pr[i] === null) continue;
            var x = u.valToPos(data.t[i], 'x', true), y = u.valToPos(merged[i], 'y', true);
            ctx.fillText('#' + data.pr[i], x + 6 * uPlot.pxRatio, y - 6 * uPlot.pxRatio);
          }
          ctx.restore();
        }],
      },
    };
    var plot = new uPlot(opts, [data.t, data.best, merged, other, failed], figure.querySelector('.chart'));
    var points = 0;
    for (var s = 2; s <= 4; s++) for (var p = 0; p < n; p++) if (plot.data[s][p] !== null) points++;
    figure.setAttribute('data-rendered-points', String(points));
    charts.push({ kind: 'progress', hardware_class: data.hardware_class, plot: plot, points: points });
  }

  Array.prototype.forEach.call(document.querySelectorAll('figure.progress[data-src]'), function (figure) {
    fetch(figure.getAttribute('data-src'))
      .then(function (r) { if (!r.ok) throw new Error(r.status + ' ' + r.statusText); return r.json(); })
      .then(function (data) { progressChart(figure, data); })
      .catch(function (e) {
        figure.querySelector('.chart').textContent = 'Could not load the chart data (' + e.message + ').';
        figure.setAttribute('data-rendered-points', 'error');
      });
  });

  // ---- loss curve of one experiment
  var lossData = document.getElementById('loss-curve');
  var lossFigure = document.querySelector('figure.loss');
  if (lossData && lossFigure) {
    var curve = JSON.parse(lossData.textContent);
    var plot = new uPlot({
      width: width(lossFigure), height: 260,
      scales: { x: { time: false } },
      axes: [{ label: 'step' }, { label: 'loss (nats)', size: 60 }],
      series: [{ label: 'step' }, { label: 'loss', stroke: color('--accent'), width: 1.5 }],
    }, [curve.step, curve.loss], lossFigure.querySelector('.chart'));
    lossFigure.setAttribute('data-rendered-points', String(curve.step.length));
    charts.push({ kind: 'loss', plot: plot, points: curve.step.length });
  }
})();
