// The demo page's own script (a file, not inline, so the page works under its strict CSP).
document.getElementById("open-chat").addEventListener("click", function () {
  if (window.Baton) window.Baton.open();
});
var snippet = document.getElementById("snippet");
snippet.textContent = snippet.textContent.replace("https://support.example.com", location.origin);
