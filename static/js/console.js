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
  // The features matrix: a cell of the groups' or members' table posts itself alone when
  // its select changes, and its answer replaces the cell; without script, the table's form
  // posts every changed cell at once. The server reads the cell from HX-Trigger-Name.
  document.addEventListener("change", function (evt) {
    var sel = evt.target;
    if (!window.htmx || sel.tagName !== "SELECT" || !sel.form || !sel.form.classList.contains("matrix-form")) return;
    var values = {};
    values[sel.name] = sel.value;
    htmx.ajax("POST", sel.form.action, {
      target: sel.closest("td"),
      swap: "outerHTML",
      values: values,
      headers: { "HX-Trigger-Name": sel.name },
    });
  });
  // A member's decision mark is a link to its decision chain; with script it is a button
  // that opens the chain in a popover inside its cell, loaded the first time.
  function upgradeMarks(root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll("a.why-mark").forEach(function (mark) {
      mark.setAttribute("role", "button");
      mark.setAttribute("aria-haspopup", "dialog");
    });
  }
  document.addEventListener("htmx:load", function (evt) { upgradeMarks(evt.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { upgradeMarks(document); });
  var popovers = 0;
  function openWhy(mark) {
    var cell = mark.parentElement;
    var pop = cell.querySelector(".why-pop");
    if (!pop) {
      popovers += 1;
      pop = document.createElement("div");
      pop.id = "why-pop-" + popovers;
      pop.className = "why-pop";
      pop.setAttribute("popover", "");
      pop.setAttribute("role", "dialog");
      pop.setAttribute("aria-label", "Why this decision");
      var body = document.createElement("div");
      body.className = "why-body";
      var link = document.createElement("a");
      link.href = mark.href;
      link.textContent = mark.title || "Why this decision";
      body.appendChild(link);
      var close = document.createElement("button");
      close.type = "button";
      close.className = "btn btn-sm";
      close.textContent = "Close";
      close.setAttribute("popovertarget", pop.id);
      close.setAttribute("popovertargetaction", "hide");
      pop.appendChild(body);
      pop.appendChild(close);
      cell.appendChild(pop);
      htmx.ajax("GET", mark.href, { target: body, swap: "innerHTML" });
    }
    pop.showPopover();
  }
  document.addEventListener("click", function (evt) {
    var mark = evt.target.closest ? evt.target.closest("a.why-mark") : null;
    if (!mark || !window.htmx || !HTMLElement.prototype.showPopover) return;
    if (evt.button !== 0 || evt.ctrlKey || evt.metaKey || evt.shiftKey || evt.altKey) return;
    evt.preventDefault();
    openWhy(mark);
  });
  document.addEventListener("keydown", function (evt) {
    // A button opens on Space too.
    if (evt.key !== " " || !evt.target.matches || !evt.target.matches("a.why-mark[role=button]")) return;
    evt.preventDefault();
    openWhy(evt.target);
  });
  // htmx drops 4xx/5xx bodies; say something rather than nothing.
  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr ? evt.detail.xhr.status : 0;
    showToast(status === 403 ? "Not allowed." : "Something went wrong (" + status + ").", "error");
  });
})();
