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
})();
