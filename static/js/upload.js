// The upload form's drop zone: a dropped file goes into the form's file input.
(function () {
  var zone = document.getElementById("drop-zone"), input = document.getElementById("file-input"),
      label = document.getElementById("drop-label");
  function show() { if (input.files.length) { label.textContent = input.files[0].name; } }
  input.addEventListener("change", show);
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (event) { input.files = event.dataTransfer.files; show(); });
  // The fields of one kind of file only: zones' (CRS, encoding, layer, field mapping) or a
  // raster's (event, vertical datum, unit); the event only for depth and water-surface grids.
  var kind = document.getElementById("kind");
  var rasterFields = ["event", "vertical_datum", "unit"], zoneFields = ["source_crs", "encoding", "layer", "field_map", "repair"];
  function holder(name) { var field = document.getElementById(name); return field && field.closest(".mb-3, .form-check"); }
  function showFields() {
    var raster = kind.value !== "zones";
    zoneFields.forEach(function (name) { var box = holder(name); if (box) { box.hidden = raster; } });
    rasterFields.forEach(function (name) {
      var box = holder(name);
      if (box) { box.hidden = !raster || (name === "event" && kind.value === "dem"); }
    });
  }
  if (kind) { kind.addEventListener("change", showFields); showFields(); }
})();
