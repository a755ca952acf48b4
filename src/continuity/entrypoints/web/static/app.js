// Progressive enhancement only: every page works without it. No inline scripts (CSP).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) { return; }  // refused before sending (the expiry check below)
      if (form.dataset.sent) { event.preventDefault(); return; }  // one order, however often Enter is pressed
      form.dataset.sent = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-busy", "true"); });
    });
  });
});

// Order entry: once a complete card number is typed (Luhn-valid, 15 or 16 digits), the cursor moves to the
// expiry field, so that the agent types number, expiry, Enter without reaching for Tab.
document.addEventListener("DOMContentLoaded", function () {
  var number = document.getElementById("card_number");
  var expiry = document.getElementById("expiry");
  if (!number || !expiry) { return; }
  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = parseInt(digits.charAt(digits.length - 1 - i), 10);
      if (i % 2 === 1) { d *= 2; if (d > 9) { d -= 9; } }
      sum += d;
    }
    return sum % 10 === 0;
  }
  number.addEventListener("input", function () {
    var digits = number.value.replace(/[\s-]/g, "");
    var full = /^3[47]/.test(digits) ? 15 : 16;
    if (/^\d+$/.test(digits) && digits.length === full && luhn(digits) && expiry.value === "") {
      expiry.focus();
    }
  });
});

// The search box is sent in the URL (and so in access logs): a card number typed there by mistake is not
// sent. The hint comes from the page (data-card-warning), in the agent's language.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-no-card-numbers]").forEach(guardSearch);
});

function guardSearch(form) {
  var input = form.querySelector("input[name=q]");
  form.addEventListener("submit", function (event) {
    var digits = input.value.replace(/[\s-]/g, "");
    if (!/^\d{13,19}$/.test(digits)) { return; }
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = parseInt(digits.charAt(digits.length - 1 - i), 10);
      if (i % 2 === 1) { d *= 2; if (d > 9) { d -= 9; } }
      sum += d;
    }
    if (sum % 10 !== 0) { return; }
    event.preventDefault();
    input.value = "";
    var note = form.querySelector(".card-warning") || document.getElementById("card-warning");
    note.hidden = false;
    input.focus();
  });
}

// Search as the agent types (issue 18 item 9): an input with data-live="ID" asks GET /search?q=… a
// moment after the last key and puts the fragment into element ID (the home page's results, or the
// header's pop-up). Enter still sends the form (a single match opens the customer). More than 6 digits
// are never sent while typing (a card number typed by mistake stays out of the URL and logs): Enter then.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-live]").forEach(liveSearch);
});

function liveSearch(input) {
  var box = document.getElementById(input.dataset.live);
  var form = input.form;
  var timer = null, asked = "", pending = null;
  function show(html) {
    box.innerHTML = html;
    box.hidden = html.trim() === "";
    document.querySelectorAll("[data-search-results]").forEach(function (s) { s.hidden = !box.hidden; });
  }
  function ask() {
    var text = input.value.trim();
    if (text === asked) { return; }
    asked = text;
    if (pending) { pending.abort(); }
    if (text.length < 2 || text.replace(/\D/g, "").length > 6) { show(""); return; }
    pending = new AbortController();
    fetch("/search?q=" + encodeURIComponent(text), { signal: pending.signal, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { if (input.value.trim() === text) { show(html); } })
      .catch(function () {});
  }
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 200); });
  input.addEventListener("keydown", function (event) {
    var links = box.querySelectorAll("a");
    if (event.key === "ArrowDown" && links.length && !box.hidden) { event.preventDefault(); links[0].focus(); }
    if (event.key === "Escape" && !box.hidden) { event.preventDefault(); show(""); asked = ""; }
  });
  box.addEventListener("keydown", function (event) {
    var links = Array.prototype.slice.call(box.querySelectorAll("a"));
    var at = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && at < links.length - 1) { event.preventDefault(); links[at + 1].focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); (at > 0 ? links[at - 1] : input).focus(); }
    if (event.key === "Escape") { show(""); asked = ""; input.focus(); }
  });
  if (box.classList.contains("live-popup")) {  // the header's pop-up closes when the focus leaves the form
    form.addEventListener("focusout", function (event) {
      if (!form.contains(event.relatedTarget)) { box.hidden = true; asked = ""; }
    });
  }
}

