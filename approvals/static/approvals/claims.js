/* Leaving a review page releases its claim (best effort: expiry covers a lost beacon).
 *
 * The page marks its claim with [data-claim-release]; on pagehide (a link
 * followed, the tab closed, a reload) a beacon POSTs there with the CSRF
 * token in the body, which sendBeacon cannot put in a header.
 */
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  window.addEventListener("pagehide", function () {
    const marker = document.querySelector("[data-claim-release]");
    if (!marker || !navigator.sendBeacon) return;
    const body = new FormData();
    body.append("csrfmiddlewaretoken", csrfToken());
    navigator.sendBeacon(marker.getAttribute("data-claim-release"), body);
  });
})();
