// An emailed invitation or reset link carries its code after "#", which the browser never sends to the server (so
// it reaches no access log). Put the code into the form and take it out of the address bar and history; the
// person then presses Continue, which POSTs it. The form is never sent by the script itself: a link on another
// site must not sign anyone out.
const field = document.querySelector('[data-link-code]')
const code = decodeURIComponent(window.location.hash.slice(1))
if (field && code) {
  field.value = code
  window.history.replaceState(null, '', window.location.pathname)
}
