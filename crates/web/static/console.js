// Small progressive enhancement: copy buttons. Everything works without it.
document.addEventListener("click", function (ev) {
  var b = ev.target.closest("button.copy");
  if (!b) return;
  var el = document.getElementById(b.getAttribute("data-copy"));
  if (!el || !navigator.clipboard) return;
  navigator.clipboard.writeText(el.textContent.trim()).then(function () { b.textContent = "Copied"; });
});
// Certificate uploads: read the chosen file into the text box the form posts.
document.addEventListener("change", function (ev) {
  var input = ev.target;
  if (!input.matches || !input.matches("input[type=file][data-fill]") || !input.files || !input.files[0]) return;
  var target = document.getElementById(input.getAttribute("data-fill"));
  if (!target) return;
  input.files[0].text().then(function (t) { target.value = t; });
});