// A new card's expiry the server would refuse is caught before the form is sent, so the card number typed
// is never lost to a round trip (the server never sends a card number back). Runs first (capture phase).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var number = form.querySelector && form.querySelector("input[name=card_number]");
  var expiry = form.querySelector && form.querySelector("input[name=expiry]");
  if (!number || !expiry || number.value.trim() === "") { return; }
  var v = expiry.value.trim();
  var m = /^(\d{1,2})\s*\/\s*(\d{2}|\d{4})$/.exec(v) || /^(\d{2})(\d{2}|\d{4})$/.exec(v);
  if (m && +m[1] >= 1 && +m[1] <= 12) { return; }
  event.preventDefault();
  var note = document.getElementById("expiry-error");
  if (note) { note.hidden = false; }
  expiry.focus();
  expiry.select();
}, true);

// The continuity step: a start date typed in full (YYYY-MM-DD) refreshes the shipment preview in place
// (the page for that date, fetched; without JavaScript the "Show the shipments" button does the same).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-start-preview]");
  var field = document.getElementById("start_date");
  var shown = document.getElementById("start-date-shown");
  if (!form || !field || !window.fetch || !window.DOMParser) { return; }
  var asked = "";
  function refresh() {
    var value = field.value.trim();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || value === asked) { return; }
    asked = value;
    var url = new URL(window.location.href);
    url.searchParams.set("start", value);
    var schedule = form.querySelector("[name=payment_schedule_id]");
    url.searchParams.set("schedule", schedule ? schedule.value : "");
    fetch(url.toString(), { credentials: "same-origin" }).then(function (answer) {
      return answer.ok ? answer.text() : null;
    }).then(function (html) {
      if (html === null || asked !== value) { return; }
      var page = new DOMParser().parseFromString(html, "text/html");
      var fresh = page.getElementById("shipment-preview");
      var now = document.getElementById("shipment-preview");
      if (fresh && now) { now.innerHTML = fresh.innerHTML; }
      var freshShown = page.getElementById("start-date-shown");
      if (freshShown && shown) { shown.textContent = freshShown.textContent; }
    });
  }
  field.addEventListener("input", refresh);
  field.addEventListener("change", refresh);
});

// Keyboard shortcuts (issue 18 item 10): "/" the search box, "?" the list of shortcuts (a modal dialog),
// and each key a page offers on an element with data-shortcut="key" (the first one in the page): a link
// is followed, a field gets the focus, anything else is scrolled to and focused. Never while typing in a
// field (Escape leaves the field first), never with Ctrl, Alt or Meta, never while a dialog is open.
document.addEventListener("DOMContentLoaded", function () {
  var dialog = document.getElementById("shortcuts");
  if (!dialog) { return; }
  document.querySelectorAll("[data-open-shortcuts]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { dialog.showModal(); });
  });
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (document.querySelector("dialog[open]")) { return; }
    if (typing) {
      if (event.key === "Escape") { target.blur(); }
      return;
    }
    if (event.key === "?") { event.preventDefault(); dialog.showModal(); return; }
    var element = event.key === "/"
      ? document.getElementById("find") || document.getElementById("q")
      : document.querySelector('[data-shortcut="' + (/^[a-z]$/.test(event.key) ? event.key : "-") + '"]');
    if (!element) { return; }
    event.preventDefault();
    if (element.tagName === "A") { element.click(); return; }
    if (!/^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(element.tagName) && !element.hasAttribute("tabindex")) {
      element.setAttribute("tabindex", "-1");
    }
    element.scrollIntoView({ block: "start" });
    element.focus();
    if (element.select) { element.select(); }
  });
});
