// The officers' console only (console/base.html): MOJ Frontend's components and our sticky action
// bar. Progressive enhancement only: every console page works without JavaScript.
import { createAll } from "./build/govuk-frontend.min.js";
import { FilterToggleButton, initAll } from "./build/moj-frontend.min.js";
import { initStickyActionBars } from "./sticky-action-bar.js";

// Button menus and sortable tables, found by their data-module.
initAll();
// The filter panel of mojFilterLayout: beside the list on a wide screen, where "Hide filter" gives
// the list the whole width; behind "Show filter" on a narrow one. MOJ's initAll leaves it out.
createAll(FilterToggleButton, {
  bigModeMediaQuery: "(min-width: 48.0625em)",
  // Hidden on a narrow screen by the media query; startHidden would hide it on a wide one too.
  startHidden: false,
  toggleButton: { showText: "Show filter", hideText: "Hide filter", classes: "govuk-button--secondary" },
  closeButton: { text: "Close" },
});
initStickyActionBars();
