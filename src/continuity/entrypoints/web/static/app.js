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
  var form = document.querySelector("form[data-no-card-numbers]");
  if (!form) { return; }
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
    var note = document.getElementById("card-warning");
    note.hidden = false;
    input.focus();
  });
});

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
