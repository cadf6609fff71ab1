// modeldesk UI behaviour that htmx does not cover: modal dialogs and the status region.
// Loaded with `defer`, after htmx; no inline script is needed anywhere (see the CSP).
(function () {
  "use strict";

  let opener = null;

  function firstField(dialog) {
    return (
      dialog.querySelector("[aria-invalid='true']") ||
      dialog.querySelector("[autofocus]") ||
      dialog.querySelector("input:not([type=hidden]):not([readonly]), select, textarea, button")
    );
  }

  function openDialog(dialog) {
    if (!dialog) return;
    if (!dialog.open) {
      opener = document.activeElement;
      dialog.showModal();
    }
    const field = firstField(dialog);
    if (field) field.focus();
  }

  function closeDialogs() {
    document.querySelectorAll("dialog[open]").forEach((dialog) => dialog.close());
  }

  function showStatus(message, kind) {
    const region = document.getElementById("status");
    if (!region) return;
    const flash = document.createElement("p");
    flash.className = "flash flash-" + kind;
    const text = document.createElement("span");
    text.className = "flash-text";
    text.textContent = message;
    const dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "flash-dismiss";
    dismiss.setAttribute("data-dismiss", "");
    dismiss.setAttribute("aria-label", "Dismiss message");
    dismiss.textContent = "×";
    flash.append(text, dismiss);
    region.replaceChildren(flash);
  }

  // Success messages fade after a while; warnings and errors stay until dismissed.
  function expireSuccess() {
    document.querySelectorAll("#status .flash-success:not([data-expiring])").forEach((flash) => {
      flash.setAttribute("data-expiring", "");
      setTimeout(() => flash.remove(), 8000);
    });
  }

  document.addEventListener("click", (event) => {
    const target = event.target;
    const opening = target.closest("[data-open-dialog]");
    if (opening) {
      openDialog(document.getElementById(opening.getAttribute("data-open-dialog")));
      return;
    }
    if (target.closest("[data-close-dialog]")) {
      target.closest("dialog").close();
      return;
    }
    if (target.closest("[data-dismiss]")) {
      target.closest(".flash").remove();
      return;
    }
    // A click on the backdrop lands on the <dialog> itself; its content has its own box.
    if (target.tagName === "DIALOG") target.close();
  });

  // `close` does not bubble; capture it to give focus back to whatever opened the dialog.
  document.addEventListener(
    "close",
    (event) => {
      if (event.target.tagName === "DIALOG" && opener && document.contains(opener)) opener.focus();
      opener = null;
    },
    true,
  );

  // The server asks for these with HX-Trigger headers.
  document.addEventListener("openDialog", (event) => openDialog(document.getElementById(event.detail.id)));
  document.addEventListener("closeDialogs", closeDialogs);

  document.addEventListener("htmx:afterSettle", (event) => {
    const open = document.querySelector("dialog[open]");
    const settled = event.target;
    // Only the answer that brought the errors moves focus: a later load inside the
    // dialog (the reference picker) must not pull it from a field being typed in.
    const invalid =
      open && settled instanceof Element && open.contains(settled) &&
      settled.querySelector("[aria-invalid='true']");
    if (invalid) invalid.focus();
    expireSuccess();
  });

  // 4xx answers are rendered by the server; these are the failures it could not describe.
  document.addEventListener("htmx:responseError", (event) => {
    const status = event.detail.xhr.status;
    showStatus("The server could not complete this (HTTP " + status + "). Check the server log and try again.", "error");
  });
  document.addEventListener("htmx:sendError", () => {
    showStatus("Could not reach the server. Check that modeldesk is running, then try again.", "error");
  });

  // Live views ([data-poll-visible]) poll only while the tab is visible, and
  // catch up at once ("mdk-visible") when it becomes visible again.
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (document.hidden && event.detail.elt.closest("[data-poll-visible]")) event.preventDefault();
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) document.dispatchEvent(new Event("mdk-visible"));
  });

  // Countdowns ([data-countdown] seconds) tick between the server's refreshes.
  setInterval(() => {
    document.querySelectorAll("[data-countdown]").forEach((element) => {
      const left = Math.max(0, Number(element.getAttribute("data-countdown")) - 1);
      element.setAttribute("data-countdown", String(left));
      element.textContent = String(left);
    });
  }, 1000);
})();
