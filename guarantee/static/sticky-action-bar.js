// The sticky action bar (guarantee/templates/_sticky_action_bar.html): hidden until a checkbox in
// its table's body is ticked, then "2 claims selected". Without this script the bar is always
// shown, and its buttons work the same.
const SELECTOR = '[data-module="app-sticky-action-bar"]';

// "2 claims selected" in the page's language: the bar gives a whole sentence for each plural
// category of it (data-selected-one, -two, -few, ...); without them, a number, a noun and "selected".
const plurals = new Intl.PluralRules(document.documentElement.lang || "en");

function said(bar, ticked) {
  const category = plurals.select(ticked);
  const key = `selected${category[0].toUpperCase()}${category.slice(1)}`;
  const sentence = bar.dataset[key] || bar.dataset.selectedOther;
  if (sentence) return sentence.replace("{n}", String(ticked));
  return `${ticked} ${ticked === 1 ? bar.dataset.nounOne : bar.dataset.nounOther} selected`;
}

function startOne(bar) {
  const table = document.getElementById(bar.dataset.table || "");
  if (!table || bar.hasAttribute("data-app-sticky-action-bar-init")) return;
  bar.setAttribute("data-app-sticky-action-bar-init", "");
  const status = bar.querySelector(".app-sticky-action-bar__status");
  // Told to screen readers as ticks change; outside the bar, which is hidden when none is ticked.
  const live = document.createElement("div");
  live.className = "govuk-visually-hidden";
  live.setAttribute("role", "status");
  bar.insertAdjacentElement("afterend", live);

  const update = () => {
    const ticked = table.querySelectorAll('tbody input[type="checkbox"]:checked').length;
    const words = said(bar, ticked);
    bar.hidden = ticked === 0;
    if (status) status.textContent = words;
    live.textContent = ticked === 0 ? "" : words;
  };
  table.addEventListener("change", update);
  // Back and forward keep ticks the browser restored.
  window.addEventListener("pageshow", update);
  update();
}

export function initStickyActionBars(scope = document) {
  scope.querySelectorAll(SELECTOR).forEach(startOne);
}
