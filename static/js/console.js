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
  // Confirmations of destructive actions arrive as a <dialog> (components/confirm_page.html):
  // open it as a modal, which keeps the focus inside it and closes on Escape.
  document.addEventListener("htmx:load", function (evt) {
    var root = evt.detail.elt;
    if (!root || !root.querySelectorAll) return;
    var found = root.matches("dialog.confirm-dialog") ? [root] : root.querySelectorAll("dialog.confirm-dialog");
    Array.prototype.forEach.call(found, function (dialog) {
      // The row menu that opened it has done its job.
      document.querySelectorAll("details.row-menu[open]").forEach(function (d) { d.open = false; });
      if (!dialog.open) dialog.showModal();
    });
  });
  // Once the confirmed action has answered, the dialog goes; closed, it leaves the page.
  document.addEventListener("htmx:afterRequest", function (evt) {
    var dialog = evt.detail.elt && evt.detail.elt.closest && evt.detail.elt.closest("dialog.confirm-dialog");
    if (dialog && dialog.open) dialog.close();
  });
  document.addEventListener("close", function (evt) {
    if (evt.target.matches && evt.target.matches("dialog.confirm-dialog")) evt.target.remove();
  }, true);
  // A row menu closes when another opens, or on a click elsewhere.
  document.addEventListener("click", function (evt) {
    document.querySelectorAll("details.row-menu[open]").forEach(function (d) {
      if (!d.contains(evt.target)) d.open = false;
    });
  });
  // htmx drops 4xx/5xx bodies; say something rather than nothing.
  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr ? evt.detail.xhr.status : 0;
    showToast(status === 403 ? "Not allowed." : "Something went wrong (" + status + ").", "error");
  });
})();
