// Tile styles by risk status for the flood map's vector tiles; the legend's checkboxes hide
// statuses and datasets. Loaded before Folium's script, whose zone layer calls
// floodManagerStyle for every feature it draws.
var floodManagerColours = JSON.parse(document.getElementById("map-config").textContent).colours;
var floodManagerHidden = {}, floodManagerHiddenDatasets = {};
function floodManagerStyle(properties) {
  if (floodManagerHidden[properties.status] || floodManagerHiddenDatasets[properties.dataset_id]) { return []; }
  var colour = floodManagerColours[properties.status] || "#999999";
  return {fill: true, fillColor: colour, fillOpacity: 0.45, color: colour, weight: 1};
}
