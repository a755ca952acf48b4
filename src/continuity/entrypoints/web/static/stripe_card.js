// CONTINUITY_GATEWAY=stripe: the card is typed into Stripe.js's own field (Stripe Elements), confirmed at
// Stripe against the page's SetupIntent; only the PaymentMethod id it returns is posted to our server.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-stripe-card]");
  if (!form || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.dataset.key);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var field = document.getElementById("payment_method");
  var saved = document.getElementById("saved_card");
  var error = document.getElementById("card-error");
  function failed(message) {
    error.textContent = message;
    error.hidden = false;
    delete form.dataset.sent;  // the agent may correct the card and submit again
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.removeAttribute("aria-busy"); });
  }
  form.addEventListener("submit", function (event) {
    if (field.value || (saved && saved.value)) { return; }  // a saved card, or the card already confirmed
    event.preventDefault();
    var button = event.submitter;  // form.submit() sends no button: keep its name=value (action=save)
    if (button && button.name && !form.querySelector("input[type=hidden][name='" + button.name + "']")) {
      var pressed = document.createElement("input");
      pressed.type = "hidden";
      pressed.name = button.name;
      pressed.value = button.value;
      form.appendChild(pressed);
    }
    Promise.resolve().then(function () {
      return stripe.confirmCardSetup(form.dataset.secret, {payment_method: {card: card}});
    }).then(function (result) {
      if (result.error || !result.setupIntent) {
        failed((result.error && result.error.message) || "The card was not accepted by the payment gateway.");
        return;
      }
      field.value = result.setupIntent.payment_method;
      form.submit();
    }, function () { failed("Type the card's number, expiry and security code first."); });
  });
});
