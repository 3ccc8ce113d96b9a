// Browsers refuse fetch() to pages opened from a folder (file://), and Sphinx's search fetches each
// result page to show an excerpt of it: from a folder the search lists its results without excerpts.
if (window.location.protocol === "file:") {
  DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
}

// The theme's download button opens the notebook in a new tab; make it save the .ipynb instead.
document.addEventListener("DOMContentLoaded", () => {
  for (const link of document.querySelectorAll("a.btn-download-source-button")) {
    link.setAttribute("download", "");
  }
});
