// Paying an invoice by card: Stripe.js card fields, a SetupIntent confirmed in the browser, then the server
// creates and confirms the PaymentIntent; 3-D Secure is finished here and the server re-fetches the result.
// The page only ever shows what the server says; the invoice is settled by the server, never by this script.
(function () {
  "use strict";
  var form = document.getElementById("card-payment-form");
  if (!form || typeof window.Stripe !== "function") {
    return;
  }
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var stripe = window.Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card", { hidePostalCode: false });
  card.mount("#card-element");
  var button = document.getElementById("card-submit");
  var status = document.getElementById("card-status");
  var summary = document.getElementById("card-errors");
  // Each submit is a new attempt (a declined card is retried with another one); the button is disabled while one
  // is in flight, and the server's idempotency key per attempt makes a repeated request charge once.
  var tries = 0;

  function showError(message) {
    document.getElementById("card-error-text").textContent = message;
    document.getElementById("card-error-message").textContent = message;
    document.getElementById("card-error").hidden = false;
    document.getElementById("card-group").classList.add("govuk-form-group--error");
    summary.hidden = false;
    summary.focus();
    status.textContent = "";
    button.disabled = false;
  }

  function clearError() {
    summary.hidden = true;
    document.getElementById("card-error").hidden = true;
    document.getElementById("card-group").classList.remove("govuk-form-group--error");
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () {
        return { status: "error", message: "Something went wrong. You have not been charged. Try again." };
      });
    });
  }

  function finish(answer) {
    if (answer.status === "succeeded" || answer.status === "processing") {
      window.location.assign(answer.redirect);
      return null;
    }
    if (answer.status === "requires_action") {
      status.textContent = "Your bank wants to confirm this payment.";
      return stripe.confirmCardPayment(answer.client_secret).then(function () {
        // Whatever the browser says, the server asks Stripe.
        status.textContent = "Checking the payment with your bank…";
        return post(form.dataset.completeUrl, { payment: answer.payment }).then(finish);
      });
    }
    showError(answer.message || "The payment could not be taken. You have not been charged.");
    return null;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearError();
    button.disabled = true;
    tries += 1;
    status.textContent = "Checking your card…";
    post(form.dataset.setupUrl)
      .then(function (setup) {
        if (setup.status !== "ok") {
          showError(setup.message);
          return null;
        }
        return stripe.confirmCardSetup(setup.client_secret, { payment_method: { card: card } }).then(function (result) {
          if (result.error) {
            // Stripe's decline messages speak to the payer; its authentication failure (code
            // setup_intent_authentication_failure; the local fake gives neither code nor type) does not.
            var failedAuthentication =
              /authentication_failure$/.test(result.error.code || "") || (!result.error.code && !result.error.type);
            showError(
              failedAuthentication
                ? "Your bank did not confirm the card. You have not been charged. Try again, or use another card."
                : result.error.message || "Check your card details and try again."
            );
            return null;
          }
          var method = result.setupIntent.payment_method;
          status.textContent = "Taking the payment…";
          return post(form.dataset.chargeUrl, {
            payment_method: typeof method === "string" ? method : method.id,
            attempt: form.dataset.attempt + "-" + tries
          }).then(finish);
        });
      })
      .catch(function () {
        showError("We could not reach the card payment service. You have not been charged. Try again in a few minutes.");
      });
  });
})();
