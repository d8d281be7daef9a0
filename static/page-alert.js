// The page's alert region (#page-alert in base.html) takes the one error answer aimed at it: a
// change refused because the session changed in another tab (articles.site.views.csrf_failure). htmx
// leaves other error answers unswapped, so an error page never lands in the article text.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.target?.id === "page-alert") event.detail.shouldSwap = true;
});
