// The small map of OGC API items pages: the page's features, drawn with Leaflet.
(function () {
  var data = JSON.parse(document.getElementById("items-map-data").textContent);
  var map = L.map("items-map");
  var layer = L.geoJSON(data, {style: {color: "#c6262e", weight: 1, fillOpacity: 0.3}}).addTo(map);
  var bounds = layer.getBounds();
  if (bounds.isValid()) { map.fitBounds(bounds); } else { map.setView([39.5, -98.35], 4); }
})();
