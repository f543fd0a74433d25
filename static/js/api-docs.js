// The API reference: Swagger UI (served from /vendor, no CDN) reading our OpenAPI document.
(function () {
  var root = document.getElementById("swagger-ui");
  if (!root || !window.SwaggerUIBundle) { return; }
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    // The default validator is an online service: the reference must work offline.
    validatorUrl: null,
    deepLinking: true,
  });
})();
