/*
 * netdiag map runtime (part of netdiag, MIT licence).
 *
 * The page's shared parts: popups, legend, info box, #id links, and small layers drawn from
 * GeoJSON embedded in the page (a dispatch route). Large layers are drawn on a canvas by
 * netdiag-canvas.js. Every text that comes from the data (descriptions, OMC details, names)
 * reaches the page through textContent, never through innerHTML, so a description such as
 * <img src=x onerror=...> is shown as text.
 *
 * GeoJSON feature properties: id (string, for #id links), k (colour key), r (radius), t (tooltip),
 * n (a number written on a marker, e.g. a stop's order),
 * p (popup: [title, value1, value2, ...] matching spec.labels; empty values are left out),
 * a (links under the popup: [[text, url], ...]; only geo: and https:// addresses become links).
 */
(function (root) {
  'use strict';
  var nd = root.netdiag = root.netdiag || {};
  nd.index = {};
  nd.layers = {};
  nd.pending = [];   // promises of layer data still being unpacked (netdiag-canvas.js)
  nd.openers = [];   // functions (map, id) -> promise of true when they opened the feature id

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  nd.el = el;

  nd.popup = function (labels, values, extra) {
    var box = el('div', 'nd-popup');
    box.appendChild(el('div', 'nd-popup-title', values[0]));
    var table = el('table', 'nd-popup-table');
    for (var i = 1; i < values.length; i++) {
      var v = values[i];
      if (v === null || v === undefined || v === '') { continue; }
      var tr = table.insertRow();
      tr.appendChild(el('th', null, labels[i - 1]));
      tr.appendChild(el('td', null, v));
    }
    box.appendChild(table);
    if (extra) { box.appendChild(extra); }
    return box;
  };

  // links a popup may carry: a map app's position (geo:, RFC 5870) or a web address; never javascript: or data:
  var LINKABLE = /^(?:geo:|https:\/\/)/i;
  nd.links = function (list) {
    if (!list || !list.length) { return null; }
    var box = el('div', 'nd-popup-links');
    list.forEach(function (item) {
      var url = String(item[1] || '');
      if (!LINKABLE.test(url)) { return; }
      var a = el('a', null, item[0]);
      a.setAttribute('href', url);
      a.setAttribute('target', '_blank');
      a.setAttribute('rel', 'noopener noreferrer');
      box.appendChild(a);
      box.appendChild(document.createTextNode(' '));
    });
    return box;
  };

  nd.layer = function (spec) {
    var colors = spec.colors || {};
    var dash = spec.dash || {};
    function color(p) { return colors[p.k] || spec.color || '#3388ff'; }
    function classes(p) { return spec.cls + (p.k ? ' ' + spec.cls + '-' + p.k : ''); }
    var gj = L.geoJSON(spec.data, {
      style: function (f) {
        var p = f.properties || {};
        var line = f.geometry && f.geometry.type.indexOf('LineString') >= 0;
        return {
          color: line ? color(p) : (spec.stroke || color(p)), weight: line ? (spec.lineWeight || 1.5) : (spec.weight || 1),
          opacity: spec.opacity === undefined ? 0.9 : spec.opacity, fillColor: color(p),
          fillOpacity: spec.fillOpacity === undefined ? 0.3 : spec.fillOpacity,
          dashArray: dash[p.k] || null, className: line ? spec.cls + '-link' : classes(p)
        };
      },
      pointToLayer: function (f, latlng) {
        var p = f.properties || {};
        if (spec.kind === 'marker') {
          var dot = el('span', p.n !== undefined && p.n !== null ? 'nd-dot nd-num' : 'nd-dot', p.n);
          dot.style.background = color(p);
          var size = spec.iconSize || 12;
          return L.marker(latlng, {
            icon: L.divIcon({className: classes(p), html: dot, iconSize: [size, size]}),
            keyboard: false, riseOnHover: true
          });
        }
        return L.circleMarker(latlng, {
          radius: p.r || spec.radius || 5, className: classes(p), color: spec.stroke || '#222', weight: 1,
          fillColor: color(p), fillOpacity: spec.pointOpacity === undefined ? 0.9 : spec.pointOpacity
        });
      },
      onEachFeature: function (f, layer) {
        var p = f.properties || {};
        if (p.p) {
          layer.bindPopup(function () { return nd.popup(spec.labels || [], p.p, nd.links(p.a)); }, {maxWidth: 460, minWidth: 240});
        }
        if (p.t) {
          layer.bindTooltip(function () { return el('span', null, p.t); }, {sticky: true});
        }
        if (p.id !== undefined && p.id !== null) {
          nd.index[String(p.id)] = {layer: layer};
        }
      }
    });
    nd.layers[spec.cls] = {layer: gj, count: spec.data.features.length};
    return gj;
  };

  nd.control = function (map, position, cls, build) {
    var Box = L.Control.extend({
      options: {position: position},
      onAdd: function () {
        var div = el('div', 'leaflet-control nd-box ' + cls);
        build(div);
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      }
    });
    return new Box().addTo(map);
  };

  nd.legend = function (map, sections) {
    return nd.control(map, 'bottomright', 'nd-legend', function (div) {
      sections.forEach(function (s) {
        div.appendChild(el('div', 'nd-legend-title', s.title));
        s.items.forEach(function (it) {
          var row = el('div', 'nd-legend-row');
          var sw = el('span', 'nd-swatch nd-swatch-' + (it.shape || 'box'));
          sw.style.background = it.color;
          if (it.dash) { sw.style.borderStyle = 'dashed'; }
          row.appendChild(sw);
          row.appendChild(el('span', 'nd-legend-label', it.label));
          if (it.count !== undefined && it.count !== null) { row.appendChild(el('span', 'nd-legend-count', it.count)); }
          div.appendChild(row);
        });
        if (s.note) { div.appendChild(nd.legendNote(map, s.note)); }
      });
    });
  };

  // a line under a legend section; with minZoom it says what is hidden at the current zoom and why
  nd.legendNote = function (map, note) {
    var line = el('div', 'nd-legend-note');
    line.setAttribute('data-layer', note.layer || '');
    function update() {
      var z = map.getZoom();
      line.textContent = note.text !== undefined ? note.text
        : (z < note.minZoom ? note.below.replace('{zoom}', String(z)) : note.above);
      line.setAttribute('data-hidden', note.text === undefined && z < note.minZoom ? '1' : '0');
    }
    update();
    map.on('zoomend', update);
    return line;
  };

  nd.info = function (map, lines) {
    return nd.control(map, 'topleft', 'nd-info', function (div) {
      lines.forEach(function (line, i) { div.appendChild(el('div', i === 0 ? 'nd-info-title' : 'nd-info-line', line)); });
    });
  };

  nd.open = function (map, id) {
    var hit = nd.index[id];
    if (hit) {
      var layer = hit.layer;
      if (layer.getBounds) { map.fitBounds(layer.getBounds(), {maxZoom: 16}); }
      else if (layer.getLatLng) { map.setView(layer.getLatLng(), Math.max(map.getZoom(), 15)); }
      layer.openPopup();
      return Promise.resolve(true);
    }
    var tries = nd.openers.slice();
    function next() {
      if (!tries.length) { return Promise.resolve(false); }
      return Promise.resolve(tries.shift()(map, id)).then(function (done) { return done ? true : next(); });
    }
    return next();
  };

  nd.openFromHash = function (map) {
    var h = root.location && root.location.hash;
    if (!h || h.length < 2) { return Promise.resolve(false); }
    // as encoded by a link (K%2501), else as typed by a person (K%zz, K%25pct: a "%" in the id itself)
    var raw = h.slice(1), id = raw;
    try { id = decodeURIComponent(raw); } catch (e) { id = raw; }
    return nd.open(map, id).then(function (done) { return done || id === raw ? done : nd.open(map, raw); });
  };

  // a problem the user must know of (e.g. data that could not be unpacked), in the info box
  nd.fail = function (err) {
    if (root.console) { root.console.error('netdiag: ' + (err && err.message ? err.message : err)); }
    var box = document.querySelector('.nd-info') || document.body;
    box.appendChild(el('div', 'nd-error', err && err.message ? err.message : String(err)));
  };

  // Fit the view, add the legend and info box; when every layer's data is unpacked and drawn,
  // open the feature named in the address (#complaint:K001) and mark the page ready:
  // <html data-netdiag-ready="1" data-netdiag-drawn-ms="..." data-netdiag-painted-ms="...">
  // (milliseconds since the page started loading; painted = the first frame after that).
  nd.finish = function (map, opts) {
    nd.map = map;
    if (opts.bounds) { map.fitBounds(opts.bounds, {padding: [20, 20], animate: false}); }
    if (opts.legend) { nd.legend(map, opts.legend); }
    if (opts.info) { nd.info(map, opts.info); }
    if (nd.attach) { nd.attach(map); }
    var html = document.documentElement;
    Promise.all(nd.pending).then(function () {
      html.setAttribute('data-netdiag-drawn-ms', String(Math.round(root.performance.now())));
      root.requestAnimationFrame(function () {
        html.setAttribute('data-netdiag-painted-ms', String(Math.round(root.performance.now())));
      });
      return nd.openFromHash(map);
    }).catch(nd.fail).then(function () {
      root.addEventListener('hashchange', function () { nd.openFromHash(map); });
      html.setAttribute('data-netdiag-ready', '1');
    });
  };
}(window));
