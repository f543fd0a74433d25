// The flood map page: click for a point report, draw a parcel, search, legend toggles (risk
// statuses, maps, the FIRM panel and BFE line layers, the latter labelled up close, and the
// flood depth grids of GET /api/rasters, drawn as PNG tiles with their legend).
// Settings come from the page's #map-config block; the map itself from Folium's script.
(function () {
  var config = JSON.parse(document.getElementById("map-config").textContent);
  // Folium declares the map and the zone layer as globals named after their ids.
  var map = window[config.mapName], zones = window[config.layerName];
  var lookupUrl = config.lookupUrl, reportUrl = config.reportUrl;
  var geocodeUrl = config.geocodeUrl, focus = config.focus;
  var panel = document.getElementById("report");
  var marker = null;

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }  // never innerHTML
    if (className) { node.className = className; }
    return node;
  }
  function bfeText(zone) {
    if (zone.bfe === null) { return zone.depth !== null ? "depth " + zone.depth + " " + (zone.length_unit || "") : "—"; }
    return zone.bfe + " " + (zone.length_unit || "") + " " + (zone.vertical_datum || "");
  }
  // Where a height comes from, in words (determination.depth's `source` values).
  var HEIGHT_SOURCES = {
    dem: "DEM", depth_grid: "depth grid", wse_grid: "water-surface grid",
    bfe_static: "BFE", bfe_estimated: "estimated BFE", zone_depth: "zone depth",
    wse_minus_ground: "water surface minus ground", ground_plus_depth: "ground plus depth"
  };
  function sourceText(height) {
    return height.source ? " (" + (HEIGHT_SOURCES[height.source] || height.source.replace(/_/g, " ")) + ")" : "";
  }
  function heightText(height) {
    if (!height) { return "not available"; }
    if (height.value === null) { return "not available" + (height.reason ? " — " + height.reason : ""); }
    return height.value + " " + (height.unit || "") + (height.vertical_datum ? " " + height.vertical_datum : "") + sourceText(height);
  }
  function percentLabel(value) { return value + "% annual chance"; }
  // How deep (determination.depth): ground, depth per event, a possible LOMA.
  function renderDepth(depth) {
    var box = el("div", null, "border-top pt-2 mt-2 report-depth");
    box.appendChild(el("div", "How deep (from rasters, not a survey)", "fw-semibold"));
    box.appendChild(el("div", "Ground elevation: " + heightText(depth.ground_elevation), "report-ground"));
    (depth.events || []).forEach(function (event) {
      var d = event.depth, text = percentLabel(event.annual_chance_percent) + ": depth ";
      if (d && d.value !== null) { text += d.value + " " + (d.unit || depth.unit || "") + sourceText(d); }
      else { text += "not available" + (d && d.reason ? " — " + d.reason : ""); }
      box.appendChild(el("div", text, "report-depth-event"));
      var wse = event.water_surface_elevation;
      if (wse && wse.value !== null) {
        box.appendChild(el("div", "Water surface: " + heightText(wse), "small text-body-secondary"));
      }
    });
    var loma = depth.loma_candidate;
    if (loma && loma.candidate === true) {
      box.appendChild(el("div", "Possible LOMA candidate", "fw-semibold text-success mt-1 report-loma"));
      if (loma.note) { box.appendChild(el("div", loma.note, "small text-body-secondary")); }
    }
    return box;
  }
  function render(report) {
    panel.replaceChildren();
    var close = el("button", "×", "btn-close float-end");
    close.setAttribute("aria-label", "Close");
    close.addEventListener("click", function () { panel.classList.remove("open"); });
    panel.appendChild(close);
    panel.appendChild(el("h2", report.status_label, "h6 mb-2 report-status"));
    panel.appendChild(el("div", report.query.lat.toFixed(5) + ", " + report.query.lon.toFixed(5), "small text-body-secondary mb-2"));
    report.zones.forEach(function (zone) {
      var box = el("div", null, "border-top pt-2 mt-2");
      box.appendChild(el("div", "Zone " + zone.zone + (zone.subtype ? " — " + zone.subtype : ""), "fw-semibold report-zone"));
      box.appendChild(el("div", "Base flood elevation: " + bfeText(zone)));
      box.appendChild(el("div", zone.dataset.name + (zone.effective_date ? " (effective " + zone.effective_date + ")" : ""), "small text-body-secondary"));
      panel.appendChild(box);
    });
    if (report.nearest_high_risk) {
      var n = report.nearest_high_risk;
      panel.appendChild(el("div", "Nearest high-risk zone: " + n.zone + ", " + Math.round(n.distance_m) + " m away", "mt-2"));
    } else if (!report.in_sfha && report.status !== "unmapped") {
      panel.appendChild(el("div", "No high-risk zone within " + Math.round(report.nearest_search_radius_m / 1000) + " km", "mt-2"));
    }
    if (report.determination && report.determination.depth) {
      panel.appendChild(renderDepth(report.determination.depth));
    }
    var link = el("a", "Printable report", "d-block mt-2 small");
    link.href = reportUrl + "?lon=" + report.query.lon + "&lat=" + report.query.lat;
    panel.appendChild(link);
    panel.classList.add("open");
  }
  function lookup(lat, lon, after) {
    if (marker) { marker.remove(); }
    marker = L.circleMarker([lat, lon], {radius: 6, color: "#000", weight: 2}).addTo(map);
    panel.replaceChildren(el("div", "Looking up…"));
    panel.classList.add("open");
    var url = lookupUrl + "?lon=" + lon.toFixed(6) + "&lat=" + lat.toFixed(6);
    fetch(url, {headers: {Accept: "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (report) {
        if (report.error) { panel.replaceChildren(el("div", report.message, "text-danger")); return; }
        render(report);
        if (after) { panel.appendChild(after); }
        var state = "?lon=" + lon.toFixed(6) + "&lat=" + lat.toFixed(6) + "&zoom=" + map.getZoom();
        history.replaceState(null, "", state);
      })
      .catch(function () { panel.replaceChildren(el("div", "The report could not be loaded.", "text-danger")); });
  }
  var drawing = false;  // clicks that place a parcel's corners are not lookups
  map.on("click", function (event) { if (!drawing) { lookup(event.latlng.lat, event.latlng.lng); } });
  map.on("draw:drawstart", function () { drawing = true; });
  map.on("draw:drawstop", function () { setTimeout(function () { drawing = false; }, 0); });
  function percent(share) { return (share * 100).toFixed(share < 0.01 ? 2 : 1) + "%"; }
  function renderExposure(exposure) {
    panel.replaceChildren();
    panel.appendChild(el("h2", "Parcel: " + Math.round(exposure.area_m2).toLocaleString() + " m²", "h6 mb-2 exposure-title"));
    panel.appendChild(el("div", "In the Special Flood Hazard Area: " + percent(exposure.sfha_share), "fw-semibold exposure-sfha"));
    exposure.by_status.forEach(function (item) {
      panel.appendChild(el("div", item.label + ": " + Math.round(item.area_m2).toLocaleString() + " m² (" + percent(item.share) + ")", "small"));
    });
    var seen = {};
    exposure.by_zone.forEach(function (zone) {
      var key = zone.zone + "|" + (zone.subtype || "") + "|" + zone.bfe;
      if (seen[key]) { return; }
      seen[key] = true;
      panel.appendChild(el("div", "Zone " + zone.zone + (zone.subtype ? " — " + zone.subtype : "") +
        (zone.bfe !== null ? ", BFE " + zone.bfe + " " + (zone.length_unit || "") : "") + ": " + percent(zone.share), "small border-top mt-1 pt-1"));
    });
    panel.classList.add("open");
  }
  map.on("draw:created", function (event) {
    var geometry = event.layer.toGeoJSON().geometry;
    panel.replaceChildren(el("div", "Measuring the parcel…"));
    panel.classList.add("open");
    fetch(config.lookupAreaUrl, {
      method: "POST", headers: {"Content-Type": "application/json", Accept: "application/json"},
      body: JSON.stringify(geometry)
    }).then(function (r) { return r.json(); })
      .then(function (exposure) {
        if (exposure.error) { panel.replaceChildren(el("div", exposure.message, "text-danger")); return; }
        renderExposure(exposure);
      })
      .catch(function () { panel.replaceChildren(el("div", "The parcel could not be measured.", "text-danger")); });
  });
  document.querySelectorAll(".status-toggle").forEach(function (box) {
    box.addEventListener("change", function () {
      floodManagerHidden[box.value] = !box.checked;
      zones.redraw();
    });
  });
  document.querySelectorAll(".dataset-toggle").forEach(function (box) {
    box.addEventListener("change", function () {
      floodManagerHiddenDatasets[box.value] = !box.checked;
      zones.redraw();
      updateBfeLabels();
      updateDepthLayers();
    });
  });
  // FIRM panels and BFE lines are layers of the same tiles (from zoom 10 and 13), drawn once
  // their box is ticked. VectorGrid draws no text: at street zooms the BFE lines in view are
  // read from the bfe_lines collection (GeoJSON) and labelled with their elevation.
  var BFE_LABEL_ZOOM = 15, BFE_LABEL_LIMIT = 200;
  var bfeLabels = L.layerGroup().addTo(map), bfeRequest = null;
  function halfway(line) {
    // The [lat, lon] halfway along a line of [lon, lat] vertices (in degrees: near enough).
    var lengths = [], total = 0, i;
    for (i = 1; i < line.length; i++) {
      lengths.push(Math.hypot(line[i][0] - line[i - 1][0], line[i][1] - line[i - 1][1]));
      total += lengths[i - 1];
    }
    var left = total / 2;
    for (i = 1; i < line.length; i++) {
      if (left <= lengths[i - 1]) {
        var t = lengths[i - 1] ? left / lengths[i - 1] : 0;
        return [line[i - 1][1] + t * (line[i][1] - line[i - 1][1]),
                line[i - 1][0] + t * (line[i][0] - line[i - 1][0])];
      }
      left -= lengths[i - 1];
    }
    return [line[0][1], line[0][0]];
  }
  function clamp(value, limit) { return Math.max(-limit, Math.min(limit, value)).toFixed(6); }
  function updateBfeLabels() {
    if (bfeRequest) { bfeRequest.abort(); bfeRequest = null; }
    bfeLabels.clearLayers();
    if (!config.bfeLinesUrl || !floodManagerShown.bfe_lines || map.getZoom() < BFE_LABEL_ZOOM) { return; }
    var view = map.getBounds();
    var bbox = [clamp(view.getWest(), 180), clamp(view.getSouth(), 90),
                clamp(view.getEast(), 180), clamp(view.getNorth(), 90)].join(",");
    var request = bfeRequest = new AbortController();
    fetch(config.bfeLinesUrl + "?limit=" + BFE_LABEL_LIMIT + "&bbox=" + bbox,
          {headers: {Accept: "application/geo+json"}, signal: request.signal})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (page) {
        if (request !== bfeRequest) { return; }  // a newer view asked since
        var placed = {};  // versions of a map repeat their lines: one label each
        page.features.forEach(function (feature) {
          var p = feature.properties, lines = feature.geometry && feature.geometry.coordinates;
          if (p.elev === null || floodManagerHiddenDatasets[p.dataset_id] || !lines || !lines.length) { return; }
          var at = halfway(lines[0]), key = at[0].toFixed(5) + "," + at[1].toFixed(5) + "," + p.elev;
          if (placed[key]) { return; }
          placed[key] = true;
          var label = el("span", String(p.elev), "bfe-label-text");
          label.title = "BFE " + p.elev + " " + (p.len_unit || "") + " " + (p.v_datum || "");
          L.marker(at, {
            icon: L.divIcon({className: "bfe-label", html: label, iconSize: null}),
            interactive: false, keyboard: false
          }).addTo(bfeLabels);
        });
      })
      .catch(function () {});  // aborted, or no answer: the lines are drawn without labels
  }
  document.querySelectorAll(".layer-toggle").forEach(function (box) {
    box.addEventListener("change", function () {
      floodManagerShown[box.value] = box.checked;
      zones.redraw();
      updateBfeLabels();
    });
  });
  map.on("moveend", updateBfeLabels);
  // Flood depth grids: one tile layer per depth grid in scope (GET /api/rasters), in a pane
  // of their own above the zones' fill and below markers and labels, grouped in the legend by
  // event (one box each; the 1% event is shown at first) with the depth classes' colours.
  // With no depth grid in scope the legend shows nothing of them.
  var DEPTH_PANE = "floodDepthPane", DEPTH_OPACITY = 0.7;
  var depthGroups = [];  // {event, box, layers: [{raster, layer}]}
  function updateDepthLayers() {
    depthGroups.forEach(function (group) {
      group.layers.forEach(function (item) {
        var shown = group.box.checked && !floodManagerHiddenDatasets[item.raster.dataset_id];
        if (shown && !map.hasLayer(item.layer)) { item.layer.addTo(map); }
        else if (!shown && map.hasLayer(item.layer)) { map.removeLayer(item.layer); }
      });
    });
  }
  function showDepthLegend(answer) {
    var grids = (answer.rasters || []).filter(function (r) { return r.kind === "depth" && r.tiles; });
    var holder = document.getElementById("depth-layers");
    if (!grids.length || !holder) { return; }
    if (!map.getPane(DEPTH_PANE)) {
      var pane = map.createPane(DEPTH_PANE);
      pane.style.zIndex = 350;  // tiles 200 (basemap, zones), overlays 400 (the click's marker)
      pane.style.pointerEvents = "none";
    }
    var zooms = answer.tiles || {};
    var byEvent = {};
    grids.forEach(function (raster) {
      var key = String(raster.event_percent);
      if (!byEvent[key]) { byEvent[key] = {event: raster.event_percent, layers: []}; depthGroups.push(byEvent[key]); }
      var b = raster.bbox;  // [west, south, east, north]
      var layer = L.tileLayer(raster.tiles, {
        pane: DEPTH_PANE, opacity: DEPTH_OPACITY, bounds: L.latLngBounds([b[1], b[0]], [b[3], b[2]]),
        minZoom: zooms.minzoom, maxNativeZoom: zooms.maxzoom, maxZoom: map.getMaxZoom(),
        className: "flood-depth-tiles"
      });
      byEvent[key].layers.push({raster: raster, layer: layer});
    });
    // 1% first, then the others from the most frequent to the rarest.
    depthGroups.sort(function (a, b) { return (b.event === 1) - (a.event === 1) || b.event - a.event; });
    depthGroups.forEach(function (group, index) {
      var label = el("label", null, "depth-layer");
      var box = el("input", null, "layer-toggle depth-toggle");
      box.type = "checkbox";
      box.value = "flood_depth_" + group.event;
      box.autocomplete = "off";
      box.checked = index === 0;
      box.addEventListener("change", updateDepthLayers);
      group.box = box;
      label.appendChild(box);
      label.appendChild(el("span", null, "swatch swatch-depth"));
      label.appendChild(document.createTextNode("Flood depth (" + percentLabel(group.event) + ")"));
      holder.appendChild(label);
    });
    var classes = el("div", null, "depth-classes");
    classes.setAttribute("aria-label", "Flood depth classes");
    (answer.depth_legend || []).forEach(function (item) {
      var row = el("div", null, "depth-class");
      var swatch = el("span", null, "swatch");
      swatch.style.background = item.colour;
      row.appendChild(swatch);
      row.appendChild(document.createTextNode(item.label));
      classes.appendChild(row);
    });
    var far = el("div", "Zoom in to see the depths.", "text-body-secondary depth-zoom-in");
    classes.appendChild(far);
    holder.appendChild(classes);
    holder.hidden = false;
    function updateZoomNote() { far.hidden = !(zooms.minzoom && map.getZoom() < zooms.minzoom); }
    map.on("zoomend", updateZoomNote);
    updateZoomNote();
    updateDepthLayers();
  }
  if (config.rastersUrl) {
    fetch(config.rastersUrl, {headers: {Accept: "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(showDepthLegend)
      .catch(function () {});  // no answer: the map is drawn without depth grids
  }
  document.getElementById("fullscreen").addEventListener("click", function () {
    var frame = document.querySelector(".map-frame");
    if (document.fullscreenElement) { document.exitFullscreen(); }
    else if (frame.requestFullscreen) { frame.requestFullscreen().then(function () { map.invalidateSize(); }); }
  });
  function goTo(lat, lon, bbox, after) {
    if (bbox) { map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]], {maxZoom: 17}); }
    else { map.setView([lat, lon], Math.max(map.getZoom(), 15)); }
    lookup(lat, lon, after);
  }
  function showMessage(text) {
    panel.replaceChildren(el("div", text, "text-danger"));
    panel.classList.add("open");
  }
  // Places from the geocoder: go to the best one, offer the others as buttons.
  function showPlaces(text, places) {
    if (!places.length) { showMessage("No place found for “" + text + "”."); return; }
    var others = null;
    if (places.length > 1) {
      others = el("div", "", "mt-2 small place-choices");
      others.appendChild(el("div", "Other places for “" + text + "”:", "text-body-secondary"));
      places.slice(1).forEach(function (place) {
        var button = el("button", place.label, "btn btn-link btn-sm p-0 d-block text-start");
        button.type = "button";
        button.addEventListener("click", function () { goTo(place.lat, place.lon, place.bbox, others); });
        others.appendChild(button);
      });
    }
    goTo(places[0].lat, places[0].lon, places[0].bbox, others);
  }
  document.getElementById("search").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = document.getElementById("search-text").value.trim();
    var parts = text.split(/[\s,;]+/).filter(Boolean).map(Number);
    if (parts.length === 2 && !parts.some(isNaN)) {
      if (Math.abs(parts[0]) > 90 || Math.abs(parts[1]) > 180) {
        showMessage("Latitude must be within ±90 and longitude within ±180 (type lat, lon).");
        return;
      }
      goTo(parts[0], parts[1], null);
      return;
    }
    if (!geocodeUrl) {
      showMessage("Type a latitude and a longitude, e.g. 40.0968, -74.0697 (address search is not configured on this server).");
      return;
    }
    if (!text) { return; }
    fetch(geocodeUrl + "?q=" + encodeURIComponent(text), {headers: {Accept: "application/json"}})
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error(body.message || ("HTTP " + response.status)); }
          return body;
        });
      })
      .then(function (body) { showPlaces(text, body.places); })
      .catch(function (error) { showMessage("Address search failed: " + error.message); });
  });
  document.getElementById("locate").addEventListener("click", function () {
    map.locate({setView: true, maxZoom: 16});
  });
  map.on("locationfound", function (event) { lookup(event.latlng.lat, event.latlng.lng); });
  if (focus) {
    lookup(focus.lat, focus.lon);  // the map already opens there
  }
})();
