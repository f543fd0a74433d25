// Behaviour shared by every page, declared in markup instead of inline handlers (which the
// Content-Security-Policy refuses): <form data-confirm="question"> asks before submitting,
// <button data-print> prints the page.
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) { event.preventDefault(); }
});
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-print]");
  if (button) { window.print(); }
});
