// The officers' console only (console/base.html): MOJ Frontend's components and our sticky action
// bar. Progressive enhancement only: every console page works without JavaScript.
import { FilterToggleButton, initAll } from "./build/moj-frontend.min.js";
import { initStickyActionBars } from "./sticky-action-bar.js";

// Button menus and sortable tables, found by their data-module.
initAll();
// The filter panel of mojFilterLayout: beside the list on a wide screen, where "Hide filter" gives
// the list the whole width; behind "Show filter" on a narrow one. MOJ's initAll leaves it out.
// Its buttons' words are the page's (moj/filter.html gives them in the page's language).
for (const filter of document.querySelectorAll('[data-module="moj-filter"]')) {
  const said = filter.dataset;
  try {
    startFilter(filter, said);
  } catch (error) {
    console.log(error); // a browser GOV.UK Frontend does not support: the panel stays open, as without JavaScript
  }
}

function startFilter(filter, said) {
  new FilterToggleButton(filter, {
    bigModeMediaQuery: "(min-width: 48.0625em)",
    // Hidden on a narrow screen by the media query; startHidden would hide it on a wide one too.
    startHidden: false,
    toggleButton: {
      showText: said.appShowText || "Show filter",
      hideText: said.appHideText || "Hide filter",
      classes: "govuk-button--secondary",
    },
    closeButton: { text: said.appCloseText || "Close" },
  });
}
initStickyActionBars();
