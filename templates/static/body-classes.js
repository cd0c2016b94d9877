// Runs first thing in <body> (a file, not inline script: the Content-Security-Policy allows no inline script).
// GOV.UK Frontend styles and initialises its components only when these classes are present.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '')
