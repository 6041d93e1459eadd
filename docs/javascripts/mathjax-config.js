// MathJax reads this before it starts: typeset only what pymdownx.arithmatex (generic mode) marked as math,
// with the delimiters it writes, and nothing else on the page (code blocks keep their $ and backslashes).
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
    // an unknown macro is a TeX error (shown, and caught by tests/test_docs_browser.py), not quiet red text
    packages: {"[-]": ["noundefined"]},
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};
