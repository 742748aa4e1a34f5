// Small behaviours of the console shell, loaded with the page's CSP nonce.
(function () {
  "use strict";
  function showToast(text, kind) {
    var box = document.getElementById("toasts");
    if (!box || !text) return;
    var el = document.createElement("div");
    el.className = "toast" + (kind ? " toast-" + kind : "");
    el.textContent = text;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 5000);
  }
  // Servers send HX-Trigger: {"toast": {"message": "...", "kind": "ok"}}
  document.addEventListener("toast", function (evt) {
    var d = evt.detail || {};
    showToast(d.message || d.value, d.kind);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(function (el) {
      setTimeout(function () { el.remove(); }, 5000);
    });
  });
  // htmx drops 4xx/5xx bodies; say something rather than nothing.
  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr ? evt.detail.xhr.status : 0;
    showToast(status === 403 ? "Not allowed." : "Something went wrong (" + status + ").", "error");
  });
})();
