// 受理回执: the print button (inline handlers are not allowed by the pages' CSP).
document.getElementById("print").addEventListener("click", () => window.print());
