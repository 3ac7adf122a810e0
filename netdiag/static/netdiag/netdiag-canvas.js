/*
 * netdiag canvas layers (part of netdiag, MIT licence).
 *
 * Large layers (sectors, sites, complaints, tickets, hotspots) arrive as packed columns
 * (netdiag/views/columns.py): base64 of zlib-compressed JSON, unpacked here with the browser's
 * DecompressionStream; coordinates are integers of 1e-5 degree, each row's the difference from
 * the previous row's. Features are drawn on one canvas per layer (a Leaflet renderer, so it
 * pans and zooms with the map) and redrawn when the map stops moving. A popup is built from the
 * columns only when a feature is clicked; every text goes in through textContent.
 *
 * Kinds: 'points' (optionally clustered on a screen grid, optionally linked to other places),
 * 'wedges' (sectors: centre, azimuth, half-angle, radius, mast zone) and 'polygons' (hotspots:
 * centre plus corner offsets).
 */
(function (root) {
  'use strict';
  var nd = root.netdiag = root.netdiag || {};
  var SEP = '\x1f';
  var SCALE = 1e5;                 // integer coordinates are 1e-5 degree
  var EARTH = 2 * Math.PI * 6378137;  // Web Mercator's world width in metres
  var MAX_LAT = 85.0511287798;
  var PROBLEM_MIN_PX = 8;          // below the sector zoom, a sector with a problem is drawn at least this big
  var canvases = nd.canvases = [];

  // ------------------------------------------------------------------ unpacking
  // the object packed in the page's data block with this id
  nd.unpack = function (blockId) {
    var block = document.getElementById(blockId), b64 = block ? block.textContent : '';
    if (block) { block.textContent = ''; }  // the text is not needed once read
    if (typeof root.DecompressionStream === 'undefined') {
      return Promise.reject(new Error('This browser cannot unpack the map data: it needs DecompressionStream ' +
                                      '(Chrome or Edge 80, Firefox 113, Safari 16.4 or later).'));
    }
    var bin = root.atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new root.DecompressionStream('deflate'));
    return new Response(stream).text().then(JSON.parse);
  };

  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function minuteText(m) {
    var d = new Date(m * 60000);
    return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + ' ' +
      pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
  }

  // One column of a layer: joined text {j}, dictionary {d, i}, local minutes {m, b} (after the
  // row's time in popup column r, when r is given), numbers {n}, or text that is mostly another
  // layer's {ref, c, x, rows, own}.
  function Column(c, layer) {
    this.c = c;
    this.layer = layer;
    this.text = c.j !== undefined ? c.j : c.d;
    this.starts = null;
    if (c.ref !== undefined) {  // rows: null = own text (the next of `own`), else the step from the previous row
      var rows = new Int32Array(c.rows.length), own = new Int32Array(c.rows.length), row = -1, k = 0;
      for (var i = 0; i < rows.length; i++) {
        if (c.rows[i] === null) { rows[i] = -1; own[i] = k++; } else { row += c.rows[i]; rows[i] = row; }
      }
      this.rows = rows;
      this.ownIndex = own;
      this.own = new Column(c.own, layer);
    }
  }
  Column.prototype.minutes = function (i) {
    var c = this.c, v = c.m[i];
    if (v === null || v === undefined) { return null; }
    if (c.r === undefined) { return c.b + v; }
    var base = this.layer.popupCols[c.r].minutes(i);
    return base === null ? null : base + v;
  };
  Column.prototype._ref = function (i) {
    var r = this.rows[i];
    if (r < 0) { return this.own.get(this.ownIndex[i]); }
    var other = nd.layers[this.c.ref] && nd.layers[this.c.ref].layer;
    if (!other || !other.ready) { return ''; }
    if (this.c.c === 'id') {
      var id = other.id.get(r);
      return this.c.x ? id.slice(id.indexOf(':') + 1) : id;
    }
    return other.popupCols[this.c.c].get(r);
  };
  Column.prototype._starts = function () {
    if (!this.starts) {
      var s = [0], t = this.text, p = t.indexOf(SEP);
      while (p >= 0) { s.push(p + 1); p = t.indexOf(SEP, p + 1); }
      s.push(t.length + 1);
      this.starts = s;
    }
    return this.starts;
  };
  Column.prototype._word = function (k) {
    var s = this._starts();
    return this.text.substring(s[k], s[k + 1] - 1);
  };
  Column.prototype.get = function (i) {
    var c = this.c, v;
    if (c.j !== undefined) { return this._word(i); }
    if (c.d !== undefined) { return this._word(c.i[i]); }
    if (c.m !== undefined) { v = this.minutes(i); return v === null ? '' : minuteText(v); }
    if (c.ref !== undefined) { return this._ref(i); }
    v = c.n[i];
    return v === null || v === undefined ? '' : String(v);
  };
  // the row holding exactly this text, or -1
  Column.prototype.find = function (value) {
    if (this.text === undefined || value.indexOf(SEP) >= 0) { return -1; }
    var t = this.text, pos;
    if (t === value || t.slice(0, value.length + 1) === value + SEP) { pos = 0; }
    else {
      pos = t.indexOf(SEP + value + SEP);
      if (pos < 0 && t.length > value.length && t.slice(t.length - value.length - 1) === SEP + value) {
        pos = t.length - value.length - 1;
      }
      if (pos < 0) { return -1; }
      pos += 1;
    }
    var s = this._starts(), lo = 0, hi = s.length - 2;
    while (lo < hi) {  // the word that starts at pos
      var mid = (lo + hi + 1) >> 1;
      if (s[mid] <= pos) { lo = mid; } else { hi = mid - 1; }
    }
    return this.c.j !== undefined ? lo : this.c.i.indexOf(lo);
  };

  // running sums of differences, as integers
  function undelta(values) {
    var out = new Int32Array(values.length), acc = 0;
    for (var i = 0; i < values.length; i++) { acc += values[i]; out[i] = acc; }
    return out;
  }

  function mercX(lon) { return (lon + 180) / 360; }
  function mercY(lat) {
    lat = Math.max(-MAX_LAT, Math.min(MAX_LAT, lat));
    var s = Math.sin(lat * Math.PI / 180);
    return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
  }

  // ------------------------------------------------------------------ the layer
  var CanvasLayer = L.Renderer.extend({
    options: {padding: 0.25},

    initialize: function (spec, packed) {
      this.spec = spec;
      L.Renderer.prototype.initialize.call(this, {pane: 'nd-' + spec.cls});
      this.n = 0;
      this.ready = false;
      this.drawn = 0;
      var self = this;
      this.loading = nd.unpack(packed).then(function (data) { self._setData(data); }).catch(nd.fail);
      nd.pending.push(this.loading);
      nd.layers[spec.cls] = {layer: this, count: spec.n};
      canvases.push(this);
    },

    onAdd: function (map) {
      var name = this.options.pane;
      if (!map.getPane(name)) {
        var pane = map.createPane(name);
        pane.style.zIndex = String(this.spec.z || 400);
        pane.style.pointerEvents = 'none';
      }
      L.Renderer.prototype.onAdd.call(this, map);
    },

    _initContainer: function () {
      var c = this._container = document.createElement('canvas');
      c.className = 'nd-canvas ' + this.spec.cls;
      this._ctx = c.getContext('2d');
    },

    _destroyContainer: function () {
      L.DomUtil.remove(this._container);
      delete this._ctx;
      delete this._container;
    },

    _update: function () {
      if (this._map._animatingZoom && this._bounds) { return; }
      L.Renderer.prototype._update.call(this);
      var b = this._bounds, size = b.getSize(), c = this._container, ratio = L.Browser.retina ? 2 : 1;
      L.DomUtil.setPosition(c, b.min);
      c.width = ratio * size.x;
      c.height = ratio * size.y;
      c.style.width = size.x + 'px';
      c.style.height = size.y + 'px';
      this._ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      this._draw();
    },

    _setData: function (d) {
      var s = this.spec, n = d.lon.length, i;
      d.lon = undelta(d.lon);
      d.lat = undelta(d.lat);
      this.d = d;
      this.n = n;
      this.mx = new Float64Array(n);
      this.my = new Float64Array(n);
      for (i = 0; i < n; i++) {
        this.mx[i] = mercX(d.lon[i] / SCALE);
        this.my[i] = mercY(d.lat[i] / SCALE);
      }
      var self = this;
      this.id = new Column(d.id, this);
      this.popupCols = (d.p || []).map(function (c) { return c === null ? null : new Column(c, self); });
      this.tip = d.t ? new Column(d.t, this) : null;
      // rows grouped by colour key, in the key order (later keys are drawn on top)
      var nk = s.keys.length + 1, count = new Int32Array(nk + 1);
      for (i = 0; i < n; i++) { count[d.k[i] + 1]++; }
      for (i = 1; i <= nk; i++) { count[i] += count[i - 1]; }
      this.groupStart = count.slice();
      var fill = count.slice(), order = new Int32Array(n);
      for (i = 0; i < n; i++) { order[fill[d.k[i]]++] = i; }
      this.order = order;
      if (d.links) {
        var m = d.links.from.length;
        d.links.lon = undelta(d.links.lon);
        d.links.lat = undelta(d.links.lat);
        this.lx = new Float64Array(m);
        this.ly = new Float64Array(m);
        for (i = 0; i < m; i++) {
          this.lx[i] = mercX(d.links.lon[i] / SCALE);
          this.ly[i] = mercY(d.links.lat[i] / SCALE);
        }
      }
      if (s.kind === 'wedges') {
        this.rn = new Float64Array(n);  // radius and mast zone in world widths (x 256 * 2^zoom = pixels)
        this.mn = new Float64Array(n);
        for (i = 0; i < n; i++) {
          var k = 1 / (EARTH * Math.cos(d.lat[i] / SCALE * Math.PI / 180));
          this.rn[i] = d.rm[i] * k;
          this.mn[i] = d.mast[i] * k;
        }
      }
      if (s.kind === 'polygons') {
        var corners = s.corners, vx = new Float64Array(n * corners), vy = new Float64Array(n * corners);
        this.reach = new Float64Array(n);
        for (i = 0; i < n; i++) {
          var lon = d.lon[i], lat = d.lat[i], far = 0;
          for (var j = 0; j < corners; j++) {
            var q = i * corners + j;
            vx[q] = mercX((lon + d.ring[2 * q]) / SCALE);
            vy[q] = mercY((lat + d.ring[2 * q + 1]) / SCALE);
            far = Math.max(far, Math.abs(vx[q] - this.mx[i]), Math.abs(vy[q] - this.my[i]));
          }
          this.reach[i] = far;
        }
        this.vx = vx;
        this.vy = vy;
      }
      this.ready = true;
      if (this._map) { this._draw(); }
    },

    _keyColor: function (k) {
      return this.spec.colors[this.spec.keys[k]] || '#3388ff';
    },

    // ---------------------------------------------------------------- drawing
    _draw: function () {
      if (!this._map || !this._ctx) { return; }
      var b = this._bounds, size = b.getSize(), ctx = this._ctx;
      ctx.clearRect(0, 0, size.x, size.y);
      this.hits = null;
      if (!this.ready) { return; }
      var zoom = this._map.getZoom(), origin = this._map.getPixelOrigin();
      var view = {ctx: ctx, scale: 256 * Math.pow(2, zoom), ox: origin.x + b.min.x, oy: origin.y + b.min.y,
                  w: size.x, h: size.y, zoom: zoom};
      this.view = view;
      var t0 = root.performance.now();
      if (this.spec.kind === 'wedges') { this._drawWedges(view); }
      else if (this.spec.kind === 'polygons') { this._drawPolygons(view); }
      else if (this.spec.cluster && zoom <= this.spec.cluster.maxZoom) { this._drawClusters(view); }
      else { this._drawPoints(view); }
      this.drawMs = root.performance.now() - t0;
      this._container.setAttribute('data-draw-ms', String(Math.round(this.drawMs)));
    },

    _mark: function (attrs) {
      for (var name in attrs) { this._container.setAttribute('data-' + name, String(attrs[name])); }
    },

    _drawLinks: function (v) {
      var d = this.d, s = this.spec, ctx = v.ctx, from = d.links.from;
      ctx.lineWidth = s.lineWeight || 1.5;
      ctx.globalAlpha = 0.9;
      for (var i = 0; i < from.length; i++) {
        var a = from[i];
        ctx.beginPath();
        ctx.moveTo(this.mx[a] * v.scale - v.ox, this.my[a] * v.scale - v.oy);
        ctx.lineTo(this.lx[i] * v.scale - v.ox, this.ly[i] * v.scale - v.oy);
        ctx.strokeStyle = this._keyColor(d.k[a]);
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
    },

    _pointStyle: function (v) {
      var s = this.spec, small = s.small && v.zoom < s.small[0];
      return {r: small ? s.small[1] : (s.radius || 5), outline: !small};
    },

    _drawPoints: function (v) {
      var s = this.spec, d = this.d, ctx = v.ctx, st = this._pointStyle(v);
      if (d.links) { this._drawLinks(v); }
      var hx = [], hy = [], hr = [], hi = [];
      for (var k = 0; k < this.groupStart.length - 1; k++) {
        var a = this.groupStart[k], z = this.groupStart[k + 1];
        if (a === z) { continue; }
        ctx.beginPath();
        for (var q = a; q < z; q++) {
          var i = this.order[q], r = d.r ? d.r[i] : st.r;
          var x = this.mx[i] * v.scale - v.ox, y = this.my[i] * v.scale - v.oy;
          if (x < -r || y < -r || x > v.w + r || y > v.h + r) { continue; }
          ctx.moveTo(x + r, y);
          ctx.arc(x, y, r, 0, 2 * Math.PI);
          hx.push(x); hy.push(y); hr.push(r); hi.push(i);
        }
        if (st.outline && s.halo) { ctx.lineWidth = 3; ctx.strokeStyle = s.halo; ctx.stroke(); }
        ctx.globalAlpha = s.fillOpacity === undefined ? 0.9 : s.fillOpacity;
        ctx.fillStyle = this._keyColor(k);
        ctx.fill();
        ctx.globalAlpha = 1;
        if (st.outline) { ctx.lineWidth = s.halo ? 1.5 : 1; ctx.strokeStyle = s.stroke || '#222'; ctx.stroke(); }
      }
      this.hits = {x: hx, y: hy, r: hr, i: hi};
      this.drawn = hi.length;
      this._mark({points: hi.length, clusters: 0, clustered: 0});
    },

    // Points closer than spec.cluster.px on screen share a cell of a fixed world grid: one point
    // alone is drawn as itself, more as a circle with their number, ringed in their commonest key.
    _drawClusters: function (v) {
      var s = this.spec, d = this.d, ctx = v.ctx, S = s.cluster.px, nk = s.keys.length + 1, n = this.n;
      var gx0 = Math.floor(v.ox / S), gy0 = Math.floor(v.oy / S);
      var cols = Math.floor((v.ox + v.w) / S) - gx0 + 1, rows = Math.floor((v.oy + v.h) / S) - gy0 + 1;
      var cells = cols * rows, count = new Int32Array(cells), last = new Int32Array(cells);
      var sx = new Float64Array(cells), sy = new Float64Array(cells), keys = new Int32Array(cells * nk);
      var x0 = new Float64Array(cells).fill(Infinity), y0 = new Float64Array(cells).fill(Infinity);
      var x1 = new Float64Array(cells).fill(-Infinity), y1 = new Float64Array(cells).fill(-Infinity);
      var i, c;
      for (i = 0; i < n; i++) {
        var wx = this.mx[i] * v.scale, wy = this.my[i] * v.scale;
        var gx = Math.floor(wx / S) - gx0, gy = Math.floor(wy / S) - gy0;
        if (gx < 0 || gy < 0 || gx >= cols || gy >= rows) { continue; }
        c = gy * cols + gx;
        count[c]++; sx[c] += wx; sy[c] += wy; last[c] = i; keys[c * nk + d.k[i]]++;
        if (wx < x0[c]) { x0[c] = wx; }
        if (wx > x1[c]) { x1[c] = wx; }
        if (wy < y0[c]) { y0[c] = wy; }
        if (wy > y1[c]) { y1[c] = wy; }
      }
      var st = this._pointStyle(v), r = st.r, hx = [], hy = [], hr = [], hi = [], singles = 0, groups = 0, inGroups = 0;
      // single points, by key
      for (var k = 0; k < nk; k++) {
        ctx.beginPath();
        var any = false;
        for (c = 0; c < cells; c++) {
          if (count[c] !== 1 || d.k[last[c]] !== k) { continue; }
          i = last[c];
          var x = this.mx[i] * v.scale - v.ox, y = this.my[i] * v.scale - v.oy;
          ctx.moveTo(x + r, y);
          ctx.arc(x, y, r, 0, 2 * Math.PI);
          hx.push(x); hy.push(y); hr.push(r); hi.push(i);
          any = true;
          singles++;
        }
        if (!any) { continue; }
        if (s.halo) { ctx.lineWidth = 3; ctx.strokeStyle = s.halo; ctx.stroke(); }
        ctx.fillStyle = this._keyColor(k);
        ctx.fill();
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = s.stroke || '#fff';
        ctx.stroke();
      }
      // clusters
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.font = 'bold 11px "DejaVu Sans", Arial, sans-serif';
      var boxes = [];
      for (c = 0; c < cells; c++) {
        if (count[c] < 2) { continue; }
        var best = 0;
        for (k = 1; k < nk; k++) { if (keys[c * nk + k] > keys[c * nk + best]) { best = k; } }
        var cx = sx[c] / count[c] - v.ox, cy = sy[c] / count[c] - v.oy;
        var rr = 10 + 3 * Math.log(count[c]) / Math.LN10;
        ctx.beginPath();
        ctx.arc(cx, cy, rr, 0, 2 * Math.PI);
        ctx.fillStyle = 'rgba(255,255,255,0.88)';
        ctx.fill();
        ctx.lineWidth = 4;
        ctx.strokeStyle = this._keyColor(best);
        ctx.stroke();
        ctx.fillStyle = '#111';
        ctx.fillText(count[c] >= 10000 ? Math.round(count[c] / 1000) + 'k' : String(count[c]), cx, cy);
        hx.push(cx); hy.push(cy); hr.push(rr + 2); hi.push(-1 - boxes.length);
        boxes.push([x0[c] / v.scale, y0[c] / v.scale, x1[c] / v.scale, y1[c] / v.scale, count[c], best]);
        groups++;
        inGroups += count[c];
      }
      this.hits = {x: hx, y: hy, r: hr, i: hi, boxes: boxes};
      this.drawn = singles;
      this._mark({points: singles, clusters: groups, clustered: inGroups});
    },

    _wedgePath: function (ctx, i, cx, cy, r, m) {
      var az = this.d.az[i], half = this.d.half[i];
      if (az === null || az === undefined || half >= 180) {
        ctx.moveTo(cx + r, cy);
        ctx.arc(cx, cy, r, 0, 2 * Math.PI);
        return;
      }
      var a0 = (az - half - 90) * Math.PI / 180, a1 = (az + half - 90) * Math.PI / 180;
      ctx.moveTo(cx + r * Math.cos(a0), cy + r * Math.sin(a0));
      ctx.arc(cx, cy, r, a0, a1);
      if (m > 0.5) { ctx.arc(cx, cy, m, a1, a0 + 2 * Math.PI); } else { ctx.lineTo(cx, cy); }
      ctx.closePath();
    },

    // in-service sectors only from spec.minZoom; the others (spec.always) at every zoom, at least PROBLEM_MIN_PX big
    _drawWedges: function (v) {
      var s = this.spec, ctx = v.ctx, all = v.zoom >= s.minZoom, always = {};
      (s.always || []).forEach(function (key) { always[key] = true; });
      var hx = [], hy = [], hr = [], hm = [], hi = [], hidden = 0;
      var fillAlpha = s.fillOpacity === undefined ? 0.3 : s.fillOpacity;
      ctx.lineWidth = s.weight || 1;
      for (var k = 0; k < this.groupStart.length - 1; k++) {
        var a = this.groupStart[k], z = this.groupStart[k + 1], key = s.keys[k];
        if (a === z) { continue; }
        if (!all && !always[key]) { hidden += z - a; continue; }
        var color = this._keyColor(k);
        ctx.fillStyle = color;
        ctx.strokeStyle = color;
        ctx.setLineDash((s.dash && s.dash[key]) || []);
        // each wedge filled on its own (overlaps add up, as the eye expects); the outlines of a
        // batch stroked as one path (much cheaper than one stroke each)
        var outline = new Path2D(), batch = 0;
        ctx.globalAlpha = fillAlpha;
        for (var q = a; q < z; q++) {
          var i = this.order[q], r = this.rn[i] * v.scale, m = this.mn[i] * v.scale;
          if (!all) { m = m * Math.max(1, PROBLEM_MIN_PX / r); r = Math.max(r, PROBLEM_MIN_PX); }
          var x = this.mx[i] * v.scale - v.ox, y = this.my[i] * v.scale - v.oy;
          if (x < -r || y < -r || x > v.w + r || y > v.h + r) { continue; }
          var path = new Path2D();
          this._wedgePath(path, i, x, y, r, m);
          ctx.fill(path);
          outline.addPath(path);
          if (++batch === 500) { ctx.globalAlpha = 0.9; ctx.stroke(outline); ctx.globalAlpha = fillAlpha; outline = new Path2D(); batch = 0; }
          hx.push(x); hy.push(y); hr.push(r); hm.push(m); hi.push(i);
        }
        ctx.globalAlpha = 0.9;
        ctx.stroke(outline);
        ctx.setLineDash([]);
        ctx.globalAlpha = 1;
      }
      this.hits = {x: hx, y: hy, r: hr, m: hm, i: hi};
      this.drawn = hi.length;
      this._mark({wedges: hi.length, hidden: hidden});
    },

    _drawPolygons: function (v) {
      var s = this.spec, ctx = v.ctx, corners = s.corners, hi = [];
      for (var k = 0; k < this.groupStart.length - 1; k++) {
        var a = this.groupStart[k], z = this.groupStart[k + 1];
        if (a === z) { continue; }
        ctx.beginPath();
        for (var q = a; q < z; q++) {
          var i = this.order[q], reach = this.reach[i] * v.scale;
          var x = this.mx[i] * v.scale - v.ox, y = this.my[i] * v.scale - v.oy;
          if (x < -reach || y < -reach || x > v.w + reach || y > v.h + reach) { continue; }
          for (var j = 0; j < corners; j++) {
            var px = this.vx[i * corners + j] * v.scale - v.ox, py = this.vy[i * corners + j] * v.scale - v.oy;
            if (j === 0) { ctx.moveTo(px, py); } else { ctx.lineTo(px, py); }
          }
          ctx.closePath();
          hi.push(i);
        }
        var color = this._keyColor(k);
        ctx.globalAlpha = s.fillOpacity === undefined ? 0.3 : s.fillOpacity;
        ctx.fillStyle = color;
        ctx.fill();
        ctx.globalAlpha = 0.9;
        ctx.lineWidth = s.weight || 1;
        ctx.strokeStyle = color;
        ctx.stroke();
        ctx.globalAlpha = 1;
      }
      this.hits = {i: hi};
      this.drawn = hi.length;
      this._mark({polygons: hi.length});
    },

    // ---------------------------------------------------------------- hit testing
    // What is under a layer point: {rows: [row, ...] (topmost first)} or {box: [...] (a cluster)}, or null.
    hit: function (lp) {
      if (!this.hits || !this._bounds) { return null; }
      var h = this.hits, x = lp.x - this._bounds.min.x, y = lp.y - this._bounds.min.y, rows = [], j;
      var kind = this.spec.kind;
      if (kind === 'polygons') {
        for (j = h.i.length - 1; j >= 0; j--) { if (this._inPolygon(h.i[j], x, y)) { rows.push(h.i[j]); break; } }
        return rows.length ? {rows: rows} : null;
      }
      for (j = h.i.length - 1; j >= 0; j--) {
        var dx = x - h.x[j], dy = y - h.y[j], dist2 = dx * dx + dy * dy, r = h.r[j];
        if (kind === 'wedges') {
          if (dist2 > r * r || !this._inWedge(h.i[j], dx, dy, Math.sqrt(dist2), h.m[j])) { continue; }
          return {rows: [h.i[j]]};
        }
        var reach = Math.max(r + 2, 6);
        if (dist2 > reach * reach) { continue; }
        if (h.i[j] < 0) { return rows.length ? {rows: rows} : {box: h.boxes[-1 - h.i[j]]}; }
        rows.push(h.i[j]);
      }
      return rows.length ? {rows: rows} : null;
    },

    _inWedge: function (i, dx, dy, dist, m) {
      var az = this.d.az[i], half = this.d.half[i];
      if (az === null || az === undefined || half >= 180 || dist <= m) { return true; }
      var bearing = Math.atan2(dy, dx) * 180 / Math.PI + 90;
      var off = Math.abs(((bearing - az) % 360 + 540) % 360 - 180);
      return off <= half;
    },

    _inPolygon: function (i, x, y) {
      var v = this.view, corners = this.spec.corners, inside = false;
      for (var a = 0, b = corners - 1; a < corners; b = a++) {
        var ax = this.vx[i * corners + a] * v.scale - v.ox, ay = this.vy[i * corners + a] * v.scale - v.oy;
        var bx = this.vx[i * corners + b] * v.scale - v.ox, by = this.vy[i * corners + b] * v.scale - v.oy;
        if ((ay > y) !== (by > y) && x < (bx - ax) * (y - ay) / (by - ay) + ax) { inside = !inside; }
      }
      return inside;
    },

    // ---------------------------------------------------------------- features
    latLng: function (i) {
      return L.latLng(this.d.lat[i] / SCALE, this.d.lon[i] / SCALE);
    },

    // the popup's first line: its own column, else made from the id ("complaint:K1" -> "Complaint K1")
    title: function (i) {
      if (this.popupCols[0]) { return this.popupCols[0].get(i); }
      var id = this.id.get(i), cut = id.indexOf(':'), parts = (this.spec.title || {})[id.slice(0, cut)] || ['', ''];
      return parts[0] + id.slice(cut + 1) + parts[1];
    },

    tooltip: function (i) {
      if (this.tip) { return this.tip.get(i); }
      var self = this, id;
      if (this.spec.tip) {  // a template: {name} is the id without its prefix, {3} popup value 3 ({0} the title)
        return this.spec.tip.replace(/\{(name|\d+)\}/g, function (_, t) {
          if (t !== 'name') { return t === '0' ? self.title(i) : self.popupCols[+t].get(i); }
          id = self.id.get(i);
          return id.slice(id.indexOf(':') + 1);
        });
      }
      var labels = this.spec.keyLabels;
      if (!labels) { return this.title(i); }
      var key = this.spec.keys[this.d.k[i]];
      id = this.id.get(i);
      return id.slice(id.indexOf(':') + 1) + ': ' + (labels[key] || key || '');
    },

    popupContent: function (rows) {
      var i = rows[0], self = this;
      var values = this.popupCols.map(function (c, j) { return j === 0 ? self.title(i) : c.get(i); });
      var extra = null;
      if (rows.length > 1) {  // several features on one spot: links to the others
        extra = nd.el('div', 'nd-popup-more', (rows.length - 1) + ' more here: ');
        var self = this;
        rows.slice(1, 21).forEach(function (row, j) {
          var id = self.id.get(row), a = nd.el('a', null, id.slice(id.indexOf(':') + 1));
          a.setAttribute('href', '#' + encodeURIComponent(id));
          if (j) { extra.appendChild(document.createTextNode(', ')); }
          extra.appendChild(a);
        });
        if (rows.length > 21) { extra.appendChild(document.createTextNode(' ...')); }
      }
      return nd.popup(this.spec.labels || [], values, extra);
    },

    openPopup: function (rows, latlng) {
      var map = this._map;
      return L.popup({maxWidth: 460, minWidth: 240}).setLatLng(latlng || this.latLng(rows[0]))
        .setContent(this.popupContent(rows)).openOn(map);
    },

    // show the row with this id: switch the layer on, zoom to where it is drawn, open its popup
    openId: function (map, id) {
      var i = this.ready ? this.id.find(id) : -1;
      if (i < 0) { return false; }
      if (!map.hasLayer(this)) { map.addLayer(this); }
      var s = this.spec, ll = this.latLng(i), zoom = map.getZoom();
      if (s.kind === 'points') {
        var want = s.cluster ? s.cluster.maxZoom + 1 : 15;
        map.setView(ll, Math.max(zoom, want), {animate: false});
      } else if (s.kind === 'wedges') {
        var metres = this.d.rm[i], az = this.d.az[i];
        var bounds = ll.toBounds(2 * Math.max(metres, 50));
        map.fitBounds(bounds, {maxZoom: 17, animate: false});
        if (map.getZoom() < s.minZoom) { map.setView(ll, s.minZoom, {animate: false}); }
        if (az !== null && az !== undefined && this.d.half[i] < 180) {  // inside the wedge, not on the mast
          var back = L.CRS.Earth.R, rad = az * Math.PI / 180, dist = metres * 0.4;
          ll = L.latLng(ll.lat + (dist * Math.cos(rad) / back) * 180 / Math.PI,
                        ll.lng + (dist * Math.sin(rad) / (back * Math.cos(ll.lat * Math.PI / 180))) * 180 / Math.PI);
        }
      } else {
        var reach = this.reach[i] * 360;
        map.fitBounds(L.latLngBounds([ll.lat - reach, ll.lng - reach], [ll.lat + reach, ll.lng + reach]),
                      {maxZoom: 16, animate: false});
      }
      this.openPopup([i], ll);
      return true;
    }
  });

  nd.canvas = function (spec, packed) { return new CanvasLayer(spec, packed); };

  nd.openers.push(function (map, id) {
    return Promise.all(nd.pending).then(function () {
      for (var j = 0; j < canvases.length; j++) { if (canvases[j].openId(map, id)) { return true; } }
      return false;
    });
  });

  // the topmost canvas layer with something under this mouse event
  function under(map, e) {
    var best = null;
    for (var j = 0; j < canvases.length; j++) {
      var layer = canvases[j];
      if (!map.hasLayer(layer) || (best && best.layer.spec.z >= layer.spec.z)) { continue; }
      var hit = layer.hit(e.layerPoint);
      if (hit) { best = {layer: layer, hit: hit}; }
    }
    return best;
  }

  nd.attach = function (map) {
    var tip = L.tooltip({sticky: true, direction: 'top', offset: [0, -6]}), pending = null, container = map.getContainer();
    map.on('click', function (e) {
      var found = under(map, e);
      if (!found) { return; }
      if (found.hit.box) {  // a cluster: zoom to its points
        var b = found.hit.box, z = map.getZoom(), scale = 256 * Math.pow(2, z);
        var bounds = L.latLngBounds(map.unproject([b[0] * scale, b[1] * scale], z), map.unproject([b[2] * scale, b[3] * scale], z));
        var target = Math.min(map.getBoundsZoom(bounds.pad(0.2)), map.getMaxZoom());
        map.setView(bounds.getCenter(), Math.max(target, z + 1));
        return;
      }
      var layer = found.layer, rows = found.hit.rows;
      layer.openPopup(rows, layer.spec.kind === 'points' ? null : e.latlng);
    });
    map.on('mousemove', function (e) {
      pending = e;
      root.requestAnimationFrame(function () {
        if (!pending) { return; }
        var ev = pending, found = under(map, ev);
        pending = null;
        L.DomUtil[found ? 'addClass' : 'removeClass'](container, 'nd-pointer');
        if (!found) { if (map.hasLayer(tip)) { map.closeTooltip(tip); } return; }
        var text = found.hit.box ? found.hit.box[4] + ' complaints here: click to zoom in'
          : found.layer.tooltip(found.hit.rows[0]) + (found.hit.rows.length > 1 ? ' (+' + (found.hit.rows.length - 1) + ')' : '');
        tip.setLatLng(ev.latlng).setContent(nd.el('span', null, text));
        if (!map.hasLayer(tip)) { tip.openOn(map); }
      });
    });
    map.on('mouseout', function () {
      pending = null;
      if (map.hasLayer(tip)) { map.closeTooltip(tip); }
    });
  };

  // grid cells {step, gx, gy (differences), w} as [lat, lon, weight] at the cells' centres, grouped by `by`
  function gridPoints(d, by, groups) {
    var gx = undelta(d.gx), gy = undelta(d.gy), out = [], i;
    for (i = 0; i < groups; i++) { out.push([]); }
    for (i = 0; i < gx.length; i++) {
      out[by ? by[i] : 0].push([(gy[i] + 0.5) * d.step, (gx[i] + 0.5) * d.step, d.w[i]]);
    }
    return out;
  }

  // a Leaflet.heat heatmap of counts on a grid, filled in when its data is unpacked
  nd.heat = function (options, packed) {
    var layer = L.heatLayer([], options);
    nd.pending.push(nd.unpack(packed).then(function (d) { layer.setLatLngs(gridPoints(d, null, 1)[0]); }).catch(nd.fail));
    return layer;
  };

  // the heatmap by day (folium's time-slider layer): its days' grid counts, handed over when unpacked
  nd.heatByDay = function (layer, packed) {
    nd.pending.push(nd.unpack(packed).then(function (d) {
      layer.data = gridPoints(d, d.day, d.days);
      if (layer._map && layer._timeDimension) { layer._getDataForTime(layer._timeDimension.getCurrentTime()); }
    }).catch(nd.fail));
  };
}(window));
