/* Keyboard flow of the reviewer pages, and how htmx requests fail in view.
 *
 * One listener on document that looks up its targets at each key press, so
 * the keys keep working after htmx swaps in the next item or more rows.
 *   a approve · r reject (focuses Notes, Ctrl/Cmd+Enter sends) · n notes
 *   j / k next / previous · / search · ? help · Esc leaves Notes
 */
(function () {
  "use strict";

  // What Ctrl/Cmd+Enter in Notes sends: chosen by pressing r (reject) or n
  // (approve) first, so a reason typed after clicking into Notes is never
  // sent as an approval by accident.
  let armed = null;

  const HINTS = {
    none: "Optional to approve, required to reject.",
    approved: "Ctrl+Enter (⌘+Enter) approves with these notes · Esc leaves.",
    rejected: "Write what should change, then Ctrl+Enter (⌘+Enter) rejects · Esc cancels.",
    unarmed: "Press Esc, then a to approve or r to reject (or use the buttons).",
  };

  function isTyping(target) {
    return target instanceof Element && target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function decisionForm() {
    return document.querySelector("[data-decision-form]");
  }

  function notesField() {
    const form = decisionForm();
    return form ? form.querySelector("textarea[name=notes]") : null;
  }

  function showHint(key) {
    const hint = document.querySelector("[data-notes-hint]");
    if (hint) hint.textContent = HINTS[key];
  }

  function arm(decision) {
    armed = decision;
    showHint(decision || "none");
  }

  function submit(decision) {
    const form = decisionForm();
    if (!form || form.classList.contains("htmx-request") || form.dataset.sent === "yes") return;
    const button = form.querySelector('button[name="decision"][value="' + decision + '"]');
    if (!button || button.disabled) return;
    // A click (not form.submit()) so the button's name and value are sent, with or without htmx.
    button.click();
  }

  function focusNotes(decision) {
    const notes = notesField();
    if (!notes) return;
    arm(decision);
    notes.focus();
    notes.setSelectionRange(notes.value.length, notes.value.length);
  }

  function follow(rel) {
    const link = document.querySelector('[data-nav="' + rel + '"]');
    if (link) link.click();
  }

  function moveInQueue(step) {
    // Rows someone else is reviewing are passed over, as "Next" passes over them.
    const links = Array.from(document.querySelectorAll("tr[data-queue-row]:not([data-claimed]) td.name a"));
    if (!links.length) return false;
    const current = links.indexOf(document.activeElement);
    const next = current === -1 ? 0 : Math.min(Math.max(current + step, 0), links.length - 1);
    links[next].focus();
    links[next].closest("tr").scrollIntoView({ block: "nearest" });
    return true;
  }

  function toggleHelp() {
    const dialog = document.getElementById("keys-help");
    if (!dialog) return;
    if (dialog.open) dialog.close();
    else dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) return;
    const target = event.target;

    if (target instanceof HTMLTextAreaElement && target.name === "notes" && target.closest("[data-decision-form]")) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (armed) submit(armed);
        else showHint("unarmed");
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        arm(null);
        target.blur();
        return;
      }
    }

    if (isTyping(target) || event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const dialog = document.getElementById("keys-help");
    if (dialog && dialog.open && event.key !== "?") return;

    switch (event.key) {
      case "a":
        if (!decisionForm()) return;
        submit("approved");
        break;
      case "r":
        if (!decisionForm()) return;
        focusNotes("rejected");
        break;
      case "n":
        if (!decisionForm()) return;
        focusNotes("approved");
        break;
      case "j":
        if (!moveInQueue(1)) follow("next");
        break;
      case "k":
        if (!moveInQueue(-1)) follow("previous");
        break;
      case "/": {
        const search = document.getElementById("id_q");
        if (!search) return;
        search.focus();
        break;
      }
      case "?":
        toggleHelp();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    if (event.target instanceof Element && event.target.closest("[data-keys-help]")) toggleHelp();
  });

  // Without htmx the form posts normally; mark it so a second key press cannot send it twice.
  document.addEventListener("submit", function (event) {
    if (event.target instanceof HTMLFormElement && event.target.matches("[data-decision-form]")) {
      event.target.dataset.sent = "yes";
    }
  });

  // Back/forward may restore a page whose form was marked sent.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("[data-decision-form]").forEach(function (form) {
      delete form.dataset.sent;
    });
  });

  // --- htmx -------------------------------------------------------------------

  document.addEventListener("htmx:beforeRequest", function (event) {
    const form = event.target instanceof Element ? event.target.closest("[data-decision-form]") : null;
    if (form) form.dataset.sent = "yes";
  });

  // htmx gives focus back to an element with the same id in the new content:
  // that would put the next item's Notes in focus and turn the next key press
  // into text. Focus the new item's heading instead (or the field the server
  // marked autofocus, when a decision was refused). Only when the whole panel
  // was swapped: a live banner refreshed inside it must not move the focus.
  document.addEventListener("htmx:afterSwap", function (event) {
    const panel = document.getElementById("review");
    if (!panel || event.target !== panel) return;
    arm(null);
    const target = panel.querySelector("[autofocus]") || panel.querySelector("h1");
    if (target) target.focus({ preventScroll: true });
    window.scrollTo({ top: 0 });
  });

  // A logged-out session answers with the login page: go there instead of swapping it into a panel.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const url = event.detail.xhr && event.detail.xhr.responseURL;
    if (url && new URL(url).pathname.startsWith("/login/")) {
      event.detail.shouldSwap = false;
      window.location.assign(url);
    }
  });

  function showError(text) {
    const messages = document.getElementById("messages");
    if (!messages) return;
    const line = document.createElement("p");
    line.className = "message message-error";
    line.textContent = text;
    messages.replaceChildren(line);
  }

  document.addEventListener("htmx:responseError", function (event) {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    const form = event.target instanceof Element ? event.target.closest("[data-decision-form]") : null;
    if (form) delete form.dataset.sent;
    showError(
      status === 404
        ? "That item no longer exists. Reload the page to continue."
        : status === 403
          ? "You are not allowed to do that (or the page expired). Reload the page."
          : "The server could not do that (" + status + "). Reload the page and try again.",
    );
  });

  document.addEventListener("htmx:sendError", function (event) {
    const form = event.target instanceof Element ? event.target.closest("[data-decision-form]") : null;
    if (form) delete form.dataset.sent;
    showError("The server could not be reached. Check the connection and try again.");
  });
})();
