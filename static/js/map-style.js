// Tile styles by risk status for the flood map's vector tiles; the legend's checkboxes hide
// statuses and datasets, and show the FIRM panels and BFE lines (hidden at first). Loaded
// before Folium's script, whose tile layer calls these functions for every feature it draws.
var floodManagerColours = JSON.parse(document.getElementById("map-config").textContent).colours;
var floodManagerHidden = {}, floodManagerHiddenDatasets = {};
var floodManagerShown = {panels: false, bfe_lines: false};
function floodManagerStyle(properties) {
  if (floodManagerHidden[properties.status] || floodManagerHiddenDatasets[properties.dataset_id]) { return []; }
  var colour = floodManagerColours[properties.status] || "#999999";
  return {fill: true, fillColor: colour, fillOpacity: 0.45, color: colour, weight: 1};
}
function floodManagerPanelStyle(properties) {
  if (!floodManagerShown.panels || floodManagerHiddenDatasets[properties.dataset_id]) { return []; }
  return {fill: false, color: "#333333", weight: 1.5, opacity: 0.8, dashArray: "6 4"};
}
function floodManagerBfeStyle(properties) {
  if (!floodManagerShown.bfe_lines || floodManagerHiddenDatasets[properties.dataset_id]) { return []; }
  return {color: "#0b3d91", weight: 2, opacity: 0.9};
}
