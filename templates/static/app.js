import { initAll } from './govuk-frontend.min.js'
initAll()

// "Print this report" buttons (no inline script: the content security policy allows only this file).
for (const button of document.querySelectorAll('[data-print]')) {
  button.addEventListener('click', () => window.print())
}
