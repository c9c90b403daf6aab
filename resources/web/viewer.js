/* Strike map viewer: incident layer, legend, layer control and the bridge to the app.
 *
 * Incidents arrive as compact arrays (see mapviewer/mappage.py encode_incidents) and
 * are drawn on one canvas, batched by symbol, so 100k points redraw in a few tens
 * of milliseconds. Record text is only ever put in the page as text nodes.
 */
(function () {
  'use strict';

  var S = {
    map: null, cfg: null, style: null, layer: null, bridge: null, queue: [],
    frame: null, frameLoading: null, frameTicket: 0, aggregateAbove: 200000, n: 0, size: 0, on: null, unit: 'events', total: 0, pos: null, sortedPos: null, rank: null, lat: null, lon: null, mx: null, my: null,
    oc: null, cl: null, pr: null, tp: null, t: null, mun: null, loc: null,
    munitions: [], locations: [], counts: null,
    groups: [],                         // rows of one symbol group: {start, end, cls, oc, hollow}
    hidden: {},                         // class code -> true when its layer is off
    selected: [], selectedSet: {},      // indices into the arrays
    details: {},                        // position -> [[field, text], ...]
    pendingPopup: -1, popupPos: -1,      // position whose popup is open, -1 when none
    syncingClasses: false,              // layer boxes set from the app's filter: not echoed back
    legend: null, control: null, density: null, densityOn: false,
    basemaps: null, tiles: null, classLayers: [],
    archives: [], archivesOff: {},      // tile archive layers (bottom first); keys the person unticked
    pinned: null,                       // [lat, lon, zoom] the app asked for: wins over fitting new data
    caption: null,                      // the date filter shown top-centre
    legendOpen: false,                  // exports and screenshots: the legend never folds
    waves: null, waveLegend: null, hoverWave: null, waveShading: null,
    places: null,                       // the offline basemap's place names
    cells: null, cellLayer: null        // an open database's grid of counts (instead of points)
  };

  // -- decoding -------------------------------------------------------------------------
  function decode(b64, Type) {
    var bin = atob(b64), len = bin.length, bytes = new Uint8Array(len);
    for (var i = 0; i < len; i++) bytes[i] = bin.charCodeAt(i);
    return new Type(bytes.buffer);
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // -- symbols --------------------------------------------------------------------------
  function polygon(k, radius, rotation) {
    var pts = [];
    for (var i = 0; i < k; i++) {
      var a = rotation + i * 2 * Math.PI / k;
      pts.push([radius * Math.cos(a), radius * Math.sin(a)]);
    }
    return pts;
  }

  function star() {
    var pts = [];
    for (var i = 0; i < 10; i++) {
      var a = -Math.PI / 2 + i * Math.PI / 5, r = i % 2 ? 0.5 : 1.3;
      pts.push([r * Math.cos(a), r * Math.sin(a)]);
    }
    return pts;
  }

  function cross() {
    var w = 0.38, e = 1.1, pts = [], base = [[w, 0], [e, e - w], [e - w, e], [0, w]];
    for (var q = 0; q < 4; q++) {
      var a = q * Math.PI / 2, c = Math.cos(a), s = Math.sin(a);
      for (var i = 0; i < base.length; i++) {
        pts.push([base[i][0] * c - base[i][1] * s, base[i][0] * s + base[i][1] * c]);
      }
    }
    return pts;
  }

  // Unit outlines (radius 1) for each shape name in geodata/style.py; null means a circle.
  var SHAPES = {
    'circle': null,
    'triangle': [[0, -1.25], [1.1, 0.75], [-1.1, 0.75]],
    'triangle-down': [[0, 1.25], [1.1, -0.75], [-1.1, -0.75]],
    'square': [[-0.9, -0.9], [0.9, -0.9], [0.9, 0.9], [-0.9, 0.9]],
    'diamond': [[0, -1.3], [1, 0], [0, 1.3], [-1, 0]],
    'star': star(),
    'pentagon': polygon(5, 1.1, -Math.PI / 2),
    'hexagon': polygon(6, 1.1, 0),
    'cross': cross()
  };

  function addShape(ctx, shape, x, y, r) {
    var pts = SHAPES[shape];
    if (!pts) { ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI); return; }
    ctx.moveTo(x + pts[0][0] * r, y + pts[0][1] * r);
    for (var i = 1; i < pts.length; i++) ctx.lineTo(x + pts[i][0] * r, y + pts[i][1] * r);
    ctx.closePath();
  }

  function classShape(code) { return S.style.classes[S.cfg.classes[code]].shape; }
  function outcomeColour(code) { return S.style.outcomes[S.cfg.outcomes[code]].colour; }

  function symbolIcon(shape, colour, hollow) {
    var c = el('canvas', 'mv-swatch'), r = 5, ctx, dpr = window.devicePixelRatio || 1;
    c.width = Math.round(18 * dpr); c.height = Math.round(18 * dpr);  // drawn at the page's pixel density
    ctx = c.getContext('2d');
    ctx.scale(dpr, dpr);
    ctx.beginPath(); addShape(ctx, shape, 9, 9, r);
    paint(ctx, colour, hollow);
    return c;
  }

  function paint(ctx, colour, hollow) {
    if (hollow) {
      ctx.fillStyle = 'rgba(255,255,255,0.9)'; ctx.fill();
      ctx.lineWidth = 2; ctx.strokeStyle = colour; ctx.stroke();
    } else {
      ctx.fillStyle = colour; ctx.fill();
      ctx.lineWidth = 0.8; ctx.strokeStyle = '#222'; ctx.stroke();
    }
  }

  // -- the incident layer -----------------------------------------------------------------
  var MAX_SYMBOLS = 20000;  // beyond this many symbols on screen, thin more coarsely
  // Beyond this many shown events on screen (S.aggregateAbove), the layer draws squares of
  // BLOCK_PX pixels holding the count of their events, coloured by outcome share, instead of
  // symbols piled on each other; zoomed in so fewer are on screen, symbols come back.
  var BLOCK_PX = 32;

  var IncidentLayer = L.Layer.extend({
    options: { pane: 'mv-incidents', padding: 0.15 },

    onAdd: function (map) {
      this._canvas = L.DomUtil.create('canvas', 'mv-incidents leaflet-zoom-animated');
      this.getPane().appendChild(this._canvas);
      this._ctx = this._canvas.getContext('2d');
      this._nvis = 0; this._nkept = 0;
      this._reset();
    },

    onRemove: function () { L.DomUtil.remove(this._canvas); },

    getEvents: function () {
      return { moveend: this._reset, resize: this._reset, zoomanim: this._animateZoom };
    },

    _animateZoom: function (e) {
      var scale = this._map.getZoomScale(e.zoom, this._zoom);
      var offset = this._map._latLngToNewLayerPoint(this._topLeftLatLng, e.zoom, e.center);
      L.DomUtil.setTransform(this._canvas, offset, scale);
    },

    _reset: function () {
      var map = this._map, size = map.getSize(), pad = size.multiplyBy(this.options.padding).round();
      var topLeft = map.containerPointToLayerPoint(pad.multiplyBy(-1)).round();
      var full = size.add(pad.multiplyBy(2)), dpr = window.devicePixelRatio || 1, c = this._canvas;
      L.DomUtil.setPosition(c, topLeft);
      this._topLeft = topLeft;
      this._topLeftLatLng = map.layerPointToLatLng(topLeft);
      this._zoom = map.getZoom();
      this._origin = map.getPixelOrigin().add(topLeft);
      this._w = full.x; this._h = full.y; this._dpr = dpr;
      if (c.width !== Math.round(full.x * dpr) || c.height !== Math.round(full.y * dpr)) {
        c.width = Math.round(full.x * dpr); c.height = Math.round(full.y * dpr);
        c.style.width = full.x + 'px'; c.style.height = full.y + 'px';
      }
      this.redraw();
    },

    radius: function () {
      var z = this._zoom;
      return z < 5 ? 2.5 : z < 7 ? 3.5 : z < 10 ? 5 : 6.5;
    },

    // One pass over the rows, top-most first (the arrays are in drawing order, see loadArrays):
    // each shown row on screen is projected and kept when it is the first in its grid cell (the
    // top-most, which is what would show anyway); _vis/_vx/_vy then hold the kept rows and their
    // canvas positions, drawn as one canvas path per symbol group. Cells grow when too many
    // symbols remain, so a redraw stays fast: at a million rows the cost is the one pass.
    redraw: function () {
      if (!this._map) return;
      var ctx = this._ctx, w = this._w, h = this._h, N = S.size;
      ctx.setTransform(this._dpr, 0, 0, this._dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      this._nvis = 0; this._nkept = 0; this._blocks = null;
      if (!this._vis || this._vis.length < N) {
        this._vis = new Int32Array(N); this._vx = new Float32Array(N); this._vy = new Float32Array(N);
      }
      if (!S.n) { this._setAggregated(false); return; }
      var scale = this._map.options.crs.scale(this._zoom), ox = this._origin.x, oy = this._origin.y;
      var r = this.radius(), on = S.on, cl = S.cl, mx = S.mx, my = S.my, hidden = hiddenClasses();
      var anyHidden = hidden.indexOf(1) >= 0;
      var vis = this._vis, vx = this._vx, vy = this._vy, nv = 0, kept = 0, i, x, y, c;
      var left = ox - r, right = ox + w + r, top = oy - r, bottom = oy + h + r;
      var cell = Math.max(1, r * 0.5), inv = 1 / cell, grid = this._cells(cell), id = this._gridId;
      var cw = Math.ceil(w / cell) + 2;
      // Blocks are fixed to the world's pixel grid, so they stay put while the map pans.
      var blocks = S.n > S.aggregateAbove ? this._blockGrid(left, top, right, bottom) : null;
      var counts = blocks && blocks.counts, bw = blocks && blocks.w, bx0 = blocks && blocks.x0;
      var by0 = blocks && blocks.y0, nOc = S.cfg.outcomes.length, oc = S.oc, binv = 1 / BLOCK_PX;
      for (i = N - 1; i >= 0; i--) {
        if ((on !== null && on[i] === 0) || (anyHidden && hidden[cl[i]] === 1)) continue;
        x = mx[i] * scale;
        if (x < left || x > right) continue;
        y = my[i] * scale;
        if (y < top || y > bottom) continue;
        nv++;
        if (counts !== null) counts[(((y * binv) | 0) - by0) * bw * nOc + (((x * binv) | 0) - bx0) * nOc + oc[i]]++;
        x -= ox; y -= oy;
        c = ((y * inv + 1) | 0) * cw + ((x * inv + 1) | 0);
        if (grid[c] === id) continue;
        grid[c] = id; vis[kept] = i; vx[kept] = x; vy[kept] = y; kept++;
      }
      this._nvis = nv;
      if (this._setAggregated(blocks !== null && nv > S.aggregateAbove)) {
        this._blocks = blocks;
        this._drawBlocks(ctx);
        this._drawSelection(ctx, r);  // the rows chosen in the table stay visible over the squares
        return;
      }
      // Coarser cells nest the finer ones, so each coarser pass thins what the last one kept.
      while (kept > MAX_SYMBOLS && cell < 4 * r) { cell *= 2; kept = this._thin(cell, kept); }
      this._nkept = kept;
      this._drawHalos(ctx, scale, r);
      // Kept symbols bottom-up: ascending rows, so each symbol group's run is one path.
      var groups = S.groups, gi = -1, end = -1, drawn = 0, shape = null, g = null;
      for (var k = kept - 1; k >= 0; k--) {
        i = vis[k];
        if (i >= end) {
          if (drawn) paint(ctx, outcomeColour(g.oc), g.hollow);
          do { g = groups[++gi]; } while (i >= g.end);
          end = g.end; shape = classShape(g.cls); drawn = 0;
          ctx.beginPath();
        }
        addShape(ctx, shape, vx[k], vy[k], r);
        drawn++;
      }
      if (drawn) paint(ctx, outcomeColour(g.oc), g.hollow);
      this._drawSelection(ctx, r);
    },

    // Whether squares stand for the events now (the legend says so when that changes); returns ``on``.
    _setAggregated: function (on) {
      if (on !== !!this._aggregated) {
        this._aggregated = on;
        if (S.legend) S.legend.update();
      }
      return on;
    },

    // Zeroed counts per outcome of the BLOCK_PX squares covering world pixels [left, right] x [top, bottom].
    _blockGrid: function (left, top, right, bottom) {
      var x0 = Math.floor(left / BLOCK_PX), y0 = Math.floor(top / BLOCK_PX);
      var w = Math.floor(right / BLOCK_PX) - x0 + 1, h = Math.floor(bottom / BLOCK_PX) - y0 + 1;
      var size = w * h * S.cfg.outcomes.length;
      if (!this._blockCounts || this._blockCounts.length < size) this._blockCounts = new Int32Array(size);
      else this._blockCounts.fill(0, 0, size);
      return { x0: x0, y0: y0, w: w, h: h, counts: this._blockCounts };
    },

    // Each square with events: filled with the outcome colours mixed by share, more opaque where
    // more events are, with its count when it fits (as the database's cells are drawn).
    _drawBlocks: function (ctx) {
      var B = this._blocks, nOc = S.cfg.outcomes.length, most = 1, k, o, n, total = B.w * B.h;
      var totals = new Int32Array(total);
      for (k = 0; k < total; k++) {
        for (n = 0, o = 0; o < nOc; o++) n += B.counts[k * nOc + o];
        totals[k] = n;
        if (n > most) most = n;
      }
      B.totals = totals;
      for (k = 0; k < total; k++) {
        if (!totals[k]) continue;
        var x = (B.x0 + k % B.w) * BLOCK_PX - this._origin.x, y = (B.y0 + Math.floor(k / B.w)) * BLOCK_PX - this._origin.y;
        paintCount(ctx, [x, y, x + BLOCK_PX, y + BLOCK_PX], totals[k], most,
                   mixedColour(S.cfg.outcomes, B.counts.subarray(k * nOc, (k + 1) * nOc), totals[k]));
      }
    },

    // The square under a container point while squares are drawn: {n, by: {outcome: count}, centre}, or null.
    hitBlock: function (containerPoint) {
      var B = this._blocks;
      if (!B || !B.totals) return null;
      var p = this._map.containerPointToLayerPoint(containerPoint).subtract(this._topLeft).add(this._origin);
      var bx = Math.floor(p.x / BLOCK_PX) - B.x0, by = Math.floor(p.y / BLOCK_PX) - B.y0, k = by * B.w + bx;
      if (bx < 0 || by < 0 || bx >= B.w || by >= B.h || !B.totals[k]) return null;
      var nOc = S.cfg.outcomes.length, out = { n: B.totals[k], by: {} };
      for (var o = 0; o < nOc; o++) out.by[S.cfg.outcomes[o]] = B.counts[k * nOc + o];
      var centre = L.point((bx + B.x0 + 0.5) * BLOCK_PX, (by + B.y0 + 0.5) * BLOCK_PX);
      out.centre = this._map.unproject(centre, this._zoom);
      return out;
    },

    // A cleared grid of ``cell``-pixel cells over the canvas (cleared by a new _gridId).
    _cells: function (cell) {
      var size = (Math.ceil(this._w / cell) + 2) * (Math.ceil(this._h / cell) + 2);
      if (!this._grid || this._grid.length < size) { this._grid = new Uint32Array(size); this._gridId = 0; }
      if (++this._gridId >= 0xFFFFFFFF) { this._grid.fill(0); this._gridId = 1; }
      return this._grid;
    },

    // Keeps, of the first ``count`` entries of _vis/_vx/_vy (top-most first), the first of each
    // grid cell, moved to the front; returns how many.
    _thin: function (cell, count) {
      var grid = this._cells(cell), id = this._gridId, cw = Math.ceil(this._w / cell) + 2;
      var vis = this._vis, vx = this._vx, vy = this._vy, kept = 0, inv = 1 / cell, c;
      for (var j = 0; j < count; j++) {
        c = ((vy[j] * inv + 1) | 0) * cw + ((vx[j] * inv + 1) | 0);
        if (grid[c] === id) continue;
        grid[c] = id; vis[kept] = vis[j]; vx[kept] = vx[j]; vy[kept] = vy[j]; kept++;
      }
      return kept;
    },

    // Uncertain locations get a translucent halo of their uncertainty radius (at least
    // a few pixels round the symbol), one path per precision and outcome.
    _drawHalos: function (ctx, scale, r) {
      var lat = this._map.getCenter().lat * Math.PI / 180;
      var metresPerPixel = 40075016.686 * Math.cos(lat) / scale, names = S.cfg.precisions;
      var kept = this._nkept, vis = this._vis, vx = this._vx, vy = this._vy, k, i;
      for (var p = 1; p < names.length; p++) {
        var hr = Math.max(r + 4, Math.min(600, (S.style.halo_m[names[p]] || 0) / metresPerPixel));
        for (var oc = 0; oc < S.cfg.outcomes.length; oc++) {
          ctx.beginPath();
          var any = false;
          for (k = 0; k < kept; k++) {
            i = vis[k];
            if (S.pr[i] !== p || S.oc[i] !== oc) continue;
            ctx.moveTo(vx[k] + hr, vy[k]); ctx.arc(vx[k], vy[k], hr, 0, 2 * Math.PI);
            any = true;
          }
          if (!any) continue;
          var colour = outcomeColour(oc);
          ctx.globalAlpha = 0.12; ctx.fillStyle = colour; ctx.fill();
          ctx.globalAlpha = 0.6; ctx.setLineDash([3, 3]); ctx.lineWidth = 1; ctx.strokeStyle = colour; ctx.stroke();
          ctx.setLineDash([]); ctx.globalAlpha = 1;
        }
      }
    },

    _drawSelection: function (ctx, r) {
      for (var k = 0; k < S.selected.length; k++) {
        var i = S.selected[k], p = this._project(i);
        if (!p) continue;
        ctx.beginPath(); ctx.arc(p[0], p[1], r + 5, 0, 2 * Math.PI);
        ctx.lineWidth = 4; ctx.strokeStyle = '#000'; ctx.stroke();
        ctx.lineWidth = 2; ctx.strokeStyle = '#ffd400'; ctx.stroke();
        ctx.beginPath(); addShape(ctx, classShape(S.cl[i]), p[0], p[1], r + 1);
        paint(ctx, outcomeColour(S.oc[i]), S.pr[i] > 0);
      }
    },

    // Where row i is on the canvas, or null when it is not shown there (filtered, hidden, off screen).
    _project: function (i) {
      if (!this._map || i < 0 || i >= S.size || (S.on !== null && !S.on[i]) || hiddenClasses()[S.cl[i]]) return null;
      var scale = this._map.options.crs.scale(this._zoom), r = this.radius();
      var x = S.mx[i] * scale - this._origin.x, y = S.my[i] * scale - this._origin.y;
      if (x < -r || y < -r || x > this._w + r || y > this._h + r) return null;
      return [x, y];
    },

    // The drawn point nearest to a container point, or -1.
    hit: function (containerPoint) {
      if (!this._nkept) return -1;
      var p = this._map.containerPointToLayerPoint(containerPoint).subtract(this._topLeft);
      var r = this.radius() + 3, best = -1, bestD = r * r, vx = this._vx, vy = this._vy;
      for (var k = 0; k < this._nkept; k++) {  // only symbols that are drawn can be pointed at
        var dx = vx[k] - p.x;
        if (!(dx <= r && dx >= -r)) continue;
        var dy = vy[k] - p.y, d = dx * dx + dy * dy;
        if (d < bestD || (d === bestD && best < 0)) { bestD = d; best = this._vis[k]; }
      }
      return best;
    },

    // Where row i is on screen (container pixels), or null; for tests and tooling.
    screenPoint: function (i) {
      var q = this._project(i);
      return q ? this._map.layerPointToContainerPoint(L.point(q[0], q[1]).add(this._topLeft)) : null;
    }
  });

  // Class code -> 1 when its layer box is unticked (a typed array: read once per row in a redraw).
  function hiddenClasses() {
    var out = new Uint8Array(S.cfg ? S.cfg.classes.length : 0);
    for (var k in S.hidden) if (S.hidden[k]) out[+k] = 1;
    return out;
  }

  // -- data -----------------------------------------------------------------------------
  var FIELDS = [['lat', Float32Array], ['lon', Float32Array], ['oc', Uint8Array, 'outcome'], ['cl', Uint8Array, 'cls'],
                ['pr', Uint8Array, 'prec'], ['tp', Uint8Array, 'tprec'], ['t', Int32Array], ['mun', Int32Array],
                ['loc', Int32Array]];

  // Decoded arrays of one payload, put in drawing order once (rows of one symbol group together,
  // see symbolOrder), with Web Mercator coordinates in [0, 1]. A filter then only switches rows
  // on and off (S.on): nothing is copied or sorted again. ``pos`` holds each row's position in the
  // app's frame; ``sortedPos`` the positions as they arrived (ascending) and ``rank`` where each
  // of those rows is now.
  // ``raw`` holds the payload's arrays by their payload names (pos, lat, lon, outcome, cls, ...).
  function loadArrays(d, raw) {
    var n = d.n, A = { n: n, munitions: d.munitions, locations: d.locations }, i, k, f, name;
    for (f = 0; f < FIELDS.length; f++) {
      name = FIELDS[f][2] || FIELDS[f][0];
      if (!raw[name] || raw[name].length !== n) throw new Error('the rows arrived without ' + name);
    }
    A.sortedPos = new Int32Array(raw.pos);  // a copy: a view would keep the whole fetched block alive
    var sorted = symbolOrder(raw.prec, raw.outcome, raw.cls, n), perm = sorted.order;
    A.groups = sorted.groups; A.perm = perm;
    A.pos = new Int32Array(n); A.rank = new Int32Array(n);
    for (k = 0; k < n; k++) { A.pos[k] = A.sortedPos[perm[k]]; A.rank[perm[k]] = k; }
    for (f = 0; f < FIELDS.length; f++) {
      var src = raw[FIELDS[f][2] || FIELDS[f][0]], dst = new FIELDS[f][1](n);
      for (k = 0; k < n; k++) dst[k] = src[perm[k]];
      A[FIELDS[f][0]] = dst;
    }
    A.mx = new Float64Array(n); A.my = new Float64Array(n);
    for (i = 0; i < n; i++) {
      var lat = Math.max(-85.0511, Math.min(85.0511, A.lat[i])) * Math.PI / 180;
      A.mx[i] = (A.lon[i] + 180) / 360;
      A.my[i] = (1 - Math.log(Math.tan(Math.PI / 4 + lat / 2)) / Math.PI) / 2;
    }
    return A;
  }

  // Shows the rows of A that ``on`` marks (all of A when on is null) and tells the app how many.
  function show(A, on, meta) {
    var k;
    S.size = A.n; S.on = on; S.n = meta.n; S.total = meta.total; S.counts = meta.counts;
    S.unit = meta.unit || 'events';
    S.munitions = A.munitions; S.locations = A.locations;
    S.pos = A.pos; S.sortedPos = A.sortedPos; S.rank = A.rank; S.groups = A.groups;
    S.mx = A.mx; S.my = A.my;
    for (k = 0; k < FIELDS.length; k++) S[FIELDS[k][0]] = A[FIELDS[k][0]];
    remapSelection();
    if (S.popupPos >= 0 && indexOfPosition(S.popupPos) < 0) S.map.closePopup();  // the filter hid its event
    if (S.legend) S.legend.update();
    if (S.places && S.map.hasLayer(S.places)) S.places.update();  // the legend's box may have grown
    if (S.densityOn) updateDensity();
    // A new file jumps to its events at once (no animation), so what is reported drawn is on screen;
    // a view the app asked for (a saved view) wins over that fit until the person moves the map.
    if (meta.fit && S.n) {
      if (S.pinned) S.map.setView([S.pinned[0], S.pinned[1]], S.pinned[2], { animate: false });
      else fitData(false);
    }
    if (S.layer) S.layer.redraw();
    tellApp('incidentsDrawn', [S.n]);
    return S.n;
  }

  // True when row i is shown by the filter (its class layer may still be off).
  function isOn(i) { return S.on === null || S.on[i] === 1; }

  // Rows given explicitly as base64 text (exported pages, or a caller with its own subset).
  function setData(d) {
    var raw = { pos: decode(d.pos, Int32Array) };
    for (var f = 0; f < FIELDS.length; f++) {
      var name = FIELDS[f][2] || FIELDS[f][0];
      raw[name] = decode(d[name], FIELDS[f][1]);
    }
    S.frame = null;
    return show(loadArrays(d, raw), null, d);
  }

  var ARRAY_TYPES = { '<i4': Int32Array, '<f4': Float32Array, '|u1': Uint8Array };

  // Every row of the app's frame, once per opened file, fetched as binary from ``url`` (see
  // mapviewer/map/framescheme.py; ``meta.layout`` says where each array is); setMask then picks
  // the rows shown. Masks sent while the rows are on their way wait for them, in order.
  function loadFrame(meta, url) {
    if (S.map) S.map.closePopup();  // new rows: the open popup's position names another event
    var ticket = ++S.frameTicket;
    after(function () {
      if (ticket !== S.frameTicket) return null;  // newer rows are on their way: these are gone
      S.frame = null;
      return fetch(url).then(function (reply) {
        if (!reply.ok) throw new Error('status ' + reply.status);
        return reply.arrayBuffer();
      }).then(function (buffer) {
        if (ticket !== S.frameTicket) return;  // replaced while it came: the newer rows follow
        var raw = {};
        for (var k = 0; k < meta.layout.length; k++) {
          var part = meta.layout[k];
          raw[part[0]] = new ARRAY_TYPES[part[1]](buffer, part[2], part[3]);
        }
        S.frame = loadArrays(meta, raw);
      }).catch(function (error) {  // unless newer rows replaced these on the way (the app keeps only the newest)
        if (ticket === S.frameTicket) console.error('the map could not read the rows of the opened files: ' + error);
      });
    });
    return meta.n;
  }

  // Runs ``step`` after the frame being fetched (and the masks waiting for it), or now.
  function after(step) {
    if (!S.frameLoading) {
      var result = step();
      if (!result || typeof result.then !== 'function') return result;
      S.frameLoading = result;
    } else {
      S.frameLoading = S.frameLoading.then(step);
    }
    var last = S.frameLoading;
    last.then(function () { if (S.frameLoading === last) S.frameLoading = null; });
    return -1;
  }

  // The filter's rows as a little-endian bit mask over the frame (in the order it arrived): a
  // filter change sends an eighth of a byte per row and never the coordinates again.
  // A mask sent before newer rows is dropped with its rows: the page reports drawn only what the
  // app sent last (a screenshot waits for that).
  function setMask(m) {
    var ticket = S.frameTicket;
    return after(function () { return ticket === S.frameTicket ? applyMask(m) : -1; });
  }

  function applyMask(m) {
    var F = S.frame;
    if (!F) return -1;  // the rows never arrived (said on the console)
    var bits = decode(m.bits, Uint8Array), perm = F.perm, on = new Uint8Array(F.n), j;
    for (var k = 0; k < F.n; k++) { j = perm[k]; on[k] = (bits[j >> 3] >> (j & 7)) & 1; }
    return show(F, m.n === F.n ? null : on, m);
  }

  // Drawing order, bottom to top: approximate locations under exact ones, and where
  // symbols pile up the outcomes that matter most (impacts) stay visible on top.
  var OUTCOME_Z = ['unknown', 'debris', 'intercepted', 'deviated', 'impact'];

  // Counting sort of rows by (exact, outcome rank, class): {order: rows in drawing order,
  // groups: [{start, end, cls, oc, hollow}]}, one canvas path per group.
  function symbolOrder(pr, oc, cl, n) {
    var nOc = S.cfg.outcomes.length, nCl = S.cfg.classes.length, nG = 2 * nCl * nOc;
    var rank = new Uint8Array(nOc), byRank = new Uint8Array(nOc), i, g, z;
    for (i = 0; i < nOc; i++) {
      z = OUTCOME_Z.indexOf(S.cfg.outcomes[i]);
      rank[i] = z < 0 ? i : z;
      byRank[rank[i]] = i;
    }
    var key = new Uint16Array(n), counts = new Int32Array(nG + 1);
    for (i = 0; i < n; i++) {
      g = ((pr[i] > 0 ? 0 : 1) * nOc + rank[oc[i]]) * nCl + cl[i];
      key[i] = g; counts[g + 1]++;
    }
    for (g = 0; g < nG; g++) counts[g + 1] += counts[g];
    var starts = counts.slice(), order = new Int32Array(n), groups = [];
    for (i = 0; i < n; i++) order[starts[key[i]]++] = i;
    for (g = 0; g < nG; g++) {
      if (counts[g + 1] > counts[g]) {
        groups.push({ start: counts[g], end: counts[g + 1], cls: g % nCl,
                      oc: byRank[Math.floor(g / nCl) % nOc], hollow: g < nCl * nOc });
      }
    }
    return { order: order, groups: groups };
  }

  // The row showing frame position p, or -1 when no shown row has it.
  function indexOfPosition(p) {  // positions arrive sorted: binary search, then where that row is now
    var lo = 0, hi = S.size - 1, sorted = S.sortedPos;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1, v = sorted[mid];
      if (v === p) { var i = S.rank[mid]; return isOn(i) ? i : -1; }
      if (v < p) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }

  var selectedPositions = [];
  function remapSelection() {
    S.selected = [];
    for (var k = 0; k < selectedPositions.length; k++) {
      var i = indexOfPosition(selectedPositions[k]);
      if (i >= 0) S.selected.push(i);
    }
  }

  function setSelection(positions, details) {
    selectedPositions = positions.slice();
    if (details) for (var key in details) S.details[key] = details[key];
    remapSelection();
    if (S.layer) S.layer.redraw();
    if (S.pendingPopup >= 0 && positions.indexOf(S.pendingPopup) >= 0) {
      var p = S.pendingPopup; S.pendingPopup = -1;
      openPopup(p);
    }
    return S.selected.length;
  }

  function boundsOf(indices) {
    var b = L.latLngBounds([]);
    for (var k = 0; k < indices.length; k++) {
      var i = indices[k];
      if (S.lat[i] === S.lat[i] && S.lon[i] === S.lon[i]) b.extend([S.lat[i], S.lon[i]]);  // skip NaN
    }
    return b;
  }

  function fitBounds(b, animate) {
    if (!b.isValid()) return;
    // Keep the events clear of the legend on the right.
    var legend = S.legend && S.legend._box ? S.legend._box.offsetWidth : 0;
    var room = S.map.getSize().x > 2 * legend + 200 ? legend + 20 : 30;
    var options = { paddingTopLeft: [30, 30], paddingBottomRight: [room, 30], maxZoom: 13,
                    animate: animate !== false };
    if (b.getNorthEast().equals(b.getSouthWest())) S.map.setView(b.getCenter(), Math.max(S.map.getZoom(), 11), options);
    else S.map.fitBounds(b, options);
  }

  function fitData(animate) {
    var shown = [];
    for (var i = 0; i < S.size; i++) if (isOn(i) && !S.hidden[S.cl[i]]) shown.push(i);
    fitBounds(boundsOf(shown), animate);
  }

  // -- tooltip and popup ----------------------------------------------------------------
  function whenText(i) {
    var m = S.t[i];
    if (m === -2147483648) return '';
    var iso = new Date(m * 60000).toISOString();  // minutes of Kyiv wall-clock time (see IncidentEncoder)
    if (S.tp[i] === 0) return iso.slice(0, 10) + ' ' + iso.slice(11, 16) + ' (Kyiv time)';
    return S.tp[i] === 2 ? iso.slice(0, 7) : iso.slice(0, 10);
  }

  function tooltipNode(i) {
    var box = el('div', 'mv-tip');
    var mun = S.mun[i] >= 0 ? S.munitions[S.mun[i]] : 'Unknown munition';
    box.appendChild(el('strong', null, mun));
    box.appendChild(el('span', 'mv-tip-outcome', ' \u2013 ' + S.style.outcomes[S.cfg.outcomes[S.oc[i]]].label));
    box.appendChild(el('div', null, whenText(i)));
    var where = S.loc[i] >= 0 ? S.locations[S.loc[i]] : '';
    if (S.pr[i] > 0) where += (where ? ' ' : '') + '(location approximate: ' + S.cfg.precisions[S.pr[i]] + ')';
    if (where) box.appendChild(el('div', null, where));
    return box;
  }

  var URL_TOKEN = /https?:\/\/[^\s<>"';,]+/g;

  function safeUrl(text) {
    try {
      var u = new URL(text);
      return (u.protocol === 'http:' || u.protocol === 'https:') ? u.href : null;
    } catch (e) { return null; }
  }

  // Text with its http(s) addresses as links; everything else stays a text node.
  function linkified(text) {
    var frag = document.createDocumentFragment(), last = 0, m;
    URL_TOKEN.lastIndex = 0;
    while ((m = URL_TOKEN.exec(text)) !== null) {
      var url = safeUrl(m[0]);
      if (!url) continue;
      frag.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = el('a', 'mv-link', m[0]);
      a.href = url; a.target = '_blank'; a.rel = 'noopener noreferrer';
      frag.appendChild(a);
      last = m.index + m[0].length;
    }
    frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  }

  // A strike's reports: each a list of [label, text] pairs, shown as text (links: http(s) only).
  function reportsNode(name, value, reports) {
    var box = el('div', 'mv-origin mv-reports');
    box.appendChild(el('div', 'mv-reports-head', name + ': ' + value));
    for (var r = 0; r < reports.length; r++) {
      var pairs = reports[r], table = el('table', 'mv-fields mv-report');
      for (var j = 0; j < pairs.length; j++) {
        var tr = el('tr'), td = el('td');
        tr.appendChild(el('th', null, String(pairs[j][0])));
        if (/source|url|link/i.test(pairs[j][0])) td.appendChild(linkified(String(pairs[j][1])));
        else td.textContent = String(pairs[j][1]);
        tr.appendChild(td); table.appendChild(tr);
      }
      box.appendChild(table);
    }
    return box;
  }

  function popupNode(p, i) {
    var box = el('div', 'mv-popup'), fields = S.details[p];
    box.appendChild(tooltipNode(i));
    if (!fields) { box.appendChild(el('div', 'mv-muted', 'Loading details\u2026')); return box; }
    var table = el('table', 'mv-fields'), origin = null;
    for (var k = 0; k < fields.length; k++) {
      var name = fields[k][0], value = fields[k][1];
      if (Array.isArray(fields[k][2])) {  // [label, text, reports]: a strike's reports, one block each
        origin = reportsNode(name, value, fields[k][2]);
        continue;
      }
      if (fields[k].length > 2) {  // [label, text, title]: the file and row the event came from
        origin = el('div', 'mv-origin', name + ': ' + value);
        origin.title = String(fields[k][2]);  // attribute set as text, never parsed
        continue;
      }
      if (value === '' || value === null) continue;
      var tr = el('tr'), td = el('td');
      tr.appendChild(el('th', null, name));
      if (/source|url|link/i.test(name)) td.appendChild(linkified(String(value)));
      else td.textContent = String(value);
      tr.appendChild(td); table.appendChild(tr);
    }
    box.appendChild(table);
    if (origin) box.appendChild(origin);
    return box;
  }

  function openPopup(p) {
    var i = indexOfPosition(p);
    if (i < 0) return;
    L.popup({ minWidth: 320, maxWidth: 460, maxHeight: 380, className: 'mv-popup-wrap' })
      .setLatLng([S.lat[i], S.lon[i]]).setContent(popupNode(p, i)).openOn(S.map);
    S.popupPos = p;
  }

  // -- events ---------------------------------------------------------------------------
  var tip = null, hoverFrame = 0, lastMove = null;

  function onMove(e) {
    lastMove = e.containerPoint;
    if (hoverFrame) return;
    hoverFrame = (window.requestAnimationFrame || setTimeout)(function () {
      hoverFrame = 0;
      var i = S.layer.hit(lastMove), container = S.map.getContainer();
      var area = i < 0 && S.hoverWave && S.waves && S.map.hasLayer(S.waves) ? S.hoverWave : null;
      var cell = i < 0 && !area && S.cells ? S.cellLayer.hit(lastMove) : -1;
      var block = i < 0 && !area && cell < 0 ? S.layer.hitBlock(lastMove) : null;
      container.style.cursor = i >= 0 || block ? 'pointer' : '';
      if (i < 0 && !area && cell < 0 && !block) { if (tip) { S.map.closeTooltip(tip); tip = null; } return; }
      var r = S.layer.radius();
      if (!tip) tip = L.tooltip({ direction: 'top', offset: [0, -r - 2], className: 'mv-tooltip' });
      if (area) tip.setLatLng(S.map.containerPointToLatLng(lastMove)).setContent(waveTipNode(area));
      else if (cell >= 0) tip.setLatLng(S.map.containerPointToLatLng(lastMove)).setContent(cellTipNode(cell));
      else if (block) tip.setLatLng(S.map.containerPointToLatLng(lastMove)).setContent(countTipNode(block.n, block.by, S.unit));
      else tip.setLatLng([S.lat[i], S.lon[i]]).setContent(tooltipNode(i));
      S.map.openTooltip(tip);
    });
  }

  function onClick(e) {
    var i = S.layer.hit(e.containerPoint);
    if (i < 0) {
      var block = S.layer.hitBlock(e.containerPoint);  // a square of counts: zoom in on it
      if (block) S.map.setView(block.centre, Math.min(S.map.getMaxZoom(), S.map.getZoom() + 2));
      return;
    }
    var p = S.pos[i];
    if (S.cfg.live && S.bridge !== false) {
      S.pendingPopup = p;
      if (selectedPositions.length === 1 && selectedPositions[0] === p && S.details[p]) {
        S.pendingPopup = -1; openPopup(p);
      }
      tellApp('selectPositions', [[p]]);
    } else {
      setSelection([p]);
      openPopup(p);
    }
  }

  // Links never navigate the view: the app opens http(s) ones in the system browser.
  function onDocumentClick(e) {
    var a = e.target && e.target.closest ? e.target.closest('a[href]') : null;
    if (!a || !S.cfg.live) return;
    var href = a.getAttribute('href');
    if (!href || href.charAt(0) === '#') return;
    e.preventDefault();
    var url = safeUrl(a.href);
    if (url) tellApp('openLink', [url]);
  }

  function tellApp(method, args) {
    if (!S.cfg || !S.cfg.live) return;
    if (S.bridge) S.bridge[method].apply(S.bridge, args);
    else S.queue.push([method, args]);
  }

  function connectBridge() {
    if (typeof QWebChannel === 'undefined' || !window.qt || !qt.webChannelTransport) { S.bridge = false; return; }
    new QWebChannel(qt.webChannelTransport, function (channel) {
      S.bridge = channel.objects.bridge;
      var q = S.queue; S.queue = [];
      for (var k = 0; k < q.length; k++) S.bridge[q[k][0]].apply(S.bridge, q[k][1]);
    });
  }

  // -- legend, layers, basemaps -------------------------------------------------------------
  // Below this map size (CSS px) the legend starts folded: the map of a maximised 1366 x 768 window
  // (about 545 px high) keeps its space; from 1600 x 1000 (a map about 700 px high) it shows whole.
  var LEGEND_FOLD_HEIGHT = 600, LEGEND_FOLD_WIDTH = 600;

  var Legend = L.Control.extend({
    options: { position: 'bottomright' },
    onAdd: function (map) {
      var box = el('div', 'mv-legend leaflet-control');
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      this._box = box;
      this._userFold = null;  // the person's choice (title click) wins over the automatic fold
      this.update();
      this._autoFold();
      map.on('resize', this._autoFold, this);
      return box;
    },
    onRemove: function (map) { map.off('resize', this._autoFold, this); },
    // On a small map the full legend would hide much of it: fold it to its title and a short
    // labelled outcome list until the person unfolds it. Exports and screenshots never fold.
    _autoFold: function () {
      var size = S.map.getSize(), fold = this._userFold !== null ? this._userFold
        : (size.y < LEGEND_FOLD_HEIGHT || size.x < LEGEND_FOLD_WIDTH);
      if (S.legendOpen) fold = false;
      if (fold) L.DomUtil.addClass(this._box, 'mv-folded'); else L.DomUtil.removeClass(this._box, 'mv-folded');
    },
    update: function () {
      var box = this._box, c = (S.cells ? S.cells.counts : S.counts) || { outcomes: {}, classes: {} };
      var k, row, name, self = this;
      if (!box) return;
      box.textContent = '';
      var title = el('div', 'mv-legend-title',
        S.cells ? thousands(S.cells.total) + ' events in ' + thousands(S.cells.count) + ' cells'
                : thousands(S.n) + (S.total && S.total !== S.n ? ' of ' + thousands(S.total) : '') + ' ' + S.unit);
      title.title = 'Click to fold or unfold the legend';
      L.DomEvent.on(title, 'click', function () {
        self._userFold = !L.DomUtil.hasClass(box, 'mv-folded');
        self._autoFold();
      });
      box.appendChild(title);
      var compact = el('div', 'mv-legend-compact');  // shown only when folded
      for (k = 0; k < S.cfg.outcomes.length; k++) {
        name = S.cfg.outcomes[k];
        if (!c.outcomes[name]) continue;
        var item = el('span', 'mv-legend-chip'), label = S.style.outcomes[name].label;
        item.title = label;
        item.appendChild(symbolIcon('circle', S.style.outcomes[name].colour, false));
        item.appendChild(el('span', 'mv-legend-chip-label', label.split(' / ')[0]));  // short: "Deviated"
        item.appendChild(el('span', 'mv-legend-count', thousands(c.outcomes[name])));
        compact.appendChild(item);
      }
      box.appendChild(compact);
      box.appendChild(el('div', 'mv-legend-head', 'Outcome'));
      for (k = 0; k < S.cfg.outcomes.length; k++) {
        name = S.cfg.outcomes[k];
        row = el('div', 'mv-legend-row');
        row.appendChild(symbolIcon('circle', S.style.outcomes[name].colour, false));
        row.appendChild(el('span', 'mv-legend-label', S.style.outcomes[name].label));
        row.appendChild(el('span', 'mv-legend-count', thousands(c.outcomes[name] || 0)));
        if (!c.outcomes[name]) row.className += ' mv-empty';
        box.appendChild(row);
      }
      box.appendChild(el('div', 'mv-legend-head', 'Munition class'));
      for (k = 0; k < S.cfg.classes.length; k++) {
        name = S.cfg.classes[k];
        if (!c.classes[name] && name === 'unknown') continue;
        row = el('div', 'mv-legend-row' + (S.hidden[k] ? ' mv-off' : '') + (c.classes[name] ? '' : ' mv-empty'));
        row.appendChild(symbolIcon(S.style.classes[name].shape, '#555', false));
        row.appendChild(el('span', 'mv-legend-label', S.style.classes[name].label));
        row.appendChild(el('span', 'mv-legend-count', thousands(c.classes[name] || 0)));
        box.appendChild(row);
      }
      row = el('div', 'mv-legend-row mv-legend-note');
      row.appendChild(symbolIcon('circle', '#555', true));
      row.appendChild(el('span', 'mv-legend-label', 'Approximate location (halo: settlement / region)'));
      box.appendChild(row);
      if (S.layer && S.layer._aggregated) {
        box.appendChild(el('div', 'mv-legend-row mv-legend-note mv-legend-blocks',
                           'Too many to draw one by one: each square counts the ' + S.unit + ' in it. Zoom in for symbols.'));
      }
    }
  });

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (ch) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[ch];
    });
  }

  function updateDensity() {
    if (!S.density) return;
    var pts = [];
    for (var i = 0; i < S.size; i++) {
      if (isOn(i) && !S.hidden[S.cl[i]] && S.lat[i] === S.lat[i] && S.lon[i] === S.lon[i]) pts.push([S.lat[i], S.lon[i], 1]);
    }
    S.density.setLatLngs(pts);
  }

  function setDensity(on) {
    if (!S.density) return false;
    if (on && !S.map.hasLayer(S.density)) S.density.addTo(S.map);
    if (!on && S.map.hasLayer(S.density)) S.map.removeLayer(S.density);
    return S.densityOn;
  }

  function setClassVisible(name, visible) {
    var k = S.cfg.classes.indexOf(name);
    if (k < 0) return false;
    var layer = S.classLayers[k];
    if (visible && !S.map.hasLayer(layer)) layer.addTo(S.map);
    if (!visible && S.map.hasLayer(layer)) S.map.removeLayer(layer);
    return true;
  }

  // The app's filter decides which class boxes are ticked (names of the classes shown).
  function setClassesShown(names) {
    S.syncingClasses = true;
    try {
      for (var k = 0; k < S.cfg.classes.length; k++) {
        var layer = S.classLayers[k], on = names.indexOf(S.cfg.classes[k]) >= 0;
        if (on && !S.map.hasLayer(layer)) layer.addTo(S.map);
        if (!on && S.map.hasLayer(layer)) S.map.removeLayer(layer);
      }
    } finally { S.syncingClasses = false; }
    return classesShown();
  }

  function classesShown() {
    var out = [];
    for (var k = 0; k < S.cfg.classes.length; k++) if (S.map.hasLayer(S.classLayers[k])) out.push(S.cfg.classes[k]);
    return out;
  }

  function onOverlay(e, on) {
    if (e.layer === S.density) {
      S.densityOn = on;
      if (on) updateDensity();
      tellApp('densityShown', [on]);  // a rebuilt page shows it again
      return;
    }
    if (e.layer._mvClass === undefined) return;
    var k = e.layer._mvClass;
    if (on) delete S.hidden[k]; else S.hidden[k] = true;
    if (!on && S.popupPos >= 0) {
      var i = indexOfPosition(S.popupPos);
      if (i >= 0 && S.cl[i] === k) S.map.closePopup();
    }
    // In the app a class box is one more way to set the filter: the app answers with the new rows.
    if (!S.syncingClasses) tellApp('setClassShown', [S.cfg.classes[k], on]);
    if (S.layer) S.layer.redraw();
    if (S.legend) S.legend.update();
    if (S.densityOn) updateDensity();
  }

  // The offline basemap's sources and terms, in the map's attribution line while the layer is shown.
  function credit(layer, source) {
    if (!source || !S.map.attributionControl) return;
    var text = escapeHtml(source[0]);
    layer.options.attribution = source[1] ? '<a href="' + escapeHtml(source[1]) + '" target="_blank" '
      + 'rel="noopener noreferrer">' + text + '</a>' : text;
    // Layers already on the map: Leaflet only reads attributions of layers added after its control.
    if (S.map.hasLayer(layer)) { S.map.removeLayer(layer); S.map.addLayer(layer); }
  }

  function setBasemap(spec) {
    var map = S.map;
    if (S.tiles) { S.control.removeLayer(S.tiles); map.removeLayer(S.tiles); S.tiles = null; }
    if (!spec || spec.id === 'offline') {
      if (!map.hasLayer(S.basemaps.countries)) S.basemaps.countries.addTo(map);
      if (S.places && !map.hasLayer(S.places)) S.places.addTo(map);  // the outlines carry no names
      return 'offline';
    }
    var attribution = spec.trusted_attribution ? spec.attribution : escapeHtml(spec.attribution || '');
    S.tiles = L.tileLayer(spec.url, { attribution: attribution, maxZoom: spec.maxZoom || S.cfg.maxZoom,
                                      maxNativeZoom: spec.maxZoom || S.cfg.maxZoom });
    S.control.addBaseLayer(S.tiles, escapeHtml(spec.name || 'Tiles'));
    if (map.hasLayer(S.basemaps.countries)) map.removeLayer(S.basemaps.countries);
    if (S.places && map.hasLayer(S.places)) map.removeLayer(S.places);  // tiles carry their own names
    S.tiles.addTo(map);
    return spec.id;
  }

  // -- tile archives (MBTiles / PMTiles files the person added) ----------------------------------
  // In the app their tiles come from basemap://KEY/z/x/y (the app's URL scheme handler); an
  // exported page carries them as data URIs ("z/x/y" -> URI). Above a file's deepest zoom Leaflet
  // scales its tiles up, and the attribution line says so. Names and attributions are text.
  var EMPTY_TILE = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';
  var EmbeddedTiles = L.TileLayer.extend({
    getTileUrl: function (coords) {
      var uri = this.options.mvTiles[this._getZoomForUrl() + '/' + coords.x + '/' + coords.y];
      return uri || EMPTY_TILE;
    }
  });

  function archiveAttribution(layer) {
    var o = layer.options, zoom = S.map.getZoom();
    if (!(zoom > o.maxNativeZoom)) return o.mvAttribution;
    var note = escapeHtml(o.mvName) + ': scaled up above zoom ' + o.maxNativeZoom;
    return o.mvAttribution ? o.mvAttribution + ' (' + note + ')' : note;
  }

  function updateArchiveNotes() {
    var control = S.map.attributionControl;
    for (var k = 0; k < S.archives.length; k++) {
      var layer = S.archives[k], want = archiveAttribution(layer), had = layer.options.attribution;
      if (want === had) continue;
      var shown = control && S.map.hasLayer(layer);
      if (shown && had) control.removeAttribution(had);
      layer.options.attribution = want;
      if (shown && want) control.addAttribution(want);
    }
  }

  function setArchives(specs) {
    var map = S.map, k;
    for (k = 0; k < S.archives.length; k++) {
      var old = S.archives[k];
      if (map.hasLayer(old)) delete S.archivesOff[old._mvKey]; else S.archivesOff[old._mvKey] = true;
      S.control.removeLayer(old);
      map.removeLayer(old);
    }
    S.archives = [];
    if (!map.getPane('mv-archives')) map.createPane('mv-archives').style.zIndex = 260;  // over the outlines
    for (k = 0; k < (specs || []).length; k++) {
      var s = specs[k], text = escapeHtml(s.attribution || '');
      var options = { pane: 'mv-archives', zIndex: k + 1, bounds: L.latLngBounds(s.bounds[0], s.bounds[1]),
        minNativeZoom: s.minNativeZoom, maxNativeZoom: s.maxNativeZoom, maxZoom: S.cfg.maxZoom,
        tileSize: s.tileSize, zoomOffset: s.zoomOffset, attribution: text, mvAttribution: text,
        mvName: s.name || 'Basemap file', className: 'mv-archive-tiles' };
      var layer = s.tiles ? new EmbeddedTiles('', L.extend(options, { mvTiles: s.tiles }))
                          : L.tileLayer(s.url, options);
      layer._mvKey = s.key;
      S.control.addOverlay(layer, escapeHtml(options.mvName));
      if (!S.archivesOff[s.key]) layer.addTo(map);
      S.archives.push(layer);
    }
    updateArchiveNotes();
    return S.archives.length;
  }

  function archivesShown() {
    return S.archives.map(function (layer) {
      return { key: layer._mvKey, name: layer.options.mvName, on: S.map.hasLayer(layer),
               attribution: layer.options.attribution };
    });
  }

  // A user's own boundary file (geoBoundaries, agency layers), drawn as outlines.
  function setBoundaryLayer(geojson, name) {
    if (S.boundary) { S.control.removeLayer(S.boundary); S.map.removeLayer(S.boundary); S.boundary = null; }
    if (!geojson) return 0;
    S.boundary = L.geoJSON(geojson, { pane: 'mv-basemap', interactive: false,
      style: { color: '#3b3b8f', weight: 1.4, fill: false } }).addTo(S.map);
    S.control.addOverlay(S.boundary, escapeHtml(name || 'Boundaries'));
    return S.boundary.getLayers().length;
  }

  function addLabels() {
    var group = L.layerGroup();
    for (var k = 0; k < S.cfg.labels.length; k++) {
      var lab = S.cfg.labels[k];
      var icon = L.divIcon({ className: 'mv-oblast-label', html: el('span', null, lab[0]), iconSize: null });
      L.marker([lab[1], lab[2]], { icon: icon, interactive: false, keyboard: false, pane: 'mv-labels' }).addTo(group);
    }
    function toggle() {
      var show = S.map.getZoom() >= 6;
      if (show && !S.map.hasLayer(group) && S.map.hasLayer(S.basemaps.oblasts)) group.addTo(S.map);
      if (!show && S.map.hasLayer(group)) S.map.removeLayer(group);
    }
    S.map.on('zoomend overlayadd overlayremove', toggle);
    S.map.on('overlayremove', function (e) { if (e.layer === S.basemaps.oblasts) S.map.removeLayer(group); });
    toggle();
  }

  // -- place names on the offline basemap ------------------------------------------------------
  // Settlements [name, lat, lon, population], largest first (cfg.places). Only the places big
  // enough for the zoom and inside the view are named, greedily in population order, skipping any
  // whose box would overlap a name already placed or a map control: a few hundred nodes at most.
  var PLACE_MAX = 250;

  function placeMinPopulation(zoom) {
    return zoom < 7 ? 300000 : zoom < 8 ? 100000 : zoom < 9 ? 30000 : zoom < 10 ? 10000 : 0;
  }

  function placeSize(population) {  // [class, CSS font]: bigger places in bigger type
    if (population >= 1000000) return ['mv-place-big', 'bold 13px'];
    if (population >= 100000) return ['mv-place-mid', '12px'];
    return ['', '11px'];
  }

  function overlapsAny(b, boxes) {  // boxes [left, top, right, bottom]
    for (var k = 0; k < boxes.length; k++) {
      var o = boxes[k];
      if (b[0] < o[2] && o[0] < b[2] && b[1] < o[3] && o[1] < b[3]) return true;
    }
    return false;
  }

  var PlaceLayer = L.Layer.extend({
    options: { pane: 'mv-places' },

    initialize: function (places) {
      this._places = places || [];
      this._widths = {};  // index -> text width in pixels, measured once
    },

    onAdd: function () {
      this._box = L.DomUtil.create('div', 'mv-places');
      this.getPane().appendChild(this._box);
      this.update();
    },

    onRemove: function () {
      L.DomUtil.remove(this._box); this._box = null;
      this._clearOblastNames([]);
    },

    getEvents: function () {
      // Positions are layer pixels of one zoom: hidden while a zoom animates, placed again after.
      return { zoomstart: this._hide, zoomend: this.update, moveend: this.update, resize: this.update };
    },

    _hide: function () { if (this._box) this._box.style.display = 'none'; },

    _width: function (k, font) {
      if (this._widths[k] === undefined) {
        if (!this._ctx) this._ctx = document.createElement('canvas').getContext('2d');
        var family = window.getComputedStyle(this._map.getContainer()).fontFamily;
        this._ctx.font = font + ' ' + family;
        this._widths[k] = this._ctx.measureText(this._places[k][0]).width;
      }
      return this._widths[k];
    },

    // Screen boxes [left, top, right, bottom] (container pixels) of the nodes matching selector.
    _boxes: function (selector) {
      var out = [], origin = this._map.getContainer().getBoundingClientRect();
      var nodes = this._map.getContainer().querySelectorAll(selector);
      for (var k = 0; k < nodes.length; k++) {
        var r = nodes[k].getBoundingClientRect();
        out.push([r.left - origin.left, r.top - origin.top, r.right - origin.left, r.bottom - origin.top, nodes[k]]);
      }
      return out;
    },

    // Oblast names under a place name are hidden while it shows (Kyiv city is both): the town
    // names are what an analyst reads at that zoom, the oblast outlines still show the oblast.
    _clearOblastNames: function (placed) {
      var oblasts = this._boxes('.mv-oblast-label span');
      for (var k = 0; k < oblasts.length; k++) {
        oblasts[k][4].style.visibility = overlapsAny(oblasts[k], placed) ? 'hidden' : '';
      }
    },

    update: function () {
      if (!this._box) return;
      var map = this._map, box = this._box, size = map.getSize(), places = this._places;
      var minPop = placeMinPopulation(map.getZoom()), placed = [];
      var taken = this._boxes('.leaflet-control').filter(function (b) { return b[2] > b[0] && b[3] > b[1]; });
      var shown = 0, pad = 2;
      box.textContent = '';
      box.style.display = '';
      for (var k = 0; k < places.length && shown < PLACE_MAX; k++) {
        var p = places[k];
        if (p[3] < minPop) break;  // largest first: every later place is smaller
        var pt = map.latLngToContainerPoint([p[1], p[2]]);
        if (pt.x < 0 || pt.y < 0 || pt.x > size.x || pt.y > size.y) continue;
        var look = placeSize(p[3]), h = look[1].indexOf('13') >= 0 ? 16 : 15;
        // dot centred on the place, name to its right, vertically centred
        var b = [pt.x - 4 - pad, pt.y - h / 2 - pad, pt.x + 6 + this._width(k, look[1]) + pad, pt.y + h / 2 + pad];
        if (b[2] > size.x) continue;  // a name cut by the map's edge is not shown
        if (overlapsAny(b, taken)) continue;
        taken.push(b); placed.push(b);
        var node = el('div', 'mv-place' + (look[0] ? ' ' + look[0] : ''));
        node.appendChild(el('span', 'mv-place-dot'));
        node.appendChild(el('span', 'mv-place-name', p[0]));  // text node: never markup
        L.DomUtil.setPosition(node, map.containerPointToLayerPoint(pt).round());
        box.appendChild(node);
        shown++;
      }
      this._clearOblastNames(placed);
    },

    // The names shown now, for tests and tooling.
    names: function () {
      var out = [], nodes = this._box ? this._box.querySelectorAll('.mv-place-name') : [];
      for (var k = 0; k < nodes.length; k++) out.push(nodes[k].textContent);
      return out;
    }
  });

  function addPlaces(cfg) {
    var pane = S.map.createPane('mv-places');
    pane.style.zIndex = 400;  // over the oblast names, under the incident canvas
    pane.style.pointerEvents = 'none';
    S.places = new PlaceLayer(cfg.places);
    credit(S.places, (cfg.credits || {}).places);
    S.places.addTo(S.map);  // the offline basemap is shown first
  }

  // -- view the app asked for ----------------------------------------------------------------
  function setView(lat, lon, zoom) {
    S.pinned = [lat, lon, zoom];
    S.map.setView([lat, lon], zoom, { animate: false });
  }

  function releaseView() { S.pinned = null; }

  // The person moving the map (drag, wheel, keys, zoom buttons) ends the app's pinned view;
  // clicks on the other controls (layers, legend) do not.
  function watchUserMoves(container) {
    function release(e) {
      var t = e.target;
      if (t && t.closest && t.closest('.leaflet-control') && !t.closest('.leaflet-control-zoom')) return;
      S.pinned = null;
    }
    var kinds = ['mousedown', 'wheel', 'touchstart', 'keydown'];
    for (var k = 0; k < kinds.length; k++) container.addEventListener(kinds[k], release, true);
  }

  // -- title box and date caption (top centre) -------------------------------------------------
  // An exported page says what it shows: title, the filters in words, the data fingerprint.
  // Plain strings from the caller, set as text nodes.
  function addHeading(corner, heading) {
    if (!heading || !heading.title) return;
    var box = el('div', 'mv-heading leaflet-control');
    box.appendChild(el('div', 'mv-heading-title', heading.title));
    if (heading.subtitle) box.appendChild(el('div', 'mv-heading-subtitle', heading.subtitle));
    if (heading.fingerprint) box.appendChild(el('div', 'mv-heading-fingerprint', 'Fingerprint ' + heading.fingerprint));
    corner.appendChild(box);
  }

  function addCaption(map) {
    var corner = L.DomUtil.create('div', 'leaflet-top mv-topcenter', map._controlContainer);
    addHeading(corner, S.cfg.heading);
    S.caption = el('div', 'mv-caption leaflet-control');
    S.caption.style.display = 'none';
    corner.appendChild(S.caption);
  }

  function setCaption(text) {
    if (!S.caption) return '';
    S.caption.textContent = text ? String(text) : '';  // text node: never markup
    S.caption.style.display = text ? '' : 'none';
    return S.caption.textContent;
  }

  // -- attack-wave targets: oblasts shaded by the launches aimed at them -----------------------
  var WaveLegend = L.Control.extend({
    options: { position: 'bottomleft' },
    onAdd: function () {
      this._box = el('div', 'mv-legend mv-wave-legend leaflet-control');
      L.DomEvent.disableClickPropagation(this._box);
      this.update();
      return this._box;
    },
    update: function () {
      var box = this._box, sh = S.waveShading || {}, names = Object.keys(sh);
      if (!box) return;
      box.textContent = '';
      box.style.display = names.length && S.waves && S.map.hasLayer(S.waves) ? '' : 'none';
      if (!names.length) return;
      var lo = null, hi = null;
      for (var k = 0; k < names.length; k++) {
        var v = sh[names[k]];
        if (!lo || v.launched < lo.launched) lo = v;
        if (!hi || v.launched > hi.launched) hi = v;
      }
      box.appendChild(el('div', 'mv-legend-head', 'Wave targets (launches aimed)'));
      var bar = el('div', 'mv-wave-bar');
      for (k = 0; k < 5; k++) {
        var cell = el('span', 'mv-wave-cell');
        cell.style.background = hi.fill;
        cell.style.opacity = lo.fill_opacity + (hi.fill_opacity - lo.fill_opacity) * k / 4;
        bar.appendChild(cell);
      }
      box.appendChild(bar);
      var scale = el('div', 'mv-wave-scale');
      scale.appendChild(el('span', null, lo.launched));
      scale.appendChild(el('span', null, hi.launched));
      box.appendChild(scale);
      if (S.waveUnplaced) box.appendChild(el('div', 'mv-wave-unplaced', S.waveUnplaced));
    }
  });

  function waveTipNode(layer) {
    var box = el('div', 'mv-tip'), name = layer.feature.properties.name;
    var v = (S.waveShading || {})[name], n = v ? v.launched : 0;
    box.appendChild(el('strong', null, name));
    box.appendChild(el('div', null, n + (n === 1 ? ' launch' : ' launches') + ' aimed (attack waves in the period)'));
    return box;
  }

  function styleWaves() {
    var sh = S.waveShading || {};
    S.waves.eachLayer(function (layer) {
      var v = sh[layer.feature.properties.name];
      layer.setStyle(v ? { fillColor: v.fill, fillOpacity: v.fill_opacity, color: v.fill, weight: 0.6, opacity: 0.8 }
                       : { fillOpacity: 0, opacity: 0 });
    });
  }

  // shading: {oblast name: {launched, fill, fill_opacity}} (mapviewer.waveshading.wave_shading),
  // or null when no waves are open (the layer leaves the map and the layer control).
  // shading: oblast name -> {launched, fill, fill_opacity}; unplaced: words on the launches it leaves out
  function setWaveTargets(shading, unplaced) {
    var map = S.map;
    S.waveShading = shading || null;
    S.waveUnplaced = typeof unplaced === 'string' ? unplaced : '';
    if (!shading) {
      if (S.waves) { S.control.removeLayer(S.waves); map.removeLayer(S.waves); S.waves = null; }
      S.hoverWave = null;
      if (S.waveLegend) S.waveLegend.update();
      return 0;
    }
    if (!S.waves) {
      if (!map.getPane('mv-waves')) map.createPane('mv-waves').style.zIndex = 300;  // over the basemap, under labels
      S.waves = L.geoJSON(S.basemaps.oblasts.toGeoJSON(), { pane: 'mv-waves', className: 'mv-wave-area',
        style: { fillOpacity: 0, opacity: 0 },
        onEachFeature: function (f, layer) {
          layer.on('mouseover', function () { S.hoverWave = layer; });
          layer.on('mouseout', function () { if (S.hoverWave === layer) S.hoverWave = null; });
        } }).addTo(map);
      S.control.addOverlay(S.waves, 'Wave targets');
      if (!S.waveLegend) S.waveLegend = new WaveLegend().addTo(map);
    }
    styleWaves();
    S.waveLegend.update();
    return Object.keys(shading).length;
  }

  // What the wave layer shows now: {oblast name: launches} for the shaded oblasts.
  function waveTargets() {
    var out = {};
    if (!S.waves) return null;
    S.waves.eachLayer(function (layer) {
      var v = (S.waveShading || {})[layer.feature.properties.name];
      if (v && layer.options.fillOpacity > 0) out[layer.feature.properties.name] = v.launched;
    });
    return out;
  }

  // -- server-side aggregation (an open database over the point limit) ---------------------------
  // Cells arrive as compact arrays (cell size in degrees, south-west corners, counts per outcome)
  // and are drawn on one canvas: each cell filled with the outcome colours mixed by their share,
  // more opaque where more events are, with its count when the cell is big enough. Only numbers
  // are put in the page.
  // A square of counts at [left, top, right, bottom]: ``colour``, more opaque the nearer ``n`` is to
  // ``most`` (the fullest square shown), with its count written in when the count fits.
  function paintCount(ctx, b, n, most, colour) {
    var w = b[2] - b[0], h = b[3] - b[1], label = String(n);
    ctx.globalAlpha = 0.25 + 0.55 * Math.log(1 + n) / Math.log(1 + most);
    ctx.fillStyle = colour;
    ctx.fillRect(b[0] + 0.5, b[1] + 0.5, w - 1, h - 1);
    ctx.globalAlpha = 1;
    ctx.font = '11px sans-serif'; ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
    if (w >= 30 && h >= 16 && ctx.measureText(label).width <= w - 4) {
      ctx.lineWidth = 3; ctx.strokeStyle = 'rgba(255,255,255,0.85)';
      ctx.strokeText(label, (b[0] + b[2]) / 2, (b[1] + b[3]) / 2);
      ctx.fillStyle = '#111'; ctx.fillText(label, (b[0] + b[2]) / 2, (b[1] + b[3]) / 2);
    }
  }

  function cellColour(k) {
    var C = S.cells;
    return mixedColour(C.outcomes, C.by.map(function (counts) { return counts[k]; }), C.n[k]);
  }

  // The colours of ``outcomes`` mixed by their share of ``n`` (``counts`` in the same order).
  function mixedColour(outcomes, counts, n) {
    var r = 0, g = 0, b = 0;
    n = n || 1;
    for (var o = 0; o < outcomes.length; o++) {
      var share = counts[o] / n, hex = S.style.outcomes[outcomes[o]].colour;
      r += share * parseInt(hex.substr(1, 2), 16); g += share * parseInt(hex.substr(3, 2), 16);
      b += share * parseInt(hex.substr(5, 2), 16);
    }
    return 'rgb(' + Math.round(r) + ',' + Math.round(g) + ',' + Math.round(b) + ')';
  }

  var CellLayer = L.Layer.extend({
    options: { pane: 'mv-cells' },
    onAdd: function () {
      this._canvas = L.DomUtil.create('canvas', 'mv-incidents leaflet-zoom-animated');
      this.getPane().appendChild(this._canvas);
      this._ctx = this._canvas.getContext('2d');
      this._reset();
    },
    onRemove: function () { L.DomUtil.remove(this._canvas); },
    getEvents: function () { return { moveend: this._reset, resize: this._reset, zoomanim: this._animateZoom }; },
    _animateZoom: IncidentLayer.prototype._animateZoom,
    _reset: function () {
      var map = this._map, size = map.getSize(), c = this._canvas, dpr = window.devicePixelRatio || 1;
      var topLeft = map.containerPointToLayerPoint([0, 0]).round();
      L.DomUtil.setPosition(c, topLeft);
      this._topLeftLatLng = map.layerPointToLatLng(topLeft);
      this._zoom = map.getZoom();
      c.width = Math.round(size.x * dpr); c.height = Math.round(size.y * dpr);
      c.style.width = size.x + 'px'; c.style.height = size.y + 'px';
      this._dpr = dpr; this._size = size;
      this.redraw();
    },
    // Container pixels of cell k: [left, top, right, bottom].
    box: function (k) {
      var C = S.cells, map = this._map, d = C.size;
      var sw = map.latLngToContainerPoint([C.south[k], C.west[k]]);
      var ne = map.latLngToContainerPoint([C.south[k] + d, C.west[k] + d]);
      return [sw.x, ne.y, ne.x, sw.y];
    },
    redraw: function () {
      if (!this._map) return;
      var ctx = this._ctx, C = S.cells, size = this._size;
      ctx.setTransform(this._dpr, 0, 0, this._dpr, 0, 0);
      ctx.clearRect(0, 0, size.x, size.y);
      if (!C || !C.count) return;
      var most = 1, k;
      for (k = 0; k < C.count; k++) if (C.n[k] > most) most = C.n[k];
      for (k = 0; k < C.count; k++) {
        var b = this.box(k);
        if (b[2] < 0 || b[3] < 0 || b[0] > size.x || b[1] > size.y) continue;
        paintCount(ctx, b, C.n[k], most, cellColour(k));
      }
    },
    // The cell under a container point, or -1.
    hit: function (p) {
      var C = S.cells;
      if (!C) return -1;
      for (var k = 0; k < C.count; k++) {
        var b = this.box(k);
        if (p.x >= b[0] && p.x < b[2] && p.y >= b[1] && p.y < b[3]) return k;
      }
      return -1;
    }
  });

  function cellTipNode(k) {
    var C = S.cells, by = {};
    for (var o = 0; o < C.outcomes.length; o++) by[C.outcomes[o]] = C.by[o][k];
    return countTipNode(C.n[k], by, 'events');
  }

  // 1234567 as "1,234,567", as the app's panels write counts.
  function thousands(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }

  // "N events" (or strikes) and how many of each outcome, for a square of counts.
  function countTipNode(n, by, unit) {
    var box = el('div', 'mv-tip');
    box.appendChild(el('strong', null, thousands(n) + ' ' + (n === 1 ? unit.replace(/s$/, '') : unit)));
    for (var o = 0; o < S.cfg.outcomes.length; o++) {
      var name = S.cfg.outcomes[o];
      if (by[name]) box.appendChild(el('div', null, S.style.outcomes[name].label + ': ' + thousands(by[name])));
    }
    box.appendChild(el('div', 'mv-tip-note', 'Zoom in to see the ' + unit));
    return box;
  }

  // payload: {size, west: [], south: [], n: [], by: {outcome: []}, fit} or null (no cells).
  function setCells(p) {
    if (!p) {
      S.cells = null;
    } else {
      var outcomes = S.cfg.outcomes.filter(function (o) { return p.by[o]; }), counts = { outcomes: {}, classes: {} };
      var total = 0;
      for (var k = 0; k < p.n.length; k++) total += p.n[k];
      for (var o = 0; o < outcomes.length; o++) {
        var sum = 0;
        for (k = 0; k < p.n.length; k++) sum += p.by[outcomes[o]][k];
        counts.outcomes[outcomes[o]] = sum;
      }
      S.cells = { size: +p.size, west: p.west, south: p.south, n: p.n, count: p.n.length, outcomes: outcomes,
                  by: outcomes.map(function (o) { return p.by[o]; }), total: total, counts: counts };
      if (p.fit && p.n.length && !S.pinned) {
        var b = L.latLngBounds([]);
        for (k = 0; k < p.n.length; k++) {
          b.extend([p.south[k], p.west[k]]); b.extend([p.south[k] + S.cells.size, p.west[k] + S.cells.size]);
        }
        fitBounds(b, false);
      }
    }
    if (S.cellLayer) S.cellLayer.redraw();
    if (S.legend) S.legend.update();
    return S.cells ? S.cells.count : 0;
  }

  // -- public API (called by the app through runJavaScript, and by the page itself) --------
  function init(map, basemaps, cfg, data, details) {
    S.map = map; S.cfg = cfg; S.style = cfg.style; S.basemaps = basemaps;
    map.getContainer().style.background = cfg.style.neutral.water;  // the one neutral colour table
    if (details) S.details = details;
    map.createPane('mv-incidents').style.zIndex = 450;
    map.getPane('mv-incidents').style.pointerEvents = 'none';
    S.layer = new IncidentLayer().addTo(map);
    map.createPane('mv-cells').style.zIndex = 440;  // under the points
    map.getPane('mv-cells').style.pointerEvents = 'none';
    S.cellLayer = new CellLayer().addTo(map);

    var overlays = {};
    for (var k = 0; k < cfg.classes.length; k++) {
      var group = L.layerGroup();
      group._mvClass = k;
      group.addTo(map);
      S.classLayers.push(group);
      overlays[escapeHtml(S.style.classes[cfg.classes[k]].label)] = group;
    }
    if (L.heatLayer) {
      S.density = L.heatLayer([], { radius: 18, blur: 22, minOpacity: 0.25, maxZoom: 11 });
      overlays['Density (heatmap)'] = S.density;
    }
    overlays['Oblasts (approximate)'] = basemaps.oblasts;
    // Before the layer control exists, so re-adding the layers fires no layer-control events.
    credit(basemaps.countries, (cfg.credits || {}).countries);
    credit(basemaps.oblasts, (cfg.credits || {}).oblasts);
    addPlaces(cfg);
    overlays['Place names'] = S.places;
    S.control = L.control.layers({ 'Offline outlines': basemaps.countries }, overlays,
                                 { collapsed: true, position: 'topright' }).addTo(map);
    S.legend = new Legend().addTo(map);
    addLabels();
    addCaption(map);
    S.places.update();  // now that the legend and other controls have their boxes
    if (cfg.basemap) setBasemap(cfg.basemap);  // an exported page with tiles: they replace the outlines
    if (cfg.archives) setArchives(cfg.archives);  // an exported page's embedded tile archives
    map.on('zoomend', updateArchiveNotes);
    watchUserMoves(map.getContainer());

    map.on('overlayadd overlayremove', function (e) { if (e.layer === S.waves && S.waveLegend) S.waveLegend.update(); });
    map.on('overlayadd', function (e) { onOverlay(e, true); });
    map.on('overlayremove', function (e) { onOverlay(e, false); });
    map.on('mousemove', onMove);
    map.on('mouseout', function () { if (tip) { map.closeTooltip(tip); tip = null; } });
    map.on('click', onClick);
    map.on('popupclose', function () { S.popupPos = -1; });
    map.on('moveend', function () {
      var c = map.getCenter();
      tellApp('viewChanged', [c.lat, c.lng, map.getZoom()]);
    });
    document.addEventListener('click', onDocumentClick, true);
    if (cfg.live) connectBridge();
    if (data) setData(data);
    api.ready = true;
  }

  var api = {
    ready: false,
    init: init,
    loadFrame: loadFrame,
    setMask: setMask,
    setCells: setCells,
    cells: function () { return S.cells ? [S.cells.count, S.cells.total] : null; },
    setSelection: setSelection,
    setBasemap: setBasemap,
    setBoundaryLayer: setBoundaryLayer,
    setArchives: setArchives,
    archives: archivesShown,
    setDensity: setDensity,
    setClassVisible: setClassVisible,
    setClassesShown: setClassesShown,
    classesShown: classesShown,
    zoomToSelection: function () { S.pinned = null; fitBounds(boundsOf(S.selected)); return S.selected.length; },
    setView: setView,
    releaseView: releaseView,
    setCaption: setCaption,
    // Exports and screenshots: the legend stays unfolded whatever the map size or the person chose.
    setLegendOpen: function (on) { S.legendOpen = !!on; if (S.legend) S.legend._autoFold(); return S.legendOpen; },
    legendFolded: function () { return !!(S.legend && L.DomUtil.hasClass(S.legend._box, 'mv-folded')); },
    // Redraw at the current size and pixel density (after the view's zoom changed for an export).
    refresh: function () {
      S.map.invalidateSize();  // as Leaflet does on a resize: the centre stays
      if (S.layer) S.layer._reset();
      if (S.legend) { S.legend.update(); S.legend._autoFold(); }
      var b = S.map.getBounds(), size = S.map.getSize();
      return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast(), size.x, size.y, window.devicePixelRatio || 1];
    },
    caption: function () { return S.caption && S.caption.style.display !== 'none' ? S.caption.textContent : ''; },
    setWaveTargets: setWaveTargets,
    waveTargets: waveTargets,
    placeNames: function () { return S.places && S.map.hasLayer(S.places) ? S.places.names() : []; },
    view: function () { var c = S.map.getCenter(); return [c.lat, c.lng, S.map.getZoom()]; },
    count: function () { return S.n; },
    // While squares of counts stand for the events: [squares with events, events in them]; else null.
    blocks: function () {
      var B = S.layer && S.layer._blocks, n = 0, k = 0;
      if (!B) return null;
      for (var j = 0; j < B.totals.length; j++) if (B.totals[j]) { k++; n += B.totals[j]; }
      return [k, n];
    },
    drawnCount: function () { return S.layer ? S.layer._nvis : 0; },  // points on the canvas now (visible classes, on screen)
    screenPoint: function (position) {
      var p = S.layer ? S.layer.screenPoint(indexOfPosition(position)) : null;
      return p ? [p.x, p.y] : null;
    },
    selected: function () { return selectedPositions.slice(); },
    state: S
  };
  window.mapviewer = api;
}());
