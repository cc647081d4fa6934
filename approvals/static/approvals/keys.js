/* Keyboard flow of the reviewer pages, and how htmx requests fail in view.
 *
 * One listener on document that looks up its targets at each key press, so
 * the keys keep working after htmx swaps in the next item or more rows.
 *   a approve · r reject (focuses Notes, Ctrl/Cmd+Enter sends) · n notes
 *   j / k next / previous · / search (Esc or Enter back to the list) · ? help
 *   Esc leaves Notes
 */
(function () {
  "use strict";

  // The decision being prepared: chosen by pressing r (reject) or n
  // (approve), shown on the form (data-prepared) and sent by Ctrl/Cmd+Enter,
  // so a reason typed after clicking into Notes is never sent by accident.
  // The server names it again when it refuses a decision (a 422), so the
  // mode survives "A reason is required".
  let armed = null;
  // Notes typed while rejecting are a rejection's reason: the keys never turn
  // them into an approval's note (the Approve button still can, on purpose).
  let notesForRejection = false;
  // Enter in the search box selects the first match once the results arrive.
  let selectFirstMatchUntil = 0;

  const HINTS = {
    none: "Optional to approve, required to reject.",
    approved: "Approving: Ctrl+Enter (⌘+Enter) approves with these notes · Esc leaves Notes.",
    rejected: "Rejecting: write what should change, then Ctrl+Enter (⌘+Enter) rejects · Esc leaves Notes.",
    unarmed: "Press Esc, then a to approve or r to reject (or use the buttons).",
    kept: "These notes were written to reject: press r, then Ctrl+Enter to reject, or clear Notes to approve.",
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
    if (!hint) return;
    hint.textContent = HINTS[key];
    hint.dataset.tone = key === "unarmed" || key === "kept" ? "warn" : "";
  }

  function arm(decision) {
    armed = decision;
    const form = decisionForm();
    if (form) form.dataset.prepared = decision || "";
    showHint(decision || "none");
  }

  // Approving by key with a rejection's reason in Notes is refused, and the page says why.
  function approveByKey() {
    const notes = notesField();
    if (notesForRejection && notes && notes.value.trim() !== "") {
      arm("rejected");
      showHint("kept");
      return;
    }
    submit("approved");
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

  function queueResults() {
    return document.getElementById("queue-results");
  }

  function focusFirstMatch() {
    const first = document.querySelector("tr[data-queue-row] td.name a");
    if (first) first.focus();
    else if (queueResults()) queueResults().focus();
  }

  // Esc leaves the search box for the list (j then picks the first row);
  // Enter searches (the form submits as usual) and selects the first match.
  function leaveSearch(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      const results = queueResults();
      if (results) results.focus();
      else event.target.blur();
      return true;
    }
    if (event.key === "Enter" && !event.ctrlKey && !event.metaKey && !event.altKey && !event.isComposing) {
      selectFirstMatchUntil = Date.now() + 2000;
      return true;
    }
    return false;
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
        if (armed === "approved") approveByKey();
        else if (armed) submit(armed);
        else showHint("unarmed");
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        // Leaving Notes keeps a rejection being written (and its reason) in view.
        if (!(armed === "rejected" && notesForRejection)) arm(null);
        target.blur();
        return;
      }
    }

    if (target instanceof HTMLInputElement && target.id === "id_q" && leaveSearch(event)) return;

    if (isTyping(target) || event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const dialog = document.getElementById("keys-help");
    if (dialog && dialog.open && event.key !== "?") return;

    switch (event.key) {
      case "a":
        if (!decisionForm()) return;
        approveByKey();
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

  document.addEventListener("input", function (event) {
    const target = event.target;
    if (!(target instanceof HTMLTextAreaElement) || target.name !== "notes" || !target.closest("[data-decision-form]")) return;
    if (target.value.trim() === "") notesForRejection = false;
    else if (armed === "rejected") notesForRejection = true;
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

  // A page that answered a refused decision without htmx names the decision being prepared too.
  (function resumePreparedDecision() {
    const form = decisionForm();
    const notes = notesField();
    if (!form || !form.dataset.prepared) return;
    notesForRejection = form.dataset.prepared === "rejected" && notes !== null && notes.value.trim() !== "";
    arm(form.dataset.prepared);
  })();

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
    if (Date.now() < selectFirstMatchUntil && queueResults()) focusFirstMatch();
    const panel = document.getElementById("review");
    if (!panel || event.target !== panel) return;
    // A refused decision comes back naming the decision it was (data-prepared): keep preparing it.
    const form = decisionForm();
    const notes = notesField();
    const prepared = form && form.dataset.prepared ? form.dataset.prepared : null;
    notesForRejection = prepared === "rejected" && notes !== null && notes.value.trim() !== "";
    arm(prepared);
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
