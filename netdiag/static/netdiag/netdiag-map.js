/*
 * netdiag map runtime (part of netdiag, MIT licence).
 *
 * Draws netdiag's layers from GeoJSON embedded in the page. Every text that comes from the
 * data (descriptions, OMC details, names) reaches the page through textContent, never through
 * innerHTML, so a description such as <img src=x onerror=...> is shown as text.
 *
 * Feature properties: id (string, for #id links), k (colour key), r (radius), t (tooltip),
 * n (a number written on a marker, e.g. a stop's order),
 * p (popup: [title, value1, value2, ...] matching spec.labels; empty values are left out).
 */
(function (root) {
  'use strict';
  var nd = root.netdiag = root.netdiag || {};
  nd.index = {};
  nd.layers = {};

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  nd.el = el;

  nd.popup = function (labels, values) {
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
          layer.bindPopup(function () { return nd.popup(spec.labels || [], p.p); }, {maxWidth: 460, minWidth: 240});
        }
        if (p.t) {
          layer.bindTooltip(function () { return el('span', null, p.t); }, {sticky: true});
        }
        if (p.id !== undefined && p.id !== null) {
          nd.index[String(p.id)] = {layer: layer, group: null};
        }
      }
    });
    var out = gj;
    if (spec.cluster) {
      out = L.markerClusterGroup({maxClusterRadius: spec.clusterRadius || 45, chunkedLoading: true,
                                  showCoverageOnHover: false, spiderfyOnMaxZoom: true});
      out.addLayers(gj.getLayers());
      gj.eachLayer(function (layer) {
        var p = layer.feature && layer.feature.properties;
        if (p && p.id !== undefined && p.id !== null) { nd.index[String(p.id)].group = out; }
      });
    }
    nd.layers[spec.cls] = {layer: out, count: spec.data.features.length};
    return out;
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
      });
    });
  };

  nd.info = function (map, lines) {
    return nd.control(map, 'topleft', 'nd-info', function (div) {
      lines.forEach(function (line, i) { div.appendChild(el('div', i === 0 ? 'nd-info-title' : 'nd-info-line', line)); });
    });
  };

  nd.open = function (map, id) {
    var hit = nd.index[id];
    if (!hit) { return false; }
    var layer = hit.layer;
    if (hit.group && hit.group.zoomToShowLayer) {
      if (!map.hasLayer(hit.group)) { map.addLayer(hit.group); }
      // Poll instead of waiting for animation events: chunked loading places markers over several
      // ticks, and zoom animations may not end where the page is not painted (headless, hidden tab).
      var tries = 0;
      var spiderfied = false;
      var attempt = function () {
        if (tries++ > 100) { return; }
        if (!layer.__parent) { setTimeout(attempt, 100); return; }
        if (layer._icon) { layer.openPopup(); return; }
        var zoom = Math.min(layer.__parent._zoom + 1, map.getMaxZoom());
        if (map.getZoom() < zoom || !map.getBounds().contains(layer.getLatLng())) {
          map.setView(layer.getLatLng(), Math.max(zoom, map.getZoom()), {animate: false});
        } else if (layer.__parent._icon && !spiderfied) {
          spiderfied = true;
          layer.__parent.spiderfy();
        }
        setTimeout(attempt, 100);
      };
      attempt();
      return true;
    }
    if (layer.getBounds) { map.fitBounds(layer.getBounds(), {maxZoom: 16}); }
    else if (layer.getLatLng) { map.setView(layer.getLatLng(), Math.max(map.getZoom(), 15)); }
    layer.openPopup();
    return true;
  };

  nd.openFromHash = function (map) {
    var h = root.location && root.location.hash;
    if (!h || h.length < 2) { return false; }
    var id;
    try { id = decodeURIComponent(h.slice(1)); } catch (e) { return false; }
    return nd.open(map, id);
  };

  nd.finish = function (map, opts) {
    if (opts.bounds) { map.fitBounds(opts.bounds, {padding: [20, 20], animate: false}); }
    if (opts.legend) { nd.legend(map, opts.legend); }
    if (opts.info) { nd.info(map, opts.info); }
    nd.openFromHash(map);
    root.addEventListener('hashchange', function () { nd.openFromHash(map); });
    document.documentElement.setAttribute('data-netdiag-ready', '1');
  };
}(window));
