// Selaras: small behaviours on top of htmx and Bootstrap.
// The Content-Security-Policy allows no inline script, so pages ask for behaviour with
// data attributes and the listeners below, delegated from the document so that content
// swapped in by htmx behaves the same without being wired up again.
// htmx 2 does not swap 4xx answers by default; a 422 carries a form error to show.
htmx.config.responseHandling = [
  { code: "204", swap: false },
  { code: "[23]..", swap: true },
  { code: "422", swap: true, error: false },
  { code: "[45]..", swap: false, error: true },
];
// A failed request (network down, server error) still tells the user something.
document.body.addEventListener("htmx:responseError", function () {
  const area = document.getElementById("flash-area");
  if (area) {
    area.innerHTML = '<div class="alert alert-danger" role="alert">' + area.dataset.errorText + "</div>";
  }
});
document.body.addEventListener("htmx:sendError", function () {
  const area = document.getElementById("flash-area");
  if (area) {
    area.innerHTML = '<div class="alert alert-danger" role="alert">' + area.dataset.offlineText + "</div>";
  }
});
// <select data-autosubmit>: choosing an option submits its form.
document.addEventListener("change", function (event) {
  const field = event.target;
  if (field.matches && field.matches("[data-autosubmit]") && field.form) {
    field.form.submit();
  }
});
// <form data-confirm="Question?">: nothing is sent unless the user agrees. Capture phase,
// so that the answer is known before htmx or anything else acts on the submit.
document.addEventListener(
  "submit",
  function (event) {
    const form = event.target;
    if (form.matches && form.matches("[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  },
  true,
);
// <div class="progress-bar" data-bar-width="42.5">: the bar's width in percent. A style
// attribute would need 'unsafe-inline' in the policy's style-src; setting the property
// from a script does not. Run at once for the page (this file loads at the end of the
// body, so the bars are there and get their width before the first paint) and again
// for every piece of content htmx swaps in.
function setBarWidths(root) {
  if (!root.querySelectorAll) {
    return;
  }
  const bars = Array.from(root.querySelectorAll("[data-bar-width]"));
  if (root.matches && root.matches("[data-bar-width]")) {
    bars.push(root);
  }
  bars.forEach(function (bar) {
    bar.style.width = bar.dataset.barWidth + "%";
  });
}
setBarWidths(document);
htmx.onLoad(setBarWidths);
// <div data-shown-with="span=days">: shown only while the form's choice "span" is "days"
// (e.g. whole days off, or from and until a time). Without scripts both stay visible.
function showChosenParts(root) {
  if (!root.querySelectorAll) {
    return;
  }
  root.querySelectorAll("[data-shown-with]").forEach(function (part) {
    const [name, value] = part.dataset.shownWith.split("=");
    const form = part.closest("form");
    const chosen = form && form.querySelector('input[name="' + name + '"]:checked');
    part.hidden = Boolean(chosen) && chosen.value !== value;
  });
}
document.addEventListener("change", function (event) {
  if (event.target.form && event.target.form.querySelector("[data-shown-with]")) {
    showChosenParts(event.target.form);
  }
});
showChosenParts(document);
htmx.onLoad(showChosenParts);
// A tap on Call or WhatsApp (leads.views_taps) logs the follow-up, then its answer asks the
// page to open the dialler (tel:, which leaves the page in place) or WhatsApp (in a new tab;
// where a blocker refuses one, in this tab).
document.body.addEventListener("selaras:open", function (event) {
  const url = event.detail.url;
  if (url.startsWith("tel:")) {
    window.location.href = url;
  } else if (url.startsWith("https://wa.me/")) {
    const opened = window.open(url, "_blank");
    if (opened) {
      opened.opener = null;
    } else {
      window.location.href = url;
    }
  }
});
// <a hx-get=… data-focus-after-swap="#heading">: once htmx has swapped the answer in, move
// the keyboard focus to that element of the new content (a tour's next step), so that a
// screen reader reads it and Tab goes on from there.
document.body.addEventListener("htmx:afterSettle", function (event) {
  const trigger = event.detail.requestConfig && event.detail.requestConfig.elt;
  const selector = trigger && trigger.dataset ? trigger.dataset.focusAfterSwap : "";
  const target = selector ? document.querySelector(selector) : null;
  if (target) {
    target.focus();
  }
});
