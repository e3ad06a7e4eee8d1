// Selaras: small behaviours on top of htmx and Bootstrap.
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
